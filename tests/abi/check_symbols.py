#!/usr/bin/env python3
"""The exported symbols, the version script and the PRISM_API declarations agree.

usage: check_symbols.py LIBPRISM.so libprism.map INCLUDE_DIR SONAME
- the library's SONAME is SONAME;
- every dynamic symbol the library defines starts with prism_ and is in the map;
- every symbol in the map is exported;
- every PRISM_API declaration in the public headers is exported, and every
  export is declared PRISM_API in a public header.
"""
import pathlib
import re
import subprocess
import sys


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] in "TDBRVW":
            names.add(parts[2].split("@")[0])
    return names


def mapped(path):
    text = re.sub(r"/\*.*?\*/", "", pathlib.Path(path).read_text(), flags=re.S)
    names = set()
    for block in re.findall(r"global:(.*?)(?:local:|\})", text, flags=re.S):
        names.update(n.strip() for n in block.split(";") if n.strip())
    return names


def declared(include_dir):
    names = set()
    for header in pathlib.Path(include_dir).glob("*.h"):
        text = re.sub(r"/\*.*?\*/", "", header.read_text(), flags=re.S)
        text = re.sub(r"^\s*#.*?(?<!\\)$", "", text, flags=re.M)
        for decl in re.findall(r"PRISM_API\s+([^;{]*?)\(", text):
            names.add(re.findall(r"(\w+)\s*$", decl)[0])
    return names


def soname(lib):
    out = subprocess.run(["readelf", "-d", lib], check=True, capture_output=True, text=True).stdout
    found = re.findall(r"\(SONAME\)\s+Library soname: \[(.*?)\]", out)
    return found[0] if found else None


def main():
    lib, mapfile, include_dir, want_soname = sys.argv[1:5]
    exp, mp, dec = exported(lib), mapped(mapfile), declared(include_dir)
    errors = []
    if soname(lib) != want_soname:
        errors.append(f"SONAME is {soname(lib)}, expected {want_soname}")
    errors += [f"exported without the prism_ prefix: {n}" for n in sorted(exp) if not n.startswith("prism_")]
    errors += [f"exported but not in {mapfile}: {n}" for n in sorted(exp - mp)]
    errors += [f"in the map but not exported: {n}" for n in sorted(mp - exp)]
    errors += [f"declared PRISM_API but not exported: {n}" for n in sorted(dec - exp)]
    errors += [f"exported but not declared PRISM_API in a public header: {n}" for n in sorted(exp - dec)]
    for e in errors:
        print(e)
    print(f"{len(exp)} exported, {len(mp)} mapped, {len(dec)} declared")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
