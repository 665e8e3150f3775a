#!/usr/bin/env python3
"""The one direction of libprism's module dependencies (docs/architecture.md).

    common <- linalg <- tokenizer, bart, ranker, metrics <- generate <- explain, train <- pipeline
        <- teacher

Checked two ways:
- includes: a file in lib/<m>/ includes standard headers, public <prism/*.h>
  headers, files of its own folder, and the faces of modules below it
  (common/*.h, linalg/linalg.h, <n>/<n>.h); never another module's
  <n>_internal.h, never a module at its level or above. The composition layers
  (explain, pipeline, teacher) include only public headers and common/. Examples and
  bindings include only public headers.
- calls: no object file of a module references a symbol defined by a module at
  its level or above (nm over the internal static library), so `common` calls
  nothing above it even through a declaration written by hand.

usage: check_layers.py SOURCE_ROOT [libprism_internal.a]
"""
import os
import re
import subprocess
import sys

LEVEL = {"common": 0, "linalg": 1, "tokenizer": 2, "bart": 2, "ranker": 2, "metrics": 2,
         "generate": 3, "explain": 4, "train": 4, "pipeline": 5, "teacher": 6}
COMPOSITION = {"explain", "pipeline", "teacher"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def include_problem(module, header, quoted):
    if not quoted or header.startswith("prism/"):
        return None
    if "/" not in header:
        return None  # its own folder
    owner, name = header.split("/", 1)
    if owner not in LEVEL:
        return f"includes {header}, which is not a libprism module header"
    if owner == module:
        return None
    if module in COMPOSITION and owner != "common":
        return f"is a composition layer and includes {header} (public headers and common/ only)"
    if LEVEL[owner] >= LEVEL[module]:
        return f"includes {header}: {owner} is not below {module}"
    if owner != "common" and name != f"{owner}.h":
        return f"includes {header}, not the face of {owner} ({owner}/{owner}.h)"
    return None


def check_includes(root):
    problems = []
    lib = os.path.join(root, "lib")
    for module in sorted(os.listdir(lib)):
        folder = os.path.join(lib, module)
        if not os.path.isdir(folder):
            continue
        if module not in LEVEL:
            problems.append(f"lib/{module}/ is not a known module: add it to the layer table")
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith((".c", ".h")):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                text = f.read()
            for kind, header in INCLUDE.findall(text):
                why = include_problem(module, header, kind == '"')
                if why:
                    problems.append(f"lib/{module}/{name} {why}")
    for top in ("examples", "bindings"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith((".c", ".h", ".cpp", ".hpp")):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as f:
                    for kind, header in INCLUDE.findall(f.read()):
                        if kind == '"' and "_internal.h" in header or header.split("/")[0] in LEVEL:
                            problems.append(f"{os.path.relpath(path, root)} includes {header}, "
                                            "an internal header (public <prism/*.h> only)")
    return problems


def module_of(member):
    # meson names objects <module>_<file>.c.o inside the static library
    for module in LEVEL:
        if member.startswith(module + "_"):
            return module
    return None


def check_calls(archive):
    out = subprocess.run(["nm", "-A", "--defined-only", archive], capture_output=True, text=True,
                         check=True).stdout
    defined = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtDdBbRr":
            module = module_of(parts[0].split(":")[-2].split("/")[-1])
            if module and parts[1].isupper():
                defined[parts[2]] = module
    out = subprocess.run(["nm", "-A", "--undefined-only", archive], capture_output=True,
                         text=True, check=True).stdout
    problems = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        member, symbol = parts[0].split(":")[-2].split("/")[-1], parts[-1]
        caller, callee = module_of(member), defined.get(symbol)
        if caller and callee and callee != caller and LEVEL[callee] >= LEVEL[caller]:
            problems.append(f"{member} ({caller}) calls {symbol} of {callee}, "
                            f"which is not below {caller}")
    return problems


def main():
    root = sys.argv[1]
    problems = check_includes(root)
    if len(sys.argv) > 2:
        problems += check_calls(sys.argv[2])
    for p in problems:
        print(p, file=sys.stderr)
    print(f"layers: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
