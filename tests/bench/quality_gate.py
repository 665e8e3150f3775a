#!/usr/bin/python3
"""Reduced-precision weights against float32: the quality gate of docs/performance.md.

    /usr/bin/python3 tests/bench/quality_gate.py [--prism build/examples/prism]
                                                 [--count 300] [--modes bf16,int8]
                                                 [--check] [--no-bleu]

For each mode (PRISM_BART_LOAD_BF16_WEIGHTS, PRISM_BART_LOAD_INT8_WEIGHTS) against the
float32 path of the same build:

- teacher-forced top-1 agreement: over every target position, the share where the
  mode's arg-max token is float32's, and the largest logit difference relative to
  max(1, max |logit|). On tests/fixtures/tiny-bart-copy (seeded inputs of ids 4..127,
  what it was trained to copy, the input as the target) and on the demo student
  (examples/demo/model: the held-out prompts of eval_student.py, the oracle's
  explanations as the targets);
- greedy outputs identical to float32's: on tiny-bart-copy the generated sequences,
  on the demo student the explanation texts of `prism explain` (its greedy defaults);
- BLEU-4 and ROUGE-L F of the demo student against the oracle, float32 and the mode
  (examples/demo/eval_student.py, which scores with `prism eval-text`).

Runs the Python bindings against the library beside --prism (PRISM_LIB_PATH overrides).
Prints one JSON object. With --check, exits 1 when a mode misses the thresholds of
THRESHOLDS (the gate the tests hold: tests/demo/meson.build runs it on 60 prompts).
"""
import argparse
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEMO = os.path.join(ROOT, "examples", "demo")
FIXTURES = os.environ.get("PRISM_FIXTURES") or os.path.join(ROOT, "tests", "fixtures")

# The gate: what every reduced mode must keep against float32.
THRESHOLDS = {
    "copy_top1": 0.99,        # tiny-bart-copy, teacher-forced
    "copy_identical": 1.0,    # tiny-bart-copy, greedy sequences
    "demo_top1": 0.98,        # the demo student, teacher-forced on the oracle's texts
    "demo_identical": 0.90,   # the demo student, greedy explanations
    "demo_bleu4_drop": 1.0,   # BLEU-4 points below float32's, at most
}


def bindings(prism):
    lib = os.environ.get("PRISM_LIB_PATH") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(prism))), "lib")
    os.environ["PRISM_LIB_PATH"] = lib
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    import prism as p
    return p


def teacher_forced(P, model_dir, weights, batches):
    """Logits of every batch (input ids, mask, decoder input ids) under `weights`."""
    with P.Bart(model_dir, weights=weights) as m, m.session() as s:
        out = []
        for ids, mask, dec in batches:
            s.encode(ids, mask)
            out.append(s.forward(dec))
        return out


def agreement(ref, got, masks):
    """Share of target positions with the same arg-max, and the largest relative difference."""
    import numpy as np
    same = total = 0
    worst = 0.0
    for r, g, keep in zip(ref, got, masks):
        a, b = r.argmax(-1), g.argmax(-1)
        same += int(((a == b) & keep).sum())
        total += int(keep.sum())
        scale = max(1.0, float(np.abs(r).max()))
        worst = max(worst, float(np.abs(r - g).max()) / scale)
    return same / total, worst


def pad(rows, value):
    import numpy as np
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), value, np.int32)
    mask = np.zeros((len(rows), width), np.int32)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
        mask[i, :len(r)] = 1
    return ids, mask


def copy_batches(count, seed=11):
    """Seeded copy inputs <s> ids </s> (ids 4..127), target = the input."""
    rng = random.Random(seed)
    rows = [[0] + [rng.randrange(4, 128) for _ in range(rng.randrange(6, 14))] + [2]
            for _ in range(count)]
    batches, masks = [], []
    for at in range(0, len(rows), 16):
        chunk = rows[at:at + 16]
        ids, mask = pad(chunk, 1)
        dec, keep = pad([[2] + r[:-1] for r in chunk], 1)
        batches.append((ids, mask, dec))
        masks.append(keep.astype(bool))
    return rows, batches, masks


def demo_batches(P, count):
    sys.path.insert(0, DEMO)
    import pairs
    tok = P.Tokenizer(os.path.join(DEMO, "model"))
    examples = pairs.make_examples(98765, count)
    batches, masks = [], []
    for at in range(0, len(examples), 16):
        chunk = examples[at:at + 16]
        ids, mask = pad([list(tok.encode(p)) for _, p, _ in chunk], tok.pad_token_id)
        targets = [list(tok.encode(o)) for _, _, o in chunk]
        dec, keep = pad([[2] + t[:-1] for t in targets], tok.pad_token_id)
        batches.append((ids, mask, dec))
        masks.append(keep.astype(bool))
    return examples, batches, masks


def copy_generate(P, weights, rows):
    with P.Bart(os.path.join(FIXTURES, "tiny-bart-copy"), weights=weights) as m, \
            m.session() as s:
        out = []
        for r in rows:
            out.append(s.generate([r]).sequences[0].tolist())
        return out


def eval_student(prism, count, extra):
    out = subprocess.run([sys.executable, os.path.join(DEMO, "eval_student.py"), "--prism",
                          prism, "--count", str(count), "--explain-args=" + extra],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def explain_texts(prism, count, extra):
    sys.path.insert(0, DEMO)
    import pairs
    examples = pairs.make_examples(98765, count)
    lines = "".join(json.dumps({"text": p}) + "\n" for _, p, _ in examples)
    out = subprocess.run([prism, "explain", "--model", os.path.join(DEMO, "model"), "--threads",
                          "1", *extra.split()], input=lines, capture_output=True, text=True,
                         check=True).stdout
    return [json.loads(line)["explanations"][0] for line in out.splitlines()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prism", default=os.path.join(ROOT, "build", "examples", "prism"))
    ap.add_argument("--count", type=int, default=300, help="held-out demo prompts (and copy "
                    "inputs)")
    ap.add_argument("--modes", default="bf16,int8")
    ap.add_argument("--check", action="store_true", help="exit 1 below the THRESHOLDS")
    ap.add_argument("--no-bleu", action="store_true", help="skip eval_student.py")
    args = ap.parse_args()
    P = bindings(args.prism)
    flags = {"bf16": "--bf16-weights", "int8": "--int8-weights"}

    copy_rows, copy_in, copy_keep = copy_batches(args.count)
    demo_examples, demo_in, demo_keep = demo_batches(P, args.count)
    copy_dir, demo_dir = os.path.join(FIXTURES, "tiny-bart-copy"), os.path.join(DEMO, "model")
    ref = {"copy": teacher_forced(P, copy_dir, "f32", copy_in),
           "demo": teacher_forced(P, demo_dir, "f32", demo_in)}
    ref_copy_seqs = copy_generate(P, "f32", copy_rows)
    ref_texts = explain_texts(args.prism, args.count, "")
    report = {"count": args.count, "thresholds": THRESHOLDS, "modes": {}}
    if not args.no_bleu:
        report["f32"] = {"demo": eval_student(args.prism, args.count, "")["scores"]}
    failed = []
    for mode in args.modes.split(","):
        r = {}
        r["copy_top1"], r["copy_max_rel_diff"] = agreement(
            ref["copy"], teacher_forced(P, copy_dir, mode, copy_in), copy_keep)
        r["demo_top1"], r["demo_max_rel_diff"] = agreement(
            ref["demo"], teacher_forced(P, demo_dir, mode, demo_in), demo_keep)
        seqs = copy_generate(P, mode, copy_rows)
        r["copy_identical"] = sum(a == b for a, b in zip(seqs, ref_copy_seqs)) / len(seqs)
        texts = explain_texts(args.prism, args.count, flags[mode])
        r["demo_identical"] = sum(a == b for a, b in zip(texts, ref_texts)) / len(texts)
        if not args.no_bleu:
            scores = eval_student(args.prism, args.count, flags[mode])["scores"]
            r["demo_bleu4"] = scores["bleu4"]
            r["demo_rouge_l_f"] = scores["rouge_l_f_score"]
            r["demo_bleu4_drop"] = report["f32"]["demo"]["bleu4"] - scores["bleu4"]
        for key, limit in THRESHOLDS.items():
            if key not in r:
                continue
            ok = r[key] <= limit if key.endswith("_drop") else r[key] >= limit
            if not ok:
                failed.append(f"{mode}: {key} = {r[key]:.4f} (threshold {limit})")
        report["modes"][mode] = r
    report["failed"] = failed
    print(json.dumps(report, indent=2))
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
