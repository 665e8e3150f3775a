#!/usr/bin/env python3
"""Text-metrics benchmark: libprism against PETER's metric code, in the same run.

    /usr/bin/python3 tests/bench/metrics/bench_metrics.py [--build build] [--peer-pairs 10000]
                                                          [--pairs 1000000] [--repeat 3]

PETER's code is not installed here: the peer is peter_metrics.py, a faithful
reimplementation of its utils.py / bleu.py / rouge.py (same algorithms and costs).
Before timing, the peer must reproduce the reference fixtures
(tests/fixtures/metrics/*.json, computed by PETER's own code) to 1e-9, and
libprism's figures on the benchmark pairs must equal the peer's to 1e-9.

Both sides score the same synthetic pairs (bench_metrics --dump): libprism through
the C API on one thread (bench_metrics, best of --repeat; the data is generated
outside the timing), the peer through its evaluate() (one run). Prints one JSON
object with both timings and the ratio, then libprism alone on --pairs pairs.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
import peter_metrics  # noqa: E402

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "metrics")


def worst_relative(got, want):
    return float(max(abs(got[k] - v) / abs(v) if v else abs(got[k]) for k, v in want.items()))


def check_peer_on_fixtures():
    worst = 0.0
    for name in ("xrec_google_1000", "edge_cases"):
        with open(os.path.join(FIXTURES, name + ".json"), encoding="utf-8") as f:
            fx = json.load(f)
        got = peter_metrics.evaluate(fx["references"], fx["hypotheses"], fx["features"],
                                     fx["feature_set"])
        worst = max(worst, worst_relative(got, fx["expected"]))
    if worst > 1e-9:
        sys.exit(f"bench_metrics: the peer does not reproduce the fixtures ({worst:.3g})")
    return worst


def run_prism(exe, pairs, repeat, dump=None):
    cmd = [exe, "--pairs", str(pairs), "--repeat", str(repeat)]
    if dump:
        cmd += ["--dump", dump]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def load_dump(prefix):
    refs, hyps, feats = [], [], []
    with open(prefix + ".tsv", encoding="utf-8") as f:
        for line in f:
            r, h, fe = line.rstrip("\n").split("\t")
            refs.append(r)
            hyps.append(h)
            feats.append(fe)
    with open(prefix + ".features", encoding="utf-8") as f:
        feature_set = [w for w in f.read().split("\n") if w]
    return refs, hyps, feats, feature_set


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--peer-pairs", type=int, default=10000)
    ap.add_argument("--pairs", type=int, default=1000000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    exe = os.path.join(args.build, "tests", "bench", "metrics", "bench_metrics")

    fixture_error = check_peer_on_fixtures()
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "pairs")
        prism = run_prism(exe, args.peer_pairs, args.repeat, dump=prefix)
        refs, hyps, feats, feature_set = load_dump(prefix)
    t0, c0 = time.perf_counter(), time.process_time()
    peer = peter_metrics.evaluate(refs, hyps, feats, feature_set)
    peer_s, peer_cpu = time.perf_counter() - t0, time.process_time() - c0
    agreement = worst_relative(prism["figures"], peer)
    big = run_prism(exe, args.pairs, 1) if args.pairs else None

    print(json.dumps({
        "peer": "peter_metrics.py: a faithful Python reimplementation of PETER's utils.py, "
                "bleu.py and rouge.py (PETER itself is not installed here)",
        "peer_reproduces_fixtures_max_relative_error": fixture_error,
        "pairs": args.peer_pairs,
        "words_per_reference": prism["words_per_reference"],
        "peer_seconds": round(peer_s, 3),
        "peer_cpu_seconds": round(peer_cpu, 3),
        "prism_seconds": prism["seconds"],
        "prism_cpu_seconds": prism["cpu_seconds"],
        "ratio_peer_to_prism": round(peer_s / prism["seconds"], 1),
        "ratio_peer_to_prism_cpu": round(peer_cpu / prism["cpu_seconds"], 1),
        "figures_agree_max_relative_error": agreement,
        "figures_agree": agreement <= 1e-9,
        "large": None if big is None else {
            "pairs": big["pairs"], "mb": big["mb"], "seconds": big["seconds"],
            "cpu_seconds": big["cpu_seconds"], "pairs_per_second": big["pairs_per_second"]},
    }, indent=2))
    return 0 if agreement <= 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
