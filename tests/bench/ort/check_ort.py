#!/usr/bin/python3
"""Checks the ORT peer's sequences against HF's fixtures, libprism and the PyTorch peer.

    /usr/bin/python3 tests/bench/ort/check_ort.py [--prism PATH] [--bench-model DIR]
                                                  [--threads 2] [--ort-args "..."]

1. Every tests/fixtures/tiny-bart* model is exported (export_onnx.py, which also checks the
   graphs' logits against torch within 1e-4) and every `generate` case of its expected.json
   run on ORT: sequences identical to HF's, beam scores within 1e-4, and identical to
   `prism generate`'s.
2. On tiny-bart-copy (trained to copy its input, so its outputs are not degenerate) the
   benchmark's workloads at its shapes (64 input tokens, 31 decode steps: greedy and beam 4,
   batch 1 and 10; ids below 128, what it learned to copy): ORT, libprism and the PyTorch
   peer give the same sequences, and greedy decoding echoes the input's first 12 tokens (its
   trained span; min_length then keeps it going).
3. With --bench-model (the bart_bench.py checkpoint, exported to DIR/onnx if needed), the same
   four workloads there: ORT's sequences equal libprism's.

Prints one line per check and exits non-zero if any fails.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.normpath(os.path.join(BENCH, "..", ".."))
sys.path.insert(0, BENCH)
import bart_bench  # noqa: E402

WORKLOADS = ("greedy_b1", "beam4_b1", "greedy_b10", "beam4_b10")
ECHO_VOCAB, ECHO_LEN = 128, 12


def ort_server(model, onnx_dir, threads, ort_args):
    return bart_bench.Server("ort", ["node", os.path.join(HERE, "ort_bart.mjs"), "serve",
                                     "--model", model, "--onnx", onnx_dir,
                                     "--threads", str(threads), *shlex.split(ort_args)],
                             expect_ready=True)


def prism_server(prism, model, threads):
    return bart_bench.Server("prism", [prism, "generate", "--model", model,
                                       "--threads", str(threads)], expect_ready=False)


def export(model, out):
    r = subprocess.run([sys.executable, os.path.join(HERE, "export_onnx.py"), model, "--out", out],
                       capture_output=True, text=True)
    last = [ln for ln in r.stdout.splitlines() if "checks passed" in ln]
    return r.returncode == 0, last[-1] if last else (r.stdout + r.stderr)[-800:]


def workload_requests(vocab, max_pos):
    """bart_bench's workloads, ids folded into [4, vocab)."""
    out = {}
    for name in WORKLOADS:
        rows, params = bart_bench.WORKLOADS[name]
        ids = [[x if x < 4 else 4 + x % (vocab - 4) for x in row]
               for row in bart_bench.make_inputs(rows, 7)]
        assert len(ids[0]) <= max_pos
        out[name] = {"input_ids": ids, "attention_mask": [[1] * len(ids[0]) for _ in ids],
                     "params": params}
    return out


def check_fixture(folder, args, results):
    name = os.path.basename(folder)
    with tempfile.TemporaryDirectory() as tmp:
        ok, detail = export(folder, tmp)
        results.append((f"{name}/export+logits", ok, detail))
        if not ok:
            return
        with open(os.path.join(folder, "expected.json")) as f:
            exp = json.load(f)
        ort = ort_server(folder, tmp, args.threads, args.ort_args)
        prism = prism_server(args.prism, folder, args.threads)
        try:
            for case in exp["generate"]:
                if case["params"].get("do_sample"):
                    continue
                req = {"input_ids": exp["input_ids"], "attention_mask": exp["attention_mask"],
                       "params": case["params"]}
                got = ort.request(req)[0]
                mine = prism.request(req)[0]
                ok = got["sequences"] == case["sequences"] == mine["sequences"]
                detail = "sequences = HF = libprism" if ok else \
                    f"ort {got['sequences']} hf {case['sequences']} prism {mine['sequences']}"
                if "sequences_scores" in case:
                    d = max(abs(a - b) for a, b in zip(got["sequences_scores"],
                                                       case["sequences_scores"]))
                    ok = ok and d <= 1e-4
                    detail += f", scores max|diff| {d:.1e}"
                results.append((f"{name}/generate/{case['name']}", ok, detail))
            if name == "tiny-bart-copy":
                check_workloads(folder, ort, prism, args, results, echo=True)
        finally:
            ort.close()
            prism.close()


def check_workloads(model, ort, prism, args, results, echo=False, torch=True):
    with open(os.path.join(model, "config.json")) as f:
        cfg = json.load(f)
    # tiny-bart-copy learned to copy ids below 128, about 12 tokens long (then it ends the
    # sequence; here min_length keeps it going): fold the ids there and check that prefix.
    vocab = min(cfg["vocab_size"], ECHO_VOCAB) if echo else cfg["vocab_size"]
    reqs = workload_requests(vocab, cfg["max_position_embeddings"])
    peer = None
    if torch:
        peer = bart_bench.Server("torch", [sys.executable, os.path.join(BENCH, "bart_bench.py"),
                                           "--serve-peer", "--model", model,
                                           "--threads", str(args.threads)], expect_ready=True)
    name = os.path.basename(model.rstrip("/"))
    try:
        for wl, req in reqs.items():
            got = ort.request(req)[0]["sequences"]
            mine = prism.request(req)[0]["sequences"]
            theirs = peer.request(req)[0]["sequences"] if peer else mine
            ok = got == mine == theirs
            detail = f"ORT = libprism{' = torch' if peer else ''}" if ok else \
                f"ort {got[0][:10]}... prism {mine[0][:10]}... torch {theirs[0][:10]}..."
            if echo and wl.startswith("greedy"):
                # [start, <s>, the input's tokens ...]
                echoed = all(seq[1:1 + ECHO_LEN] == row[:ECHO_LEN]
                             for seq, row in zip(got, req["input_ids"]))
                ok = ok and echoed
                detail += f", echoes the input's first {ECHO_LEN} tokens" if echoed else \
                    ", does NOT echo the input"
            results.append((f"{name}/{wl}", ok, detail))
    finally:
        if peer:
            peer.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prism", default=os.path.join(ROOT, "build", "examples", "prism"))
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "tests", "fixtures"))
    ap.add_argument("--bench-model", help="the bart_bench.py checkpoint: check its workloads too")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ort-args", default=bart_bench.ORT_DEFAULT_ARGS)
    args = ap.parse_args()
    if os.path.isdir(args.prism):
        args.prism = os.path.join(args.prism, "prism")
    results = []
    for d in sorted(os.listdir(args.fixtures)):
        if d.startswith("tiny-bart"):
            check_fixture(os.path.join(args.fixtures, d), args, results)
    if args.bench_model:
        bart_bench.ort_ready(args.bench_model)
        onnx_dir = os.path.join(args.bench_model, "onnx")
        ort = ort_server(args.bench_model, onnx_dir, args.threads, args.ort_args)
        prism = prism_server(args.prism, args.bench_model, args.threads)
        try:
            check_workloads(args.bench_model, ort, prism, args, results, torch=False)
        finally:
            ort.close()
            prism.close()
    for name, ok, detail in results:
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    passed = sum(ok for _, ok, _ in results)
    print(f"{passed}/{len(results)} checks passed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
