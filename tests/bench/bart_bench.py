#!/usr/bin/python3
"""BART decoding benchmark: libprism's `prism generate --timing` vs the PyTorch peer.

    /usr/bin/python3 tests/bench/bart_bench.py [--model DIR] [--prism PATH] [--threads 2]
                                               [--repeats 3] [--workloads a,b,...]

Both sides run as JSON Lines servers following the `prism generate` contract
(docs/performance.md): libprism's CLI, and this script's `--serve-peer` mode
wrapping torch_bart.Bart. They load the same checkpoint (default: a seeded
bart-base-shaped one written by make_bart_checkpoint.py), get the same inputs,
and are called alternately, one request each in turn, so machine noise hits
both alike. `--candidate PATH` adds a second libprism build to the rotation, to
measure what one optimisation buys. Prints one JSON object: per workload the median ms, ms per decode
step, the ratio to the peer, the ratio to the floor (decoder bytes streamed per
step / measured read bandwidth), whether the sequences agree; and per side the
load time and peak RSS.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_MODEL = "/tmp/prism-bench-bart-base"
SEQ_LEN = 64
GEN_LEN = 32

# name -> (batch rows, generate params); min_length = max_length pins the step count.
WORKLOADS = {
    "encoder_b1": (1, {"num_beams": 1, "min_length": 2, "max_length": 2}),
    "greedy_b1": (1, {"num_beams": 1, "min_length": GEN_LEN, "max_length": GEN_LEN}),
    "beam4_b1": (1, {"num_beams": 4, "min_length": GEN_LEN, "max_length": GEN_LEN}),
    "beam4_b10": (10, {"num_beams": 4, "min_length": GEN_LEN, "max_length": GEN_LEN}),
    "greedy_b10": (10, {"num_beams": 1, "min_length": GEN_LEN, "max_length": GEN_LEN}),
}


def make_inputs(rows, seed):
    """Seeded token ids <s> ... </s> of SEQ_LEN, the same for both sides."""
    state, out = seed, []
    for _ in range(rows):
        row = [0]
        while len(row) < SEQ_LEN - 1:
            state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            row.append(4 + (state >> 33) % 50000)
        out.append(row + [2])
    return out

# ---------------------------------------------------------------------------
# the peer as a `prism generate --timing` look-alike


def serve_peer(model_dir, threads):
    import torch
    sys.path.insert(0, HERE)
    import torch_bart

    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    model = torch_bart.Bart.from_pretrained(model_dir)
    print(json.dumps({"ready": True, "load_ms": (time.perf_counter() - t0) * 1e3}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        ids = torch.tensor(req["input_ids"])
        mask = torch.tensor(req["attention_mask"]) if "attention_mask" in req else None
        with torch.no_grad():
            t0 = time.perf_counter()
            model.encode(ids, mask)
            t1 = time.perf_counter()
            seqs, scores = model.generate(ids, mask, **req.get("params", {}))
            t2 = time.perf_counter()
        # generate() encodes again: its decode share is the total minus one encode.
        out = {"sequences": seqs.tolist(),
               "timing": {"encode_ms": (t1 - t0) * 1e3,
                          "decode_ms": max(0.0, (t2 - t1) - (t1 - t0)) * 1e3,
                          "steps": seqs.shape[1] - 1, "rows": seqs.shape[0]}}
        if scores is not None:
            out["sequences_scores"] = scores.tolist()
        print(json.dumps(out), flush=True)

# ---------------------------------------------------------------------------
# driver


class Server:
    """One JSONL server process: a request in, a line out."""

    def __init__(self, name, argv, expect_ready):
        self.name = name
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.load_ms = None
        if expect_ready:
            self.load_ms = json.loads(self.proc.stdout.readline())["load_ms"]
        self.spawn_s = time.perf_counter() - t0

    def request(self, obj):
        t0 = time.perf_counter()
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        wall = (time.perf_counter() - t0) * 1e3
        if not line:
            raise RuntimeError(f"{self.name} exited ({self.proc.poll()})")
        out = json.loads(line)
        if "error" in out:
            raise RuntimeError(f"{self.name}: {out['error']}")
        return out, wall

    def peak_rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
        return None

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def prism_load_ms(prism, model, threads, repeats, extra=()):
    """Median wall time of `prism generate` on empty input: process start + load + exit."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([prism, "generate", "--model", model, "--threads", str(threads), *extra],
                       input="", text=True, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def decode_bytes_per_step(model_dir):
    """Bytes every decode step streams: decoder layers (without the cross-attention K/V
    projections, computed once per request) plus the LM head."""
    sys.path.insert(0, HERE)
    from safetensors_np import read_header
    header = read_header(os.path.join(model_dir, "model.safetensors"))
    size = {"F32": 4, "F16": 2, "BF16": 2}
    total = 0
    for name, info in header.items():
        n = 1
        for d in info["shape"]:
            n *= d
        once = "encoder_attn.k_proj" in name or "encoder_attn.v_proj" in name
        if (name.startswith("model.decoder.layers.") and not once) or name == "model.shared.weight":
            total += n * size[info["dtype"]]
    return total


def measure_bandwidth(membw, threads):
    out = subprocess.run([membw, "1024", "5"], text=True, capture_output=True, check=True).stdout
    res = json.loads(out)
    return res["read_gbs_2threads"] if threads >= 2 else res["read_gbs_1thread"], res


def run_workload(name, servers, repeats, seed):
    rows, params = WORKLOADS[name]
    ids = make_inputs(rows, seed)
    req = {"input_ids": ids, "attention_mask": [[1] * SEQ_LEN for _ in ids], "params": params}
    walls = {s.name: [] for s in servers}
    timings = {s.name: [] for s in servers}
    seqs = {}
    for s in servers:  # warm-up, not timed
        seqs[s.name] = s.request(req)[0]["sequences"]
    for _ in range(repeats):
        for s in servers:
            out, wall = s.request(req)
            walls[s.name].append(wall)
            timings[s.name].append(out.get("timing", {}))
    result = {"rows": rows, "params": params}
    for s in servers:
        t = timings[s.name]
        enc = statistics.median(x.get("encode_ms", float("nan")) for x in t)
        dec = statistics.median(x.get("decode_ms", float("nan")) for x in t)
        steps = t[0].get("steps") or (GEN_LEN - 1)
        ms = enc if name.startswith("encoder") else statistics.median(walls[s.name])
        result[s.name] = {"ms": ms, "encode_ms": enc, "decode_ms": dec, "steps": steps,
                          "ms_per_step": dec / steps, "wall_ms": statistics.median(walls[s.name])}
    if len(seqs) > 1:
        first = next(iter(seqs.values()))
        result["sequences_equal"] = all(v == first for v in seqs.values())
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--prism", default=os.path.join(ROOT, "build", "examples", "prism"))
    ap.add_argument("--candidate", help="a second libprism build, run alternately as 'candidate' "
                    "(A/B of an optimisation)")
    ap.add_argument("--candidate-bf16", action="store_true",
                    help="load the candidate with --bf16-weights (PRISM_BART_LOAD_BF16_WEIGHTS)")
    ap.add_argument("--membw", default=os.path.join(ROOT, "build", "tests", "bench", "membw"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--no-peer", action="store_true", help="libprism only")
    ap.add_argument("--no-prism", action="store_true", help="the peer only")
    ap.add_argument("--serve-peer", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if os.path.isdir(args.prism):
        args.prism = os.path.join(args.prism, "prism")
    if args.serve_peer:
        return serve_peer(args.model, args.threads)

    if not os.path.exists(os.path.join(args.model, "model.safetensors")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_bart_checkpoint.py"), args.model],
                       check=True, stdout=subprocess.DEVNULL)
    env_threads = {"OMP_NUM_THREADS": str(args.threads), "OPENBLAS_NUM_THREADS": str(args.threads)}
    os.environ.update(env_threads)
    gbs, membw = measure_bandwidth(args.membw, args.threads)
    step_bytes = decode_bytes_per_step(args.model)
    floor_ms = step_bytes / (gbs * 1e9) * 1e3

    servers = []
    report = {"bench": "bart", "model": args.model, "threads": args.threads,
              "repeats": args.repeats, "membw": membw, "decode_bytes_per_step": step_bytes,
              "floor_ms_per_step": floor_ms,
              "weights_file_mib": os.path.getsize(os.path.join(args.model, "model.safetensors"))
              / 2**20}
    if not args.no_prism:
        if args.candidate and os.path.isdir(args.candidate):
            args.candidate = os.path.join(args.candidate, "prism")
        extra = ["--bf16-weights"] if args.candidate_bf16 else []
        builds = [("prism", args.prism, [])]
        builds += [("candidate", args.candidate, extra)] if args.candidate else []
        for name, path, opts in builds:
            report[f"{name}_load_ms"] = prism_load_ms(path, args.model, args.threads, 3, opts)
            servers.append(Server(name, [path, "generate", "--model", args.model, "--threads",
                                         str(args.threads), "--timing", *opts],
                                  expect_ready=False))
    if not args.no_peer:
        servers.append(Server("peer", [sys.executable, os.path.abspath(__file__), "--serve-peer",
                                       "--model", args.model, "--threads", str(args.threads)],
                              expect_ready=True))
        report["peer_load_ms"] = servers[-1].load_ms
    try:
        report["workloads"] = {}
        for name in args.workloads.split(","):
            r = run_workload(name, servers, args.repeats, args.seed)
            for s in servers:
                if s.name != "peer":
                    r[s.name]["ratio_to_floor"] = r[s.name]["ms_per_step"] / floor_ms
                    if "peer" in r:
                        r[s.name]["speedup_vs_peer"] = r["peer"]["ms"] / r[s.name]["ms"]
            report["workloads"][name] = r
            print(json.dumps({name: r}), file=sys.stderr, flush=True)  # survives an interrupted run
        for s in servers:
            report[f"{s.name}_peak_rss_mib"] = s.peak_rss_mib()
    finally:
        for s in servers:
            s.close()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
