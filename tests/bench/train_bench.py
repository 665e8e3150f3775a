#!/usr/bin/python3
"""BART training throughput: libprism's trainer vs the PyTorch peer, side by side, as JSON.

    /usr/bin/python3 tests/bench/train_bench.py [--prism BUILD/examples/prism] [--threads 2]
                                                [--steps 8] [--workloads demo,base] [--profile]

Both sides train the same model on the same micro-batches, in the same order, with the same
thread count and settings: AdamW (lr 1e-4, weight decay 0.01 but not on biases and LayerNorm),
global-norm clipping at 1.0, the model's dropouts. The peer is tests/bench/torch_bart.py (HF
BartForConditionalGeneration semantics) with torch.optim.AdamW, each step as HF's Trainer runs
it: forward, backward, clip_grad_norm_, optimizer.step(), zero_grad(). libprism runs through its
Python bindings (the same library `prism train` uses).

Both run as servers that take one optimiser step per request, and are asked in turn, so noise
from other work on the machine falls on both alike; before each request the driver waits 0.3 s, so
that the idle threads of the side that just ran (OpenBLAS's spin for about 0.1 s) do not slow the
other. Each step is timed inside its process. Per
side: target tokens per second (median over the steps after the first two), ms per step, and
the peak RSS of a whole process (for libprism, of `prism train` on the same work); the ratios
libprism/peer. --profile also times every SGEMM call (the gemm_timer.so shim) for each side's
share of step time spent in GEMMs (libprism's GEMM tiles run on every pool thread at once, so its
thread-seconds are divided by the thread count).

Workloads: `demo` — examples/demo/model (0.85 M parameters), batch 32, source 96, target 40;
`base` — a bart-base-shaped checkpoint (make_bart_checkpoint.py, 140 M parameters), batch 8,
source 64, target 32.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BASE_MODEL = "/tmp/prism-bench-bart-base"
SETTLE_S = 0.3
SETTINGS = {"learning_rate": 1e-4, "weight_decay": 0.01, "max_grad_norm": 1.0}

WORKLOADS = {
    "demo": {"model": os.path.join(ROOT, "examples", "demo", "model"), "batch": 32, "source": 96,
             "target": 40},
    "base": {"model": BASE_MODEL, "batch": 8, "source": 64, "target": 32},
}


def make_batches(path, vocab, batch, source, target, count, seed):
    """`count` full micro-batches of seeded ids <s> ... </s> (no padding: every token counts)."""
    state = seed
    with open(path, "w") as f:
        for _ in range(count):
            rows = {}
            for key, length in (("input_ids", source), ("labels", target)):
                out = []
                for _ in range(batch):
                    row = [0]
                    while len(row) < length - 1:
                        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
                        row.append(4 + (state >> 33) % (vocab - 4))
                    out.append(row + [2])
                rows[key] = out
            f.write(json.dumps(rows) + "\n")


def wait_go():
    line = sys.stdin.readline()
    return line.strip() == "go"


def serve_prism(args):
    """One optimiser step per "go" on stdin: the trainer's progress callback waits for it."""
    import prism

    prism.set_num_threads(args.threads)
    pairs = prism.Pairs.load(args.batches, batches=True)
    trainer = prism.Trainer(model=args.model, max_steps=args.steps, **SETTINGS)
    print(json.dumps({"ready": True}), flush=True)

    def progress(p):
        print(json.dumps({"step": p["step"], "tokens_per_second": p["tokens_per_second"]}),
              flush=True)
        return p["step"] >= args.steps or wait_go()

    try:
        if wait_go():
            trainer.train(pairs, progress=progress)
    except prism.PrismError as exc:
        if exc.name != "PRISM_ERR_CANCELLED":
            raise
    finally:
        trainer.close()


def serve_peer(args):
    """One HF Trainer step per "go": forward, backward, clip, AdamW, zero_grad."""
    import resource

    import torch
    sys.path.insert(0, HERE)
    import torch_bart

    torch.set_num_threads(args.threads)
    model = torch_bart.Bart.from_pretrained(args.model)
    model.train()
    named = list(model.named_parameters())
    decay = [p for n, p in named if "bias" not in n and "norm" not in n]
    rest = [p for n, p in named if "bias" in n or "norm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": SETTINGS["weight_decay"]},
                             {"params": rest, "weight_decay": 0.0}], lr=SETTINGS["learning_rate"])
    with open(args.batches) as f:
        batches = [json.loads(x) for x in f]
    print(json.dumps({"ready": True}), flush=True)
    step = 0
    while wait_go():
        b = batches[step % len(batches)]
        ids, labels = torch.tensor(b["input_ids"]), torch.tensor(b["labels"])
        mask = (ids != model.config["pad_token_id"]).long()
        t0 = time.perf_counter()
        _, loss = model.training_step(ids, mask, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), SETTINGS["max_grad_norm"])
        opt.step()
        model.zero_grad()
        seconds = time.perf_counter() - t0
        step += 1
        print(json.dumps({"step": step, "tokens_per_second": int((labels != -100).sum()) / seconds,
                          "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                          / 1024.0}), flush=True)


class Server:
    def __init__(self, name, argv, env):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1, env=env)
        self.read()  # ready

    def read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} exited ({self.proc.wait()})")
        return json.loads(line)

    def step(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        try:
            self.proc.stdin.write("stop\n")
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=300)


def parameters(model):
    sys.path.insert(0, HERE)
    from safetensors_np import read_header
    total = 0
    for name, info in read_header(os.path.join(model, "model.safetensors")).items():
        if name != "final_logits_bias":
            n = 1
            for dim in info["shape"]:
                n *= dim
            total += n
    return total


def prism_peak_rss(args, wl, batches, tmp):
    """Peak RSS of `prism train` on the same work (2 steps), through peak_rss.py."""
    out = os.path.join(tmp, "prism-out")
    proc = subprocess.run([sys.executable, os.path.join(HERE, "peak_rss.py"), args.prism, "train",
                           "--quiet", "--init", wl["model"], "--train", batches, "--batching",
                           "given", "--steps", "2", "--lr", str(SETTINGS["learning_rate"]),
                           "--weight-decay", str(SETTINGS["weight_decay"]), "--threads",
                           str(args.threads), "--out", out], capture_output=True, text=True,
                          check=True)
    shutil.rmtree(out, ignore_errors=True)
    return json.loads(proc.stderr.strip().splitlines()[-1])["peak_rss_mib"]


def run_workload(args, name, wl, tmp):
    with open(os.path.join(wl["model"], "config.json")) as f:
        config = json.load(f)
    batches = os.path.join(tmp, f"{name}.jsonl")
    make_batches(batches, config["vocab_size"], wl["batch"], wl["source"], wl["target"],
                 args.steps, 11)
    build = os.path.dirname(os.path.dirname(os.path.abspath(args.prism)))
    env = dict(os.environ, PRISM_LIB_PATH=os.path.join(build, "lib", "libprism.so"),
               PYTHONPATH=os.path.join(ROOT, "bindings", "python"))
    shim = os.path.join(build, "tests", "bench", "gemm_timer.so")
    envs = {}
    for side in ("prism", "peer"):
        envs[side] = dict(env)
        if args.profile:
            envs[side].update(LD_PRELOAD=shim, GEMM_TIMER_OUT=os.path.join(tmp, f"gemm-{side}"))
    common = ["--model", wl["model"], "--batches", batches, "--steps", str(args.steps),
              "--threads", str(args.threads)]
    me = [sys.executable, os.path.abspath(__file__)]
    servers = [Server("prism", me + ["--serve-prism"] + common, envs["prism"]),
               Server("peer", me + ["--serve-peer"] + common, envs["peer"])]
    rates = {s.name: [] for s in servers}
    peer_rss = 0.0
    try:
        for _ in range(args.steps):
            for s in servers:  # in turn, so machine noise falls on both
                # The other side's idle threads spin for a while after its step (OpenBLAS's for
                # about 0.1 s): let them settle first, so neither side times the other's spinning.
                time.sleep(SETTLE_S)
                r = s.step()
                rates[s.name].append(r["tokens_per_second"])
                peer_rss = r.get("peak_rss_mib", peer_rss)
    finally:
        for s in servers:
            s.close()
    tokens = wl["batch"] * wl["target"]
    out = {"batch": wl["batch"], "source": wl["source"], "target": wl["target"],
           "parameters": parameters(wl["model"])}
    for side, rss in (("prism", prism_peak_rss(args, wl, batches, tmp)), ("peer", peer_rss)):
        tps = statistics.median(rates[side][2:] or rates[side])
        out[side] = {"tokens_per_second": tps, "ms_per_step": tokens / tps * 1e3,
                     "peak_rss_mib": rss, "steps_tokens_per_second": rates[side]}
        if args.profile and os.path.exists(envs[side]["GEMM_TIMER_OUT"]):
            with open(envs[side]["GEMM_TIMER_OUT"]) as f:
                g = json.load(f)
            step_s = sum(tokens / r for r in rates[side])
            # libprism runs GEMM tiles on every pool thread at once (thread-seconds add up);
            # the peer calls SGEMM from one thread with OpenBLAS's threads inside it.
            callers = args.threads if side == "prism" else 1
            out[side]["sgemm_calls_per_step"] = g["calls"] / args.steps
            out[side]["gemm_share_of_step_time"] = g["sgemm_seconds"] / callers / step_s
    out["speedup_vs_peer"] = out["prism"]["tokens_per_second"] / out["peer"]["tokens_per_second"]
    out["rss_ratio_vs_peer"] = out["prism"]["peak_rss_mib"] / out["peer"]["peak_rss_mib"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prism", default=os.path.join(ROOT, "build", "examples", "prism"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--workloads", default="demo,base")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--serve-prism", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--serve-peer", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--batches", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_prism:
        return serve_prism(args)
    if args.serve_peer:
        return serve_peer(args)
    if os.path.isdir(args.prism):
        args.prism = os.path.join(args.prism, "prism")
    os.environ.update({"OMP_NUM_THREADS": str(args.threads),
                       "OPENBLAS_NUM_THREADS": str(args.threads)})
    report = {"bench": "train", "threads": args.threads, "steps": args.steps, "workloads": {}}
    tmp = tempfile.mkdtemp(prefix="prism-train-bench-")
    try:
        for name in args.workloads.split(","):
            wl = WORKLOADS[name]
            if name == "base" and not os.path.exists(os.path.join(BASE_MODEL, "model.safetensors")):
                subprocess.run([sys.executable, os.path.join(HERE, "make_bart_checkpoint.py"),
                                BASE_MODEL], check=True, stdout=subprocess.DEVNULL)
            r = run_workload(args, name, wl, tmp)
            report["workloads"][name] = r
            print(json.dumps({name: r}), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
