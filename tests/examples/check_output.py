#!/usr/bin/env python3
"""Run an example program and check what it prints.

usage: check_output.py PATTERN=COUNT [PATTERN=COUNT ...] -- PROGRAM [ARGS ...]
Each PATTERN (a Python regular expression matched against every output line)
must match exactly COUNT lines of standard output, and the program must exit 0.
"""
import re
import subprocess
import sys


def main():
    split = sys.argv.index("--")
    expectations = [arg.rsplit("=", 1) for arg in sys.argv[1:split]]
    run = subprocess.run(sys.argv[split + 1:], capture_output=True, text=True, timeout=280)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    failures = []
    if run.returncode != 0:
        failures.append(f"exit status {run.returncode}")
    lines = run.stdout.splitlines()
    for pattern, count in expectations:
        found = sum(1 for line in lines if re.fullmatch(pattern, line))
        if found != int(count):
            failures.append(f"{found} lines match {pattern!r}, expected {count}")
    for f in failures:
        print("check_output:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
