#!/usr/bin/env python3
"""Black-box checks of `prism rank train|recommend|eval` (argv[1]: the prism binary)."""
import json
import os
import subprocess
import sys
import tempfile

PRISM = sys.argv[1]


def run(*args):
    return subprocess.run([PRISM, *args], capture_output=True, text=True)


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        train = os.path.join(tmp, "train.tsv")
        test = os.path.join(tmp, "test.tsv")
        model = os.path.join(tmp, "model.safetensors")
        lines, held = [], []
        for u in range(60):
            group = u % 3
            for j in range(12):
                item = "item-%d" % (group * 20 + (u + j) % 20)
                (held if j >= 10 else lines).append("user %d\t%s\t%d\t%d" % (u, item, 1 + j % 5, 880000000 + j))
        with open(train, "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(test, "w") as f:
            f.write("\n".join(held + ["stranger\titem-1\t3"]) + "\n")

        for algo in ("als", "bpr", "mf"):
            r = run("rank", "train", "--interactions", train, "--out", model, "--algo", algo,
                    "--factors", "8", "--iterations", "5", "--seed", "3", "--threads", "1")
            check(r.returncode == 0, "train %s: %s" % (algo, r.stderr))
            check("iteration 5/5" in r.stderr, "progress on stderr")

            r = run("rank", "recommend", "--model", model, "--k", "4", "--users", "user 1,nobody,user 2")
            check(r.returncode == 0, "recommend: " + r.stderr)
            out = [json.loads(x) for x in r.stdout.splitlines()]
            check(len(out) == 3, "one line per requested user")
            check(out[0]["user"] == "user 1" and len(out[0]["items"]) == 4 and len(out[0]["scores"]) == 4,
                  "recommend line shape")
            seen = {l.split("\t")[1] for l in lines if l.startswith("user 1\t")}
            check(not seen & set(out[0]["items"]), "seen items excluded")
            check(out[1]["error"]["code"] == "PRISM_ERR_NOT_FOUND", "unknown user is an error line")
            check(out[0]["scores"] == sorted(out[0]["scores"], reverse=True), "scores descend")

            r = run("rank", "recommend", "--model", model, "--k", "4", "--exclude-seen", test)
            out = [json.loads(x) for x in r.stdout.splitlines()]
            check(len(out) == 60, "all users by default")
            extra = {(l.split("\t")[0], l.split("\t")[1]) for l in held}
            check(all((o["user"], i) not in extra for o in out for i in o["items"]), "--exclude-seen applied")

            r = run("rank", "eval", "--model", model, "--test", test, "--k", "5")
            check(r.returncode == 0, "eval: " + r.stderr)
            m = json.loads(r.stdout)
            check(m["users"] == 60 and m["skipped_users"] == 1 and m["k"] == 5, "eval counts")
            check(all(0.0 <= m[k] <= 1.0 for k in ("precision", "recall", "ndcg", "map")), "metric ranges")
            check(("rmse" in m) == (algo == "mf"), "rmse only for mf")

        bad = os.path.join(tmp, "bad.tsv")
        with open(bad, "w") as f:
            f.write("a\tb\t1\na\tc\tNaN\n")
        r = run("rank", "train", "--interactions", bad, "--out", os.path.join(tmp, "never.safetensors"))
        check(r.returncode == 1 and "bad.tsv:2:" in r.stderr, "malformed line named: " + r.stderr)
        check(not os.path.exists(os.path.join(tmp, "never.safetensors")), "nothing written on failure")
        r = run("rank", "recommend", "--model", model, "--k", "0")
        check(r.returncode != 0 and "--k" in r.stderr, "k <= 0 rejected")
        r = run("rank", "recommend", "--model", train, "--k", "3")
        check(r.returncode == 1 and r.stderr.startswith("prism: error:"), "non-model file rejected")
        r = run("rank", "frobnicate")
        check(r.returncode == 2, "unknown subcommand")
    print("prism rank CLI: all checks passed")


main()
