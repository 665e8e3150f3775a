#!/usr/bin/env python3
"""libprism as a meson subproject, found by a bare dependency('prism') through a wrap file.

usage: subproject.py MESON SOURCE_ROOT

Writes the project README.md and docs/getting-started.md describe: subprojects/prism.wrap with
`[provide] prism = prism_dep` (the source tree itself stands in for the checkout the wrap would
make), a meson.build asking for dependency('prism'), then configures, builds and runs it.
"""
import os
import subprocess
import sys
import tempfile

APP = """#include <prism/prism.h>
#include <stdio.h>

int main(void)
{
  printf("libprism %s\\n", prism_version_string());
  return 0;
}
"""


def main():
    meson, root = sys.argv[1], os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "subprojects"))
        os.symlink(root, os.path.join(tmp, "subprojects", "prism"))
        with open(os.path.join(tmp, "subprojects", "prism.wrap"), "w") as f:
            f.write(f"[wrap-git]\nurl = {root}\nrevision = HEAD\ndepth = 1\n\n"
                    "[provide]\nprism = prism_dep\n")
        with open(os.path.join(tmp, "meson.build"), "w") as f:
            f.write("project('app', 'c')\n"
                    "prism_dep = dependency('prism', default_options: ['tests=false'])\n"
                    "executable('app', 'app.c', dependencies: prism_dep)\n")
        with open(os.path.join(tmp, "app.c"), "w") as f:
            f.write(APP)
        steps = [[meson, "setup", "build", "--wrap-mode=nodownload"],
                 [meson, "compile", "-C", "build", "app"],
                 [os.path.join(tmp, "build", "app")]]
        for step in steps:
            r = subprocess.run(step, cwd=tmp, capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                print(r.stdout[-4000:], r.stderr[-4000:])
                print("FAIL " + " ".join(step))
                return 1
        ok = r.stdout.startswith("libprism ")
        print(("ok   " if ok else "FAIL ") + "dependency('prism') resolved to the subproject: "
              + r.stdout.strip())
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
