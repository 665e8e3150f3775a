#!/usr/bin/python3
"""BART decoding benchmark: libprism's `prism generate --timing` vs ONNX Runtime and PyTorch.

    /usr/bin/python3 tests/bench/bart_bench.py [--model DIR] [--prism PATH] [--threads 2]
                                               [--repeats 3] [--workloads a,b,...]
                                               [--peers prism,ort,torch] [--ort-args "..."]
                                               [--ort-variant NAME="..."]...

Every side runs as a JSON Lines server following the `prism generate` contract
(docs/performance.md): libprism's CLI; ONNX Runtime through ort/ort_bart.mjs
(onnxruntime-node, on the graphs ort/export_onnx.py writes into MODEL/onnx); and
this script's `--serve-peer` mode wrapping torch_bart.Bart. They load the same
checkpoint (default: a seeded bart-base-shaped one written by
make_bart_checkpoint.py), get the same inputs, and are called alternately, one
request each in turn, so machine noise hits them alike. `--candidate PATH` adds
a second libprism build to the rotation, to measure what one optimisation buys;
`--ort-variant NAME="ARGS"` adds ORT servers with other session options (tuning
the peer in one interleaved run). Prints one JSON object: per workload and side
the median ms, ms per decode step, each peer's time over libprism's, the ratio
to the floor (decoder bytes streamed per step / measured read bandwidth),
whether the sequences agree; and per side the load time and peak RSS.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_MODEL = "/tmp/prism-bench-bart-base"
ORT_DIR = os.path.join(HERE, "ort")
# The ORT peer's session options (ort_bart.mjs): the fastest found by the tuning runs in
# docs/performance.md (spinning intra-op threads cost 1.2-3x on this shared 2-core machine; the
# merged decoder is as fast as the split pair and holds the decoder weights once); --ort-args
# replaces them.
ORT_DEFAULT_ARGS = ("--opt all --arena on --decoder merged --beam-scores topk --prealloc off "
                    "--config session.intra_op.allow_spinning=0")
ORT_GRAPHS = ("encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx",
              "decoder_model_merged.onnx", "log_softmax.onnx", "beam_topk.onnx")
SEQ_LEN = 64
GEN_LEN = 32

# name -> (batch rows, generate params); min_length = max_length pins the step count.
WORKLOADS = {
    "encoder_b1": (1, {"num_beams": 1, "min_length": 2, "max_length": 2}),
    "encoder_b10": (10, {"num_beams": 1, "min_length": 2, "max_length": 2}),
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


def decode_bytes_per_step(model_dir, weights="f32"):
    """Bytes every decode step streams: decoder layers (without the cross-attention K/V
    projections, computed once per request) plus the LM head. `weights`: how libprism holds the
    Linear weights and the LM head: f32 (4 bytes each, as the checkpoint's F32), bf16 (2), int8
    (1, rows padded to 64 bytes, plus a float scale and an int32 row sum per row); biases and
    layer norms stay float32."""
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
        if not ((name.startswith("model.decoder.layers.") and not once)
                or name == "model.shared.weight"):
            continue
        matrix = len(info["shape"]) == 2
        if weights == "f32" or not matrix:
            total += n * (size[info["dtype"]] if weights == "f32" else 4)
        elif weights == "bf16":
            total += n * 2
        else:
            rows, cols = info["shape"]
            total += rows * ((cols + 63) // 64 * 64 + 8)
    return total


def weights_of(flags):
    """The weight format a libprism side's CLI flags select."""
    return "int8" if "--int8-weights" in flags else "bf16" if "--bf16-weights" in flags else "f32"


def measure_bandwidth(membw, threads, mib=1024, reps=5):
    out = subprocess.run([membw, str(mib), str(reps)], text=True, capture_output=True,
                         check=True).stdout
    res = json.loads(out)
    return res["read_gbs_2threads"] if threads >= 2 else res["read_gbs_1thread"], res


def run_workload(name, servers, repeats, seed, bandwidth=None):
    rows, params = WORKLOADS[name]
    ids = make_inputs(rows, seed)
    req = {"input_ids": ids, "attention_mask": [[1] * SEQ_LEN for _ in ids], "params": params}
    walls = {s.name: [] for s in servers}
    timings = {s.name: [] for s in servers}
    seqs = {}
    for s in servers:  # warm-up, not timed
        seqs[s.name] = s.request(req)[0]["sequences"]
    for _ in range(repeats):
        if bandwidth:  # the floor under the same conditions as the requests around it
            bandwidth()
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
        # the ORT peer's decode split: session runs, search (scores, top-k), beam reordering
        parts = {k: statistics.median(x[k] for x in t) / steps
                 for k in ("run_ms", "search_ms", "reorder_ms") if k in t[0]}
        if parts:
            result[s.name]["per_step"] = parts
    if len(seqs) > 1:
        first = next(iter(seqs.values()))
        result["sequences_equal"] = all(v == first for v in seqs.values())
        ref = seqs.get("prism", first)
        result["sequences_differ"] = [k for k, v in seqs.items() if v != ref]
    return result


def is_prism(name):
    return name in ("prism", "candidate") or name.startswith("prism:")


def add_ratios(r, servers, floor_ms):
    """Per libprism side: the floor ratio (the floor of its own weight format) and each peer's
    time over its own (> 1: libprism is faster); the best ORT variant is the ORT figure."""
    names = [s.name for s in servers]
    ort = [n for n in names if n == "ort" or n.startswith("ort:")]
    if ort:
        best = min(ort, key=lambda n: r[n]["ms"])
        r["ort_best"] = best
    for s in servers:
        n = s.name
        if not is_prism(n):
            continue
        r[n]["ratio_to_floor"] = r[n]["ms_per_step"] / floor_ms[s.weights]
        ratios = {}
        if ort:
            ratios["ort"] = r[r["ort_best"]]["ms"] / r[n]["ms"]
            for o in ort:
                ratios[o] = r[o]["ms"] / r[n]["ms"]
        if "torch" in r:
            ratios["torch"] = r["torch"]["ms"] / r[n]["ms"]
        r[n]["peer_over_self"] = ratios


def workload_rss(prism, opts, model, threads, name, seed):
    """Peak RSS (MiB, from wait4) of a fresh `prism generate` process serving one request of a
    workload: what that workload alone needs, where the servers' figure is the largest of all."""
    rows, params = WORKLOADS[name]
    ids = make_inputs(rows, seed)
    req = {"input_ids": ids, "attention_mask": [[1] * SEQ_LEN for _ in ids], "params": params}
    proc = subprocess.Popen([prism, "generate", "--model", model, "--threads", str(threads),
                             *opts], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    proc.stdin.write(json.dumps(req) + "\n")
    proc.stdin.close()
    _, _, usage = os.wait4(proc.pid, 0)
    return usage.ru_maxrss / 1024.0


def ort_ready(model):
    """Checks onnxruntime-node is installed; exports the graphs if MODEL/onnx lacks them."""
    if not os.path.isdir(os.path.join(ORT_DIR, "node_modules", "onnxruntime-node")):
        sys.exit(f"bart_bench: the ORT peer is not installed: run\n"
                 f"  (cd {os.path.relpath(ORT_DIR)} && ONNXRUNTIME_NODE_INSTALL=skip npm ci)\n"
                 f"or leave it out with --peers prism,torch")
    onnx_dir = os.path.join(model, "onnx")
    if not all(os.path.exists(os.path.join(onnx_dir, g)) for g in ORT_GRAPHS):
        print(f"bart_bench: exporting {model} to ONNX (export_onnx.py)", file=sys.stderr)
        subprocess.run([sys.executable, os.path.join(ORT_DIR, "export_onnx.py"), model],
                       check=True, stdout=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--prism", default=os.path.join(ROOT, "build", "examples", "prism"))
    ap.add_argument("--candidate", help="a second libprism build, run alternately as 'candidate' "
                    "(A/B of an optimisation)")
    ap.add_argument("--candidate-bf16", action="store_true",
                    help="load the candidate with --bf16-weights (PRISM_BART_LOAD_BF16_WEIGHTS)")
    ap.add_argument("--candidate-args", default="",
                    help="more `prism generate` options for the candidate")
    ap.add_argument("--prism-variant", action="append", default=[], metavar='NAME="FLAGS"',
                    help="a libprism server 'prism:NAME' of the --prism build with these "
                    "`prism generate` options (e.g. bf16=\"--bf16-weights\"); repeatable")
    ap.add_argument("--rss", action="store_true",
                    help="also each libprism side's peak RSS per workload: one fresh process "
                    "per side and workload, after the timed run")
    ap.add_argument("--membw", default=os.path.join(ROOT, "build", "tests", "bench", "membw"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--peers", default="prism,ort,torch",
                    help="sides to run, comma-separated, of prism, ort, torch (default: all)")
    ap.add_argument("--ort-args", default=ORT_DEFAULT_ARGS,
                    help="session options for ort_bart.mjs serve (default: %(default)r)")
    ap.add_argument("--ort-variant", action="append", default=[], metavar='NAME="ARGS"',
                    help="an ORT server 'ort:NAME' with these ort_bart.mjs options instead of "
                    "--ort-args; repeatable (tuning: all variants run interleaved)")
    ap.add_argument("--serve-peer", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if os.path.isdir(args.prism):
        args.prism = os.path.join(args.prism, "prism")
    if args.serve_peer:
        return serve_peer(args.model, args.threads)
    peers = set(args.peers.split(","))
    if peers - {"prism", "ort", "torch"} or not peers:
        ap.error("--peers: a comma-separated list of prism, ort, torch")

    if not os.path.exists(os.path.join(args.model, "model.safetensors")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_bart_checkpoint.py"), args.model],
                       check=True, stdout=subprocess.DEVNULL)
    if "ort" in peers:
        ort_ready(args.model)
    env_threads = {"OMP_NUM_THREADS": str(args.threads), "OPENBLAS_NUM_THREADS": str(args.threads)}
    os.environ.update(env_threads)
    samples = []

    def bandwidth():
        samples.append(measure_bandwidth(args.membw, args.threads, 512, 3)[0])

    gbs, membw = measure_bandwidth(args.membw, args.threads)
    step_bytes = {w: decode_bytes_per_step(args.model, w) for w in ("f32", "bf16", "int8")}

    servers = []
    report = {"bench": "bart", "model": args.model, "threads": args.threads,
              "repeats": args.repeats, "membw": membw, "decode_bytes_per_step": step_bytes,
              "weights_file_mib": os.path.getsize(os.path.join(args.model, "model.safetensors"))
              / 2**20, "load_ms": {}, "peak_rss_mib": {}}
    if "prism" in peers:
        if args.candidate and os.path.isdir(args.candidate):
            args.candidate = os.path.join(args.candidate, "prism")
        extra = ["--bf16-weights"] if args.candidate_bf16 else []
        extra += shlex.split(args.candidate_args)
        builds = [("prism", args.prism, [])]
        builds += [("candidate", args.candidate, extra)] if args.candidate else []
        for v in args.prism_variant:
            label, opts = v.split("=", 1)
            builds.append((f"prism:{label}", args.prism, shlex.split(opts)))
        for name, path, opts in builds:
            report["load_ms"][name] = prism_load_ms(path, args.model, args.threads, 3, opts)
            servers.append(Server(name, [path, "generate", "--model", args.model, "--threads",
                                         str(args.threads), "--timing", *opts],
                                  expect_ready=False))
            servers[-1].weights = weights_of(opts)
            servers[-1].argv_opts = (path, opts)
    if "ort" in peers:
        variants = [v.split("=", 1) for v in args.ort_variant] or [("", args.ort_args)]
        for label, opts in variants:
            name = f"ort:{label}" if label else "ort"
            argv = ["node", os.path.join(ORT_DIR, "ort_bart.mjs"), "serve", "--model", args.model,
                    "--threads", str(args.threads), *shlex.split(opts)]
            servers.append(Server(name, argv, expect_ready=True))
            report["load_ms"][name] = servers[-1].load_ms
            report.setdefault("ort_args", {})[name] = opts
    if "torch" in peers:
        servers.append(Server("torch", [sys.executable, os.path.abspath(__file__),
                                        "--serve-peer", "--model", args.model,
                                        "--threads", str(args.threads)], expect_ready=True))
        report["load_ms"]["torch"] = servers[-1].load_ms
    try:
        report["workloads"] = {}
        results = {}
        for name in args.workloads.split(","):
            results[name] = run_workload(name, servers, args.repeats, args.seed, bandwidth)
            print(json.dumps({name: results[name]}), file=sys.stderr, flush=True)
        for s in servers:
            report["peak_rss_mib"][s.name] = s.peak_rss_mib()
    finally:
        for s in servers:
            s.close()
    # The floor: the median of the bandwidth samples taken between the rounds of requests.
    gbs_run = statistics.median(samples) if samples else gbs
    floor_ms = {w: b / (gbs_run * 1e9) * 1e3 for w, b in step_bytes.items()}
    report["read_gbs_samples"] = samples
    report["read_gbs"] = gbs_run
    report["floor_ms_per_step"] = floor_ms
    for name, r in results.items():
        add_ratios(r, servers, floor_ms)
        report["workloads"][name] = r
    if args.rss:
        report["peak_rss_per_workload_mib"] = {
            s.name: {w: workload_rss(*s.argv_opts, args.model, args.threads, w, args.seed)
                     for w in args.workloads.split(",")}
            for s in servers if is_prism(s.name)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
