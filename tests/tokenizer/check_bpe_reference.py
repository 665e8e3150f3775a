"""libprism's BPE trainer against the Python reimplementation of HF's BpeTrainer.

    check_bpe_reference.py PRISM_CLI

Generates a few hundred KB of seeded multilingual text (plain and JSON Lines),
trains with `prism tokenizer-train` and with bpe_reference.py under several
settings, and requires byte-identical vocab.json and merges.txt; also that the
files do not depend on --threads, and that --help works.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bpe_corpus  # noqa: E402
import bpe_reference  # noqa: E402

SETTINGS = [
    ("defaults", ["--vocab-size", "6000"]),
    ("exhaustive", ["--vocab-size", "100000", "--min-frequency", "0", "--corpus-alphabet",
                    "--special-tokens", ""]),
    ("limited", ["--vocab-size", "3000", "--min-frequency", "3", "--corpus-alphabet",
                 "--limit-alphabet", "150", "--special-tokens", "<s>,</s>,<s>,Ġthe"]),
]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def same_files(a, b):
    return all(read(os.path.join(a, n)) == read(os.path.join(b, n))
               for n in ("vocab.json", "merges.txt"))


def main(cli):
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        text = os.path.join(work, "text.txt")
        jsonl = os.path.join(work, "pairs.jsonl")
        with open(text, "w", encoding="utf-8", newline="") as f:
            f.write(bpe_corpus.generate(300_000, seed=3))
        with open(jsonl, "w", encoding="utf-8", newline="") as f:
            f.write(bpe_corpus.generate(150_000, seed=4, jsonl=True))
        runs = [(name, ["--input", text] + opts) for name, opts in SETTINGS]
        runs.append(("jsonl", ["--jsonl", jsonl, "--fields", "source,target",
                               "--vocab-size", "4000"]))
        for name, args in runs:
            ours, ref = os.path.join(work, name + "-prism"), os.path.join(work, name + "-ref")
            subprocess.run([cli, "tokenizer-train", "--out", ours] + args, check=True,
                           stderr=subprocess.DEVNULL)
            bpe_reference.main([ref] + args)
            ok = same_files(ours, ref)
            merges = read(os.path.join(ours, "merges.txt")).count(b"\n") - 1
            print("%-10s %6d merges  %s" % (name, merges, "identical" if ok else "DIFFERENT"))
            failures += not ok or merges < 500
        one, two = os.path.join(work, "t1"), os.path.join(work, "t2")
        for out, n in ((one, "1"), (two, "2")):
            subprocess.run([cli, "tokenizer-train", "--input", text, "--vocab-size", "5000",
                            "--threads", n, "--out", out], check=True, stderr=subprocess.DEVNULL)
        ok = same_files(one, two)
        print("threads 1 vs 2: %s" % ("identical" if ok else "DIFFERENT"))
        failures += not ok
        help_run = subprocess.run([cli, "tokenizer-train", "--help"], capture_output=True, text=True)
        ok = help_run.returncode == 0 and "--vocab-size N" in help_run.stdout
        print("--help: %s" % ("ok" if ok else "FAILED"))
        failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
