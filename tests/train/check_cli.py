#!/usr/bin/python3
"""`prism train` end to end.

    check_cli.py PRISM_CLI FIXTURES

- HF Trainer's ten steps (tiny-bart/train_run.json), runs `plain` and `smooth`, reproduced through
  `prism train --batching given`: the batches written as a given-batches file, the settings as
  flags. From --log: every step's lr exactly, loss and grad_norm within 1e-4 relative; from the
  saved model: every parameter within 1e-4 of train_run_<run>_final.safetensors (key-projection
  biases, whose gradient is zero but for rounding, within the sum of the learning rates).
- The saved folder is a HuggingFace checkpoint: config.json keeps the model's keys, the tied
  embedding is stored once, and `prism generate` loads it.
- --help exits 0 and lists every option; bad input is refused with a clear message: a malformed
  pairs line (its line number), an --init folder that is not BART, an output folder that is a file
  or a folder of something else, a sequence longer than the model's positions without --truncate.
- A resumed run is bit-identical to the uninterrupted one, and 1 and 2 threads give the same bits.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
from safetensors_np import read_safetensors  # noqa: E402

import numpy as np  # noqa: E402

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(cli, args, expect=0):
    proc = subprocess.run([cli, "train", "--quiet", *args], capture_output=True, text=True)
    if proc.returncode != expect:
        print(proc.stdout, proc.stderr)
    return proc


def write_batches(path, batches):
    with open(path, "w") as f:
        for b in batches:
            f.write(json.dumps({"input_ids": b["input_ids"], "labels": b["labels"]}) + "\n")


def fixture_flags(s, smoothing):
    return ["--batching", "given", "--steps", str(s["training_steps"]), "--grad-accum",
            str(s["gradient_accumulation"]), "--lr", repr(s["lr"]), "--warmup",
            str(s["warmup_steps"]), "--schedule", s["schedule"], "--weight-decay",
            repr(s["weight_decay"]), "--max-grad-norm", repr(s["max_grad_norm"]),
            "--dropout", "0", "--attention-dropout", "0", "--activation-dropout", "0",
            "--label-smoothing", repr(smoothing)]


def read_log(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def hf_run(cli, fixtures, tmp):
    with open(os.path.join(fixtures, "tiny-bart", "train_run.json")) as f:
        run_spec = json.load(f)
    batches = os.path.join(tmp, "batches.jsonl")
    write_batches(batches, run_spec["batches"])
    for name, spec in run_spec["runs"].items():
        out, log = os.path.join(tmp, f"out-{name}"), os.path.join(tmp, f"{name}.log")
        proc = run(cli, ["--init", os.path.join(fixtures, "tiny-bart"), "--train", batches,
                         "--out", out, "--log", log,
                         *fixture_flags(run_spec["settings"], spec["label_smoothing"])])
        check(proc.returncode == 0, f"{name}: prism train runs")
        if proc.returncode:
            continue
        steps = read_log(log)
        check(len(steps) == len(spec["steps"]), f"{name}: one log line per step")
        lr_exact = all(a["lr"] == b["lr"] for a, b in zip(steps, spec["steps"]))
        loss = max(abs(a["loss"] - b["loss"]) / b["loss"] for a, b in zip(steps, spec["steps"]))
        norm = max(abs(a["grad_norm"] - b["grad_norm"]) / b["grad_norm"]
                   for a, b in zip(steps, spec["steps"]))
        check(lr_exact, f"{name}: every lr exact")
        check(loss <= 1e-4, f"{name}: loss worst relative error {loss:.3g}")
        check(norm <= 1e-4, f"{name}: grad_norm worst relative error {norm:.3g}")
        got, meta = read_safetensors(os.path.join(out, "model.safetensors"))
        want, _ = read_safetensors(os.path.join(fixtures, "tiny-bart",
                                                f"train_run_{name}_final.safetensors"))
        lr_sum = sum(s["lr"] for s in spec["steps"])
        worst = max((float(np.max(np.abs(got[k] - want[k]))), k) for k in want
                    if not k.endswith("k_proj.bias"))
        noise = max(float(np.max(np.abs(got[k] - want[k]))) for k in want
                    if k.endswith("k_proj.bias"))
        check(worst[0] <= 1e-4, f"{name}: final parameters max |diff| {worst[0]:.3g} ({worst[1]})")
        check(noise <= lr_sum, f"{name}: k_proj biases (zero gradient) max |diff| {noise:.3g}")
        check(set(got) == set(want) | {"final_logits_bias"} and meta.get("format") == "pt",
              f"{name}: the tied embedding once, final_logits_bias, metadata format pt")
        with open(os.path.join(out, "config.json")) as f:
            config = json.load(f)
        with open(os.path.join(fixtures, "tiny-bart", "config.json")) as f:
            original = json.load(f)
        check(config == original, f"{name}: config.json keeps every key of the model's")
        gen = subprocess.run([cli, "generate", "--model", out], input='{"input_ids": [[0, 5, 2]]}\n',
                             capture_output=True, text=True)
        check(gen.returncode == 0 and "sequences" in gen.stdout,
              f"{name}: prism generate loads the saved model")


def bad_inputs(cli, fixtures, tmp):
    helptext = subprocess.run([cli, "train", "--help"], capture_output=True, text=True)
    options = ["--train", "--eval", "--init", "--config", "--tokenizer", "--out", "--epochs",
               "--steps", "--batch-size", "--lr", "--warmup", "--schedule", "--weight-decay",
               "--grad-accum", "--max-grad-norm", "--label-smoothing", "--dropout", "--eval-every",
               "--patience", "--seed", "--threads", "--resume", "--max-source-len",
               "--max-target-len", "--truncate", "--log", "--batching"]
    check(helptext.returncode == 0 and all(o in helptext.stdout for o in options)
          and "example" in helptext.stdout, "--help lists every option and an example, exit 0")
    tiny = os.path.join(fixtures, "tiny-bart")
    bad = os.path.join(tmp, "bad.jsonl")
    with open(bad, "w") as f:
        f.write('{"input_ids": [0, 5, 2], "labels": [0, 6, 2]}\n\n{"input_ids": [0, 5, 2]}\n')
    proc = run(cli, ["--init", tiny, "--train", bad, "--out", os.path.join(tmp, "o1")], expect=1)
    check(proc.returncode == 1 and "line 3" in proc.stderr, "a malformed line names its number")
    notbart = os.path.join(tmp, "t5")
    os.makedirs(notbart)
    with open(os.path.join(notbart, "config.json"), "w") as f:
        json.dump({"model_type": "t5"}, f)
    good = os.path.join(tmp, "good.jsonl")
    with open(good, "w") as f:
        f.write('{"input_ids": [0, 5, 2], "labels": [0, 6, 2]}\n')
    proc = run(cli, ["--init", notbart, "--train", good, "--out", os.path.join(tmp, "o2")],
               expect=1)
    check(proc.returncode == 1 and "not a BART" in proc.stderr and "t5" in proc.stderr,
          "an --init folder that is not BART is refused, saying so")
    afile = os.path.join(tmp, "afile")
    open(afile, "w").close()
    proc = run(cli, ["--init", tiny, "--train", good, "--out", afile, "--steps", "1"], expect=1)
    check(proc.returncode == 1 and "not a folder" in proc.stderr, "--out that is a file is refused")
    other = os.path.join(tmp, "other")
    os.makedirs(other)
    open(os.path.join(other, "notes.txt"), "w").close()
    proc = run(cli, ["--init", tiny, "--train", good, "--out", other, "--steps", "1"], expect=1)
    check(proc.returncode == 1 and "did not write" in proc.stderr
          and os.listdir(other) == ["notes.txt"], "--out that is someone else's folder is refused")
    link = os.path.join(tmp, "link")
    os.symlink(other, link)
    proc = run(cli, ["--init", tiny, "--train", good, "--out", link, "--steps", "1"], expect=1)
    check(proc.returncode == 1 and "symbolic link" in proc.stderr, "--out that is a symlink is refused")
    long = os.path.join(tmp, "long.jsonl")
    with open(long, "w") as f:
        f.write(json.dumps({"input_ids": [0] + [5] * 70 + [2], "labels": [0, 6, 2]}) + "\n")
    proc = run(cli, ["--init", tiny, "--train", long, "--out", os.path.join(tmp, "o3")], expect=1)
    check(proc.returncode == 1 and "line 1" in proc.stderr and "truncate" in proc.stderr,
          "a sequence over the model's positions is refused without --truncate")
    proc = run(cli, ["--init", tiny, "--train", long, "--out", os.path.join(tmp, "o4"),
                     "--truncate", "--steps", "1"])
    check(proc.returncode == 0, "... and cut with --truncate")
    diverge, many = os.path.join(tmp, "diverge"), os.path.join(tmp, "many.jsonl")
    pairs_file(many, 37, 1)
    proc = run(cli, ["--init", tiny, "--train", many, "--out", diverge, "--lr", "1e5", "--steps",
                     "50", "--save-every", "1"], expect=1)
    step = proc.stderr.split("step ")[1].split(":")[0] if "step " in proc.stderr else "?"
    last = os.path.join(diverge, f"checkpoint-{int(step) - 1}") if step.isdigit() else ""
    check(proc.returncode == 1 and ("NaN" in proc.stderr or "infinite" in proc.stderr)
          and last and last in proc.stderr
          and os.path.isfile(os.path.join(last, "model.safetensors")),
          f"a diverging run stops at step {step}, naming it, and keeps the last good checkpoint")


def pairs_file(path, n, seed):
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        for _ in range(n):
            src = [0] + rng.integers(4, 1000, rng.integers(2, 14)).tolist() + [2]
            tgt = [0] + rng.integers(4, 1000, rng.integers(1, 10)).tolist() + [2]
            f.write(json.dumps({"input_ids": src, "labels": tgt}) + "\n")


def same_bits(a, b):
    x, _ = read_safetensors(os.path.join(a, "model.safetensors"))
    y, _ = read_safetensors(os.path.join(b, "model.safetensors"))
    return set(x) == set(y) and all(np.array_equal(x[k].view(np.uint32), y[k].view(np.uint32))
                                    for k in x)


def resume_and_threads(cli, fixtures, tmp):
    tiny = os.path.join(fixtures, "tiny-bart")
    train, dev = os.path.join(tmp, "train.jsonl"), os.path.join(tmp, "dev.jsonl")
    pairs_file(train, 37, 1)
    pairs_file(dev, 9, 2)
    # 37 pairs in micro-batches of 4, 2 per step: 5 steps an epoch, 15 in all; dropout on.
    common = ["--init", tiny, "--train", train, "--eval", dev, "--epochs", "3", "--batch-size",
              "4", "--grad-accum", "2", "--lr", "1e-3", "--warmup", "3", "--weight-decay",
              "0.01", "--dropout", "0.1", "--attention-dropout", "0.1", "--activation-dropout",
              "0.1", "--label-smoothing", "0.1", "--eval-every", "4", "--schedule", "cosine"]
    full = os.path.join(tmp, "full")
    p = run(cli, [*common, "--out", full, "--threads", "1", "--log", full + ".log"])
    check(p.returncode == 0, "an uninterrupted run (1 thread)")
    if p.returncode:
        return
    want_log = [{k: v for k, v in line.items() if k not in ("tokens_per_second", "checkpoint")}
                for line in read_log(full + ".log")]
    two = os.path.join(tmp, "two")
    p = run(cli, [*common, "--out", two, "--threads", "2", "--log", two + ".log"])
    log2 = [{k: v for k, v in line.items() if k not in ("tokens_per_second", "checkpoint")}
            for line in read_log(two + ".log")]
    check(p.returncode == 0 and same_bits(full, two) and log2 == want_log,
          "2 threads: the same steps, evaluations and final weights, bit for bit")
    for stop in (5, 7):  # at an epoch's end, and inside an epoch after an evaluation
        part = os.path.join(tmp, f"part{stop}")
        p = run(cli, [*common, "--out", part, "--threads", "2", "--stop-after", str(stop),
                      "--log", part + ".log"])
        ckpt = os.path.join(part, f"checkpoint-{stop}")
        check(p.returncode == 0 and os.path.isdir(ckpt), f"--stop-after {stop} saves {ckpt}")
        if p.returncode:
            continue
        p = run(cli, ["--resume", ckpt, "--train", train, "--eval", dev, "--out", part,
                      "--threads", "2", "--log", part + ".log"])
        got = [{k: v for k, v in line.items() if k not in ("tokens_per_second", "checkpoint")}
               for line in read_log(part + ".log")]
        check(p.returncode == 0 and got == want_log and same_bits(full, part),
              f"resumed at step {stop}: the same steps and final weights as the uninterrupted run")
    stopped = os.path.join(tmp, "stopped")
    run(cli, [*common, "--out", stopped, "--stop-after", "2"])
    ckpt = os.path.join(stopped, "checkpoint-2")
    p = run(cli, ["--resume", ckpt, "--train", dev, "--out", stopped], expect=1)
    check(p.returncode == 1 and "differ" in p.stderr, "resuming on other pairs is refused")
    p = run(cli, ["--resume", ckpt, "--train", train, "--out", stopped, "--lr", "1"], expect=1)
    check(p.returncode == 1 and "--lr" in p.stderr, "changing a setting on resume is refused")


def main():
    cli, fixtures = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="prism-train-cli-")
    try:
        hf_run(cli, fixtures, tmp)
        bad_inputs(cli, fixtures, tmp)
        resume_and_threads(cli, fixtures, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
