#!/usr/bin/env python3
"""Every PRISM_API function of the public headers is documented in docs/api.md.

usage: check_api_docs.py INCLUDE_DIR API_MD
A function counts as documented when docs/api.md names it in backticks, with or
without its parentheses; names in the reference that no header declares are
reported too, so the reference cannot keep a removed function.
"""
import pathlib
import re
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from check_symbols import declared  # noqa: E402  (one parser of the headers)


def documented(api_md):
    text = pathlib.Path(api_md).read_text(encoding="utf-8")
    return set(re.findall(r"`(prism_\w+)(?:\(\))?`", text))


def main():
    include_dir, api_md = sys.argv[1:3]
    functions = declared(include_dir)
    names = documented(api_md)
    errors = [f"{api_md}: {n} is not documented" for n in sorted(functions - names)]
    # Types and macros are named too; only call-like mentions must be real functions.
    text = pathlib.Path(api_md).read_text(encoding="utf-8")
    called = set(re.findall(r"`(prism_\w+)\(\)`", text))
    errors += [f"{api_md}: {n}() is not a public function" for n in sorted(called - functions)]
    for e in errors:
        print(e)
    print(f"{len(functions & names)}/{len(functions)} public functions documented")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
