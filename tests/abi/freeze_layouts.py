#!/usr/bin/env python3
"""Write tests/abi/test_layouts.c: every public struct's size and field offsets, frozen.

A released layout never changes: fields are only appended, and growth that hides in
tail padding is caught by the offsets, not only the size. Run this once when a release
adds structs (`freeze_layouts.py SOURCE_ROOT`): it keeps every block already in
test_layouts.c exactly as it is and appends blocks for structs that have none.
"""
import os
import re
import subprocess
import sys
import tempfile

STRUCT = re.compile(r"typedef struct (prism_\w+) \{(.*?)\} \1;", re.S)
FIELD = re.compile(r"([A-Za-z_][\w\s\*]*?[\s\*])(\w+)\s*(\[[^\]]*\])?\s*;")
BEGIN = "/* ---- %s ---- */"


def structs(include):
    found = []
    for name in sorted(os.listdir(include)):
        if not name.endswith(".h"):
            continue
        with open(os.path.join(include, name)) as f:
            text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
        for m in STRUCT.finditer(text):
            fields = [fm.group(2) for fm in FIELD.finditer(m.group(2))]
            found.append((name, m.group(1), fields))
    return found


def measure(root, todo):
    src = ["#include <stddef.h>", "#include <stdio.h>", "#include <prism/prism.h>"]
    for header in sorted({h for h, _, _ in todo}):
        src.append(f"#include <prism/{header}>")
    src.append("int main(void) {")
    for _, name, fields in todo:
        src.append(f'  printf("{name} size %zu\\n", sizeof({name}));')
        for field in fields:
            src.append(f'  printf("{name} {field} %zu\\n", offsetof({name}, {field}));')
    src.append("  return 0;\n}")
    with tempfile.TemporaryDirectory() as tmp:
        c, exe = os.path.join(tmp, "m.c"), os.path.join(tmp, "m")
        with open(c, "w") as f:
            f.write("\n".join(src))
        version = os.path.join(root, "build", "include")
        subprocess.run(["cc", "-I", os.path.join(root, "include"), "-I", version, c, "-o", exe],
                       check=True)
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    values = {}
    for line in out.splitlines():
        name, key, value = line.split()
        values[(name, key)] = int(value)
    return values


def block(name, fields, values):
    lines = [BEGIN % name,
             f"_Static_assert(sizeof({name}) == {values[(name, 'size')]}, \"{name} size\");"]
    for field in fields:
        lines.append(f"_Static_assert(offsetof({name}, {field}) == {values[(name, field)]}, "
                     f"\"{name}.{field}\");")
    return "\n".join(lines) + "\n"


HEAD = """/*
 * Every released layout of the public structs, frozen (LP64). Generated once
 * per release by tests/abi/freeze_layouts.py, which appends blocks for new
 * structs and never rewrites old ones: a failing assert here means a released
 * struct changed, which breaks every program built against it.
 */
#include <stddef.h>
#include <stdint.h>

#include <prism/prism.h>

#if UINTPTR_MAX == 0xffffffffffffffffu && SIZE_MAX == UINTPTR_MAX
/* clang-format off */

"""
TAIL = """
/* clang-format on */
#endif

int main(void)
{
  return 0;
}
"""


def main():
    root = sys.argv[1]
    path = os.path.join(root, "tests", "abi", "test_layouts.c")
    old = open(path).read() if os.path.exists(path) else ""
    kept = re.findall(r"/\* ---- prism_\w+ ---- \*/\n.*?\n(?=\n)", old, flags=re.S)
    done = {re.match(r"/\* ---- (prism_\w+)", b).group(1) for b in kept}
    todo = [s for s in structs(os.path.join(root, "include", "prism")) if s[1] not in done]
    values = measure(root, todo) if todo else {}
    blocks = kept + [block(name, fields, values) for _, name, fields in todo]
    with open(path, "w") as f:
        f.write(HEAD + "\n".join(blocks) + TAIL)
    print(f"{len(kept)} layouts kept, {len(todo)} added: {', '.join(n for _, n, _ in todo)}")


if __name__ == "__main__":
    main()
