"""`pip install ./bindings/python` offline, in a fresh virtual environment."""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

from util import HERE

PACKAGE_DIR = os.path.dirname(HERE)


def pip_available():
    return subprocess.run([sys.executable, "-m", "pip", "--version"],
                          capture_output=True).returncode == 0


@unittest.skipUnless(pip_available(), "pip is not installed for this interpreter")
class InstallTest(unittest.TestCase):
    def test_offline_install_in_a_fresh_venv(self):
        with tempfile.TemporaryDirectory() as tmp:
            venv = os.path.join(tmp, "venv")
            # --system-site-packages: numpy (a dependency) comes from the system, as on Debian
            r = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages",
                                "--without-pip", venv], capture_output=True, text=True)
            if r.returncode != 0:
                self.skipTest("venv is not available: " + r.stderr)
            python = os.path.join(venv, "bin", "python")
            env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_INDEX_URL")}
            r = subprocess.run([python, "-m", "pip", "install", "--no-index",
                                "--disable-pip-version-check", PACKAGE_DIR],
                               capture_output=True, text=True, env=env, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            probe = ("import importlib.metadata as m, json, prism; print(json.dumps("
                     "[prism.__file__, m.version('libprism'), prism.version()]))")
            r = subprocess.run([python, "-c", probe], capture_output=True, text=True, env=env,
                               cwd=tmp, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            path, dist_version, lib_version = json.loads(r.stdout)
            self.assertTrue(path.startswith(venv), path)  # the installed copy, not the tree
            self.assertEqual(dist_version, "0.1.0")
            self.assertEqual(lib_version, "0.1.0")

    def test_wheel_contents(self):
        sys.path.insert(0, os.path.join(PACKAGE_DIR, "_build"))
        try:
            import backend
        finally:
            sys.path.pop(0)
        with tempfile.TemporaryDirectory() as tmp:
            name = backend.build_wheel(tmp)
            self.assertEqual(name, "libprism-0.1.0-py3-none-any.whl")
            with zipfile.ZipFile(os.path.join(tmp, name)) as z:
                names = set(z.namelist())
                meta = z.read("libprism-0.1.0.dist-info/METADATA").decode()
        sources = {f"prism/{n}" for n in os.listdir(os.path.join(PACKAGE_DIR, "prism"))
                   if n.endswith(".py")}
        self.assertEqual({n for n in names if n.startswith("prism/")}, sources)
        self.assertIn("Name: libprism\n", meta)
        self.assertIn("Requires-Dist: numpy\n", meta)


if __name__ == "__main__":
    unittest.main()
