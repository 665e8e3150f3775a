#!/usr/bin/env python3
"""Retrain the demo student with libprism: the oracle as the teacher, prism tokenizer-train,
prism train. Writes model/ and training_report.json next to this script.

    python3 examples/demo/retrain.py [--prism build/examples/prism] [--threads 2] [--work DIR]

Every step is a command of the teacher -> student workflow (docs/train.md), printed before it
runs:

  1. situations     pairs.py writes (history, item, evidence) situations: 9,600 for training
                    (seed 1234), 300 for the dev set that picks the checkpoint (seed 2024)
  2. prompts        prism teacher-prompts: the teacher's prompt and the student's per situation
  3. the teacher    oracle.py answers each request, as a teacher LLM would
  4. import         prism teacher-import: (student prompt -> answer) pairs, noise filter on
  5. vocabulary     prism tokenizer-train on the training pairs
  6. training       prism train: a new BART from student/config.json, AdamW, cosine schedule,
                    evaluated on the dev pairs with their greedy outputs' exact match picking
                    the best checkpoint
  7. measuring      the held-out pairs of eval_student.py (seed 98765): teacher-forced loss and
                    token accuracy (through the Python bindings when they load), greedy exact
                    match (prism explain)

The report records the commands, the wall time of each step, the machine's load average during
training (sampled every 5 s from /proc/loadavg) and the figures. Standard library only; the
teacher-forced figures also need numpy (Debian's /usr/bin/python3 has it).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODEL_FILES = ("config.json", "generation_config.json", "model.safetensors", "vocab.json",
               "merges.txt")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, stdin=None, stdout=None):
    """Run a command (files for stdin/stdout), print it, return its wall time."""
    shown = " ".join(cmd) + (" < " + stdin if stdin else "") + (" > " + stdout if stdout else "")
    log("$ " + shown)
    began = time.monotonic()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as src, \
            open(stdout, "wb") if stdout else open(os.devnull, "wb") as dst:
        p = subprocess.run(cmd, stdin=src, stdout=dst if stdout else None)
    if p.returncode != 0:
        sys.exit("failed (exit %d): %s" % (p.returncode, shown))
    return shown, time.monotonic() - began


class LoadSampler(threading.Thread):
    """The 1-minute load average every `period` seconds while a step runs."""

    def __init__(self, period=5.0):
        super().__init__(daemon=True)
        self.period, self.samples, self.done = period, [], threading.Event()

    def run(self):
        while not self.done.is_set():
            with open("/proc/loadavg") as f:
                self.samples.append(float(f.read().split()[0]))
            self.done.wait(self.period)

    def stop(self):
        self.done.set()
        self.join()
        s = self.samples
        return {"samples": len(s), "min": min(s), "mean": round(sum(s) / len(s), 2),
                "max": max(s)}


def held_out_teacher_forced(prism_cli, model, pairs_path):
    """Loss and token accuracy of `model` on the pairs, through the bindings (None without)."""
    lib = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(prism_cli))), "lib",
                       "libprism.so")
    os.environ.setdefault("PRISM_LIB_PATH", lib)
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    try:
        import prism
    except (ImportError, OSError) as exc:
        log("held-out loss and accuracy skipped: the Python bindings do not load (%s)" % exc)
        return None
    pairs = prism.Pairs.load(pairs_path, tokenizer=prism.Tokenizer(model))
    with prism.Trainer(model=model, batch_size=64) as t:
        loss, accuracy = t.evaluate(pairs)
    return {"loss": round(loss, 5), "token_accuracy": round(accuracy, 5)}


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prism", default=os.path.join(ROOT, "build", "examples", "prism"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--lr", default="2e-3")
    ap.add_argument("--work", help="keep the intermediate files here (default: a temporary folder)")
    ap.add_argument("--model-dir", default=os.path.join(HERE, "model"))
    ap.add_argument("--report", default=os.path.join(HERE, "training_report.json"))
    args = ap.parse_args()
    prism = args.prism
    tmp = None if args.work else tempfile.TemporaryDirectory()
    work = args.work or tmp.name
    os.makedirs(work, exist_ok=True)
    w = lambda name: os.path.join(work, name)  # noqa: E731
    py = sys.executable
    commands, seconds = [], {}

    def step(name, cmd, stdin=None, stdout=None):
        shown, took = run(cmd, stdin, stdout)
        commands.append(shown.replace(work, "$WORK").replace(ROOT + os.sep, ""))
        seconds[name] = round(seconds.get(name, 0.0) + took, 1)

    began = time.monotonic()
    for name, seed, count in (("train", 1234, 9600), ("dev", 2024, 300), ("heldout", 98765, 300)):
        step("data", [py, os.path.join(HERE, "pairs.py"), "--seed", str(seed), "--count",
                      str(count)], stdout=w(name + ".situations.jsonl"))
        step("data", [prism, "teacher-prompts"], w(name + ".situations.jsonl"),
             w(name + ".requests.jsonl"))
        step("data", [py, os.path.join(HERE, "oracle.py")], w(name + ".requests.jsonl"),
             w(name + ".answers.jsonl"))
        step("data", [prism, "teacher-import", "--requests", w(name + ".requests.jsonl"),
                      "--answers", w(name + ".answers.jsonl"), "--catalog",
                      os.path.join(HERE, "catalog.tsv"), "--drop-hallucinated", "--out",
                      w(name + ".pairs.jsonl")], stdout=w(name + ".import.json"))
    step("tokenizer", [prism, "tokenizer-train", "--jsonl", w("train.pairs.jsonl"),
                       "--vocab-size", "1000", "--out", w("tokenizer"), "--threads", "1"])
    with open(os.path.join(HERE, "student", "config.json")) as f:
        vocab_size = json.load(f)["vocab_size"]
    with open(w("tokenizer/vocab.json")) as f:
        learned = len(json.load(f))
    if learned != vocab_size:
        sys.exit("the vocabulary has %d tokens, student/config.json says %d: update it"
                 % (learned, vocab_size))
    train_cmd = [prism, "train", "--config", os.path.join(HERE, "student", "config.json"),
                 "--generation-config", os.path.join(HERE, "student", "generation_config.json"),
                 "--tokenizer", w("tokenizer"), "--train", w("train.pairs.jsonl"),
                 "--eval", w("dev.pairs.jsonl"), "--eval-generate", "300",
                 "--best-metric", "exact_match", "--eval-every", "150", "--batching", "shuffle",
                 "--epochs", str(args.epochs), "--batch-size", "64", "--lr", args.lr,
                 "--warmup", "100", "--schedule", "cosine", "--weight-decay", "0.01",
                 "--seed", "1234", "--threads", str(args.threads), "--quiet",
                 "--log", w("train.log.jsonl"), "--out", w("run")]
    if os.path.exists(w("train.log.jsonl")):
        os.remove(w("train.log.jsonl"))
    if os.path.exists(w("run")):
        shutil.rmtree(w("run"))
    sampler = LoadSampler()
    sampler.start()
    step("train", train_cmd, stdout=w("train.summary.json"))
    load = sampler.stop()
    total = time.monotonic() - began

    os.makedirs(args.model_dir, exist_ok=True)
    for name in MODEL_FILES:
        shutil.copyfile(os.path.join(w("run"), name), os.path.join(args.model_dir, name))
    steps = read_jsonl(w("train.log.jsonl"))
    summary = json.load(open(w("train.summary.json")))
    per_epoch = -(-9600 // 64)
    evals = [{k: (round(v, 5) if isinstance(v, float) else v) for k, v in s.items()
              if k in ("step", "loss", "eval_loss", "eval_accuracy", "eval_exact_match",
                       "eval_bleu4", "eval_rouge_l_f", "best")}
             for s in steps if "eval_loss" in s]
    report = {
        "trainer": "libprism prism train (tests/bench/train_student.py is the PyTorch peer)",
        "commands": commands,
        "threads": args.threads,
        "cpus": os.cpu_count(),
        "load_average_1min_during_training": load,
        "wall_seconds": dict(seconds, total=round(total, 1)),
        "train_minutes": round(seconds["train"] / 60.0, 1),
        "train_pairs": len(read_jsonl(w("train.pairs.jsonl"))),
        "dev_pairs": len(read_jsonl(w("dev.pairs.jsonl"))),
        "import": json.load(open(w("train.import.json"))),
        "epochs": args.epochs,
        "steps": summary["steps"],
        "final_train_loss": round(sum(s["loss"] for s in steps[-per_epoch:]) / per_epoch, 5),
        "best_step": summary["best_step"],
        "best_dev_exact_match": summary["best_metric"],
        "evaluations": evals,
        "checkpoint_bytes": os.path.getsize(os.path.join(args.model_dir, "model.safetensors")),
        "previous": {"trainer": "PyTorch (train_student.py)", "train_minutes": 26.3,
                     "threads": 1, "epochs": 5, "steps": 750},
    }
    teacher_forced = held_out_teacher_forced(prism, args.model_dir, w("heldout.pairs.jsonl"))
    if teacher_forced:
        report["held_out"] = teacher_forced
    p = subprocess.run([py, os.path.join(HERE, "eval_student.py"), "--prism", prism, "--model",
                        args.model_dir], capture_output=True, text=True)
    if p.returncode == 0:
        ev = json.loads(p.stdout)
        report.setdefault("held_out", {})["exact_match_greedy"] = ev["exact_match"]
        report["held_out"]["bleu4"] = round(ev["scores"]["bleu4"], 2)
        report["held_out"]["hallucination_rate"] = round(
            ev["scores"]["faithfulness"]["hallucination_rate"], 4)
    with open(args.report, "w", encoding="utf-8", newline="\n") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(json.dumps({k: v for k, v in report.items() if k not in ("commands", "evaluations")},
                     indent=2))
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
