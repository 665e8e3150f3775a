#!/usr/bin/env python3
"""Black-box checks of `prism explain` and `prism demo` on the demo student.

usage: cli_explain.py PRISM DEMO_DIR
"""
import json
import subprocess
import sys

PROMPT = ("history: The Glass Letters (literary drama); Witness at Ashby Hall (mystery); Winter Hours "
          "(literary drama) | item: Orchard in August (literary drama) | evidence: Winter Hours "
          "(literary drama); The Glass Letters (literary drama)")
ORACLE = ("You clearly love literary dramas: Winter Hours and The Glass Letters. Orchard in August "
          "is another quiet literary drama for your shelf.")

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(args, stdin=""):
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=300)


def main():
    prism, demo = sys.argv[1], sys.argv[2]
    model = demo + "/model"
    lines = [json.dumps({"text": PROMPT}),
             "not json",
             json.dumps({"texts": [PROMPT, PROMPT], "params": {"num_beams": 2}}),
             json.dumps({"text": 5}),
             json.dumps({"text": PROMPT, "params": {"num_beams": 0}}),
             json.dumps({"texts": [PROMPT], "params": {"num_beams": 2, "num_return_sequences": 2}})]
    r = run([prism, "explain", "--model", model], "\n".join(lines) + "\n")
    out = [json.loads(l) for l in r.stdout.splitlines()]
    check(r.returncode == 0 and len(out) == len(lines), "explain answers every line")
    check(out[0] == {"explanations": [ORACLE]}, "explain reproduces the documented oracle sentence")
    check(out[1].get("error", {}).get("code") == "PRISM_ERR_FORMAT", "bad JSON gets an error line")
    check(len(out[2].get("explanations", [])) == 2, "texts gives one explanation each")
    check(out[3].get("error", {}).get("code") == "PRISM_ERR_INVALID_ARGUMENT", "non-string text refused")
    check("num_beams" in out[4].get("error", {}).get("message", ""), "bad params named")
    check(len(out[5].get("explanations", [])) == 2, "num_return_sequences per text")

    r = run([prism, "explain", "--model", demo + "/nonexistent"])
    check(r.returncode == 1 and r.stderr.startswith("prism: error:"), "unloadable model exits 1")

    r = run([prism, "demo", "--data", demo, "--users", "u002,u010", "--k", "2"])
    check(r.returncode == 0, "demo runs")
    check(r.stdout.count("explanation: ") == 4, "demo explains k items per user")
    check("user u002" in r.stdout and "user u010" in r.stdout, "demo shows the chosen users")
    check("prism demo --model DIR --data DIR" in r.stdout, "demo says how to use your own model")
    r2 = run([prism, "demo", "--data", demo, "--users", "u002,u010", "--k", "2", "--threads", "1"])
    check(r2.stdout.splitlines()[1:] == r.stdout.splitlines()[1:], "demo output is deterministic")
    r = run([prism, "demo", "--data", demo, "--users", "nobody"])
    check(r.returncode == 1 and "unknown user" in r.stderr, "demo refuses an unknown user")
    # --users takes ids, never a count: "1" is the user with id 1 (the demo data has none).
    r = run([prism, "demo", "--data", demo, "--users", "1"])
    check(r.returncode == 1 and 'unknown user "1"' in r.stderr and r.stdout == "",
          "demo --users 1 means the id 1, not the first user")
    r = run([prism, "demo", "--data", demo, "--users", "u002,nosuch"])
    check(r.returncode == 1 and r.stdout == "" and '"nosuch"' in r.stderr,
          "demo checks every user before any output")
    r = run([prism, "demo", "--data", demo, "--first", "2", "--k", "1"])
    check(r.returncode == 0 and r.stdout.count("explanation: ") == 2
          and "user u001" in r.stdout and "user u002" in r.stdout, "demo --first N: the first N users")
    r = run([prism, "demo", "--data", demo, "--first", "2", "--users", "u001"])
    check(r.returncode == 1 and "not both" in r.stderr, "demo refuses --first with --users")
    r = run([prism, "demo", "--data", "/nonexistent"])
    check(r.returncode == 1 and r.stderr.startswith("prism: error:"), "demo refuses a missing data dir")
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
