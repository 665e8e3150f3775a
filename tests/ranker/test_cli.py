#!/usr/bin/env python3
"""Black-box checks of `prism rank train|recommend|eval` (argv[1]: the prism binary)."""
import gzip
import json
import os
import stat
import subprocess
import sys
import tempfile

PRISM = sys.argv[1]


def run(*args, stdin=None):
    return subprocess.run([PRISM, *args], capture_output=True, text=True, input=stdin)


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
            check(r.returncode == 1 and r.stdout == "" and '"nobody"' in r.stderr,
                  "every --users id is checked before any output: " + r.stderr)
            r = run("rank", "recommend", "--model", model, "--k", "4", "--users", "user 1,user 2")
            check(r.returncode == 0, "recommend: " + r.stderr)
            out = [json.loads(x) for x in r.stdout.splitlines()]
            check(len(out) == 2, "one line per requested user")
            check(out[0]["user"] == "user 1" and len(out[0]["items"]) == 4 and len(out[0]["scores"]) == 4,
                  "recommend line shape")
            seen = {l.split("\t")[1] for l in lines if l.startswith("user 1\t")}
            check(not seen & set(out[0]["items"]), "seen items excluded")
            check(out[1]["user"] == "user 2", "users in the order asked")
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
        check_inputs(tmp, lines, model)
        check_outputs(tmp, train)
        check_divergence(tmp)
    print("prism rank CLI: all checks passed")


def recommend_all(model):
    r = run("rank", "recommend", "--model", model, "--k", "5")
    check(r.returncode == 0, "recommend: " + r.stderr)
    return r.stdout


def train_ok(*args, stdin=None):
    r = run("rank", "train", *args, "--factors", "8", "--iterations", "3", "--seed", "3",
            "--threads", "1", stdin=stdin)
    check(r.returncode == 0, "train %s: %s" % (args, r.stderr))


def check_inputs(tmp, lines, model):
    """CSV with a header, other separators, gzip and standard input train the same model."""
    train_ok("--interactions", os.path.join(tmp, "train.tsv"), "--out", model)
    want = recommend_all(model)
    rows = [l.split("\t") for l in lines]
    csv = "userId,movieId,rating,timestamp,extra\n" + "".join(
        '"%s",%s,%s,%s,x\n' % (u, i, v, t) for u, i, v, t in rows)
    semi = "".join("%s;%s;%s;%s\n" % (u, i, v, t) for u, i, v, t in rows)
    paths = {"csv": os.path.join(tmp, "ratings.csv"), "gz": os.path.join(tmp, "ratings.csv.gz"),
             "semi": os.path.join(tmp, "semi.txt")}
    with open(paths["csv"], "w") as f:
        f.write(csv)
    with gzip.open(paths["gz"], "wt") as f:
        f.write(csv)
    with open(paths["semi"], "w") as f:
        f.write(semi)
    other = os.path.join(tmp, "other.safetensors")
    for args, stdin, what in ((["--interactions", paths["csv"]], None, "CSV with a header"),
                              (["--interactions", paths["gz"]], None, "gzip CSV"),
                              (["--interactions", "-"], csv, "CSV on standard input"),
                              (["--interactions", paths["semi"], "--sep", ";", "--no-header"], None,
                               "--sep ;")):
        train_ok(*args, "--out", other, stdin=stdin)
        check(recommend_all(other) == want, what + " trains the same model as the TSV")
    r = run("rank", "train", "--interactions", paths["csv"], "--out", other, "--sep", "\t")
    check(r.returncode == 1 and "ratings.csv:1:" in r.stderr, "a wrong --sep is named: " + r.stderr)
    r = run("rank", "train", "--interactions", paths["csv"], "--out", other, "--header",
            "--no-header")
    check(r.returncode == 1 and "not both" in r.stderr, "--header with --no-header refused")
    r = run("rank", "eval", "--model", model, "--test", "-", "--k", "3", stdin=csv)
    check(r.returncode == 0 and json.loads(r.stdout)["users"] == 60, "eval reads - too")


def check_outputs(tmp, train):
    """--out replaces a regular file (through a symlink, keeping the link) and refuses the rest."""
    target = os.path.join(tmp, "v1.safetensors")
    link = os.path.join(tmp, "latest.safetensors")
    train_ok("--interactions", train, "--out", target)
    os.chmod(target, 0o640)
    os.symlink("v1.safetensors", link)
    train_ok("--interactions", train, "--out", link)
    check(os.path.islink(link) and os.readlink(link) == "v1.safetensors", "the symlink survives")
    check(stat.S_IMODE(os.stat(target).st_mode) == 0o640, "a replaced model keeps its mode")
    fifo = os.path.join(tmp, "pipe")
    os.mkfifo(fifo)
    r = run("rank", "train", "--interactions", train, "--out", fifo)
    check(r.returncode == 1 and "FIFO" in r.stderr, "a FIFO is refused: " + r.stderr)
    check(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO is left alone")
    dev = os.path.join(tmp, "stdout")
    os.symlink("/dev/null", dev)
    r = run("rank", "train", "--interactions", train, "--out", dev)
    check(r.returncode == 1 and "character device" in r.stderr, "a device is refused: " + r.stderr)
    check(os.path.islink(dev), "the link to a device is left alone")
    r = run("rank", "train", "--interactions", train, "--out", tmp)
    check(r.returncode == 1 and "directory" in r.stderr, "a directory is refused")
    fresh = os.path.join(tmp, "fresh.safetensors")
    old = os.umask(0o022)
    try:
        train_ok("--interactions", train, "--out", fresh)
    finally:
        os.umask(old)
    check(stat.S_IMODE(os.stat(fresh).st_mode) == 0o644, "a new model honours the umask")
    leftovers = [n for n in os.listdir(tmp) if ".tmp." in n]
    check(not leftovers, "no temporary files left: %s" % leftovers)


def check_divergence(tmp):
    """A diverged ALS names ALS and what diverged, with its own status."""
    huge = os.path.join(tmp, "huge.tsv")
    with open(huge, "w") as f:
        for u in range(20):
            for i in range(5):
                f.write("u%d\ti%d\t3e38\n" % (u, (u + i) % 30))
    r = run("rank", "train", "--interactions", huge, "--out", os.path.join(tmp, "x.safetensors"),
            "--alpha", "1e30", "--iterations", "50")
    check(r.returncode == 1 and "PRISM_ERR_NUMERIC" in r.stderr
          and "ALS training diverged at iteration 1" in r.stderr and "learning" not in r.stderr
          and "iteration 1/50" not in r.stderr, "ALS divergence: " + r.stderr)


main()
