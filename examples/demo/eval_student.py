#!/usr/bin/env python3
"""Measure the demo student: its explanations for held-out prompts, scored by `prism eval-text`.

    python3 examples/demo/eval_student.py [--prism build/examples/prism] [--model DIR]
                                          [--seed 98765] [--count 300] [--out DIR]
                                          [--explain-args "--int8-weights"]

The held-out set is retrain.py's: pairs.make_pairs(98765, 300) (the training
pairs come from seed 1234, the development pairs that pick the checkpoint from
seed 2024). The student explains every prompt with `prism explain` and the
model's own decoding defaults (generation_config.json: greedy), one prompt per
line; `prism eval-text` then scores the explanations
against the oracle's (BLEU, ROUGE, USR) and checks which catalog titles they name
against the titles each prompt showed (history and evidence) and the recommended
item. Prints one JSON object; --out keeps the inputs and outputs of both commands;
--explain-args passes more options to `prism explain` (e.g. --int8-weights).
Standard library only.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import pairs  # noqa: E402


def run(cmd, stdin_path, stdout_path):
    with open(stdin_path, "rb") as src, open(stdout_path, "wb") as dst:
        p = subprocess.run(cmd, stdin=src, stdout=dst, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(cmd), p.stderr.decode(errors="replace")))
    return p.stderr.decode(errors="replace")


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prism", default=os.path.join(ROOT, "build", "examples", "prism"))
    ap.add_argument("--model", default=os.path.join(HERE, "model"))
    ap.add_argument("--seed", type=int, default=98765, help="the held-out seed of retrain.py")
    ap.add_argument("--count", type=int, default=300, help="held-out pairs")
    ap.add_argument("--out", help="keep prompts, explanations and scores in this folder")
    ap.add_argument("--explain-args", default="",
                    help="more `prism explain` options, e.g. \"--int8-weights\"")
    args = ap.parse_args()

    examples = pairs.make_examples(args.seed, args.count)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or tmp
        os.makedirs(out, exist_ok=True)
        path = lambda name: os.path.join(out, name)  # noqa: E731
        write_jsonl(path("prompts.jsonl"), [{"text": p} for _, p, _ in examples])
        run([args.prism, "explain", "--model", args.model, "--threads", "1",
             *shlex.split(args.explain_args)],
            path("prompts.jsonl"), path("explanations.jsonl"))
        students = [row["explanations"][0] for row in read_jsonl(path("explanations.jsonl"))]
        if len(students) != len(examples):
            sys.exit("prism explain answered %d of %d prompts" % (len(students), len(examples)))
        write_jsonl(path("eval.jsonl"), [
            {"reference": oracle, "hypothesis": student, "item": f.item.title,
             "grounded": [e.title for e in f.history + f.evidence]}
            for (f, _, oracle), student in zip(examples, students)])
        warnings = run([args.prism, "eval-text", "--catalog", os.path.join(HERE, "catalog.tsv"),
                        "--samples", path("samples.jsonl")],
                       path("eval.jsonl"), path("scores.json"))
        with open(path("scores.json"), encoding="utf-8") as f:
            scores = json.load(f)
        samples = read_jsonl(path("samples.jsonl"))

    exact = sum(s == o for s, (_, _, o) in zip(students, examples))
    hallucinations = [{"prompt": examples[s["line"] - 1][1], "student": students[s["line"] - 1],
                       "titles": s["titles"]} for s in samples if s["hallucinated"]]
    print(json.dumps({"held_out": {"seed": args.seed, "count": args.count},
                      "exact_match": round(exact / len(examples), 4),
                      "scores": scores, "eval_text_warnings": warnings.strip() or None,
                      "hallucinations": hallucinations}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
