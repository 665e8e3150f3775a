#!/usr/bin/python3
"""Run a command and print {"peak_rss_mib": N} for it (from wait4) as the last line of stderr.

    peak_rss.py COMMAND [ARGS...]      (stdin, stdout and the exit status pass through)
"""
import json
import os
import subprocess
import sys

proc = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps({"peak_rss_mib": usage.ru_maxrss / 1024.0}), file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
