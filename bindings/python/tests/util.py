"""Paths shared by the binding tests."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
FIXTURES = os.environ.get("PRISM_FIXTURES", os.path.join(ROOT, "tests", "fixtures"))
DEMO = os.path.join(ROOT, "examples", "demo")
VOCAB = os.path.join(FIXTURES, "bart-vocab")
MODEL = os.path.join(DEMO, "model")
TINY = os.path.join(FIXTURES, "tiny-bart-copy")


def run_python(code, timeout=240):
    """Run code in a fresh interpreter with this one's environment: a crash (a signal) shows up
    as a failing return code instead of taking the test process down."""
    import subprocess
    import sys
    import textwrap
    import prism
    env = os.environ.copy()  # the same prism package as this process, wherever it came from
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(prism.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in [env.get("PYTHONPATH")] if p])
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=HERE)
