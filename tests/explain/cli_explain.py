#!/usr/bin/env python3
"""Black-box checks of `prism explain` and `prism demo` on the demo student.

usage: cli_explain.py PRISM DEMO_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

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


def write_movie_data(folder):
    """A few MovieLens titles and 20 readers: on these, a student that may repeat itself
    writes "The The The The ..." for users 2, 4 and others."""
    import random
    rng = random.Random(3)
    movies = [("1", "Toy Story (1995)", "Animation|Children's|Comedy"),
              ("2", "GoldenEye (1995)", "Action|Adventure|Thriller"),
              ("3", "Four Rooms (1995)", "Thriller"), ("4", "Get Shorty (1995)", "Action|Comedy|Drama"),
              ("5", "Copycat (1995)", "Crime|Drama|Thriller"),
              ("6", "Shanghai Triad (Yao a yao yao dao waipo qiao) (1995)", "Drama"),
              ("7", "Twelve Monkeys (1995)", "Drama|Sci-Fi"),
              ("8", "Babe (1995)", "Children's|Comedy|Drama"), ("9", "Dead Man Walking (1995)", "Drama"),
              ("10", "Richard III (1995)", "Drama|War"), ("11", "Seven (Se7en) (1995)", "Crime|Thriller"),
              ("12", "Usual Suspects, The (1995)", "Crime|Thriller"),
              ("13", "Mighty Aphrodite (1995)", "Comedy"), ("14", "Postino, Il (1994)", "Drama|Romance"),
              ("15", "Mr. Holland's Opus (1995)", "Drama")]
    with open(os.path.join(folder, "catalog.tsv"), "w") as f:
        f.write("item_id\ttitle\tgenres\n")
        f.writelines("\t".join(m) + "\n" for m in movies)
    with open(os.path.join(folder, "interactions.tsv"), "w") as f:
        t = 881250949
        for u in range(1, 21):
            for m in rng.sample(movies, 8):
                t += rng.randint(-100000, 100000)
                f.write(f"{u}\t{m[0]}\t{rng.randint(1, 5)}\t{t}\n")


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
    r = run([prism, "demo", "--data", demo, "--first", "1", "--k", "1"])
    check(r.returncode == 0 and "warning" not in r.stderr, "no warning on the demo data")

    # The demo student on a catalog it was not trained for: a plain warning, and no runaway loop.
    with tempfile.TemporaryDirectory() as tmp:
        write_movie_data(tmp)
        r = run([prism, "demo", "--data", tmp, "--model", model, "--first", "20", "--k", "2"])
        check(r.returncode == 0 and "warning: --model is the demo student" in r.stderr
              and "fluent nonsense" in r.stderr, "demo warns: the demo student on another catalog")
        texts = [line for line in r.stdout.splitlines() if "explanation: " in line]
        check(len(texts) == 40 and not any("The The The The The The" in t for t in texts),
              "no explanation repeats itself without end (no_repeat_ngram_size 5)")
    r = run([prism, "demo", "--data", "/nonexistent"])
    check(r.returncode == 1 and r.stderr.startswith("prism: error:"), "demo refuses a missing data dir")
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
