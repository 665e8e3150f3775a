#!/usr/bin/env python3
"""The installed tree works by itself, from any folder.

usage: install.py MESON BUILD_DIR SOURCE_ROOT PREFIX BINDIR LIBDIR DATADIR SANITIZE

Installs the build into a temporary staging folder (meson install --destdir), then with a
clean environment (no LD_LIBRARY_PATH):
- runs the installed `prism version` (its RUNPATH finds the installed library);
- runs the installed `prism demo` on the installed demo data;
- builds the first C and C++ programs of docs/getting-started.md against the installed
  headers and library through pkg-config (prism.pc from the installed libdir) and runs them,
  and the first Python program on the installed library, from an unrelated folder on the
  installed demo data (`pkg-config --variable=demodir prism`). Sanitizer builds skip this
  part: an instrumented library needs its runtime loaded first.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

failures = []


def check(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond or not detail else f": {detail}"))
    if not cond:
        failures.append(what)


def run(args, env=None, cwd=None, timeout=300):
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def staged(dest, prefix, folder):
    return os.path.join(dest + prefix, folder) if not os.path.isabs(folder) else dest + folder


def first_block(doc, lang):
    m = re.search(r"^```" + lang + r"\n(.*?)^```", doc, flags=re.S | re.M)
    return m.group(1) if m else None


def main():
    meson, build, root, prefix, bindir, libdir, datadir, sanitize = sys.argv[1:9]
    clean = {"PATH": "/usr/bin:/bin"}
    with tempfile.TemporaryDirectory() as tmp:
        dest = os.path.join(tmp, "stage")
        r = run([meson, "install", "-C", build, "--destdir", dest, "--no-rebuild", "--quiet"])
        check(r.returncode == 0, "meson install --destdir", r.stderr)
        if r.returncode != 0:
            return 1
        prism = os.path.join(staged(dest, prefix, bindir), "prism")
        lib = staged(dest, prefix, libdir)
        demo = os.path.join(staged(dest, prefix, datadir), "prism", "demo")

        r = run([prism, "version"], env=clean, cwd=tmp)
        check(r.returncode == 0 and r.stdout.startswith("libprism "),
              "the installed prism runs without LD_LIBRARY_PATH", r.stderr)
        r = run([prism, "demo", "--data", demo, "--first", "1", "--k", "1"], env=clean, cwd=tmp)
        check(r.returncode == 0 and "explanation: " in r.stdout,
              "the installed prism demo runs on the installed demo data", r.stderr)

        # pkg-config resolves the staged tree when its prefix is redefined to the staging one.
        pc = os.path.join(lib, "pkgconfig")
        check(os.path.exists(os.path.join(pc, "prism.pc")), f"prism.pc is in {libdir}/pkgconfig")
        pkg = ["pkg-config", "--define-variable=prefix=" + dest + prefix]
        env = dict(clean, PKG_CONFIG_PATH=pc)
        flags = run(pkg + ["--cflags", "--libs", "prism"], env=env)
        demodir = run(pkg + ["--variable=demodir", "prism"], env=env).stdout.strip()
        check(flags.returncode == 0, "pkg-config --cflags --libs prism", flags.stderr)
        check(demodir == demo, f"pkg-config --variable=demodir prism is the installed demo data "
              f"({demodir!r})")
        with open(os.path.join(root, "docs", "getting-started.md"), encoding="utf-8") as f:
            doc = f.read()
        elsewhere = os.path.join(tmp, "elsewhere")
        os.mkdir(elsewhere)
        if sanitize != "none":
            print("sanitizer build: the first programs are not run")
            return 1 if failures else 0
        for lang, compiler, std in (("c", "cc", "-std=c11"), ("cpp", "c++", "-std=c++11")):
            code = first_block(doc, lang)
            check(code is not None, f"getting-started.md has a first {lang} program")
            if code is None or not shutil.which(compiler):
                continue
            src = os.path.join(tmp, "first." + lang)
            exe = os.path.join(tmp, "first_" + lang)
            with open(src, "w") as f:
                f.write(code)
            r = run([compiler, std, "-o", exe, src] + flags.stdout.split() +
                    ["-Wl,-rpath," + lib], env=clean)
            check(r.returncode == 0, f"the first {lang} program builds against the installed tree",
                  r.stderr)
            if r.returncode != 0:
                continue
            r = run([exe, demodir], env=clean, cwd=elsewhere)
            check(r.returncode == 0 and r.stdout.strip() != "",
                  f"the first {lang} program runs from another folder", r.stdout + r.stderr)
        code = first_block(doc, "python")
        check(code is not None, "getting-started.md has a first python program")
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        has_numpy = run([python, "-c", "import numpy"]).returncode == 0
        if code is not None and has_numpy:
            src = os.path.join(tmp, "first.py")
            with open(src, "w") as f:
                f.write(code)
            env = dict(clean, PYTHONPATH=os.path.join(root, "bindings", "python"),
                       PRISM_LIB_PATH=os.path.join(lib, "libprism.so.0"),
                       PYTHONDONTWRITEBYTECODE="1")
            r = run([python, src, demodir], env=env, cwd=elsewhere)
            check(r.returncode == 0 and r.stdout.strip() != "",
                  "the first python program runs from another folder", r.stdout + r.stderr)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
