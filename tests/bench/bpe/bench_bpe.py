"""Driver of the BPE training benchmark (run.sh prepares the corpus and peers).

    bench_bpe.py PRISM_CLI WORK_DIR HF_SCRIPT|"" FILE...

Two settings: "hf-defaults" is what HF's Node bindings can train (vocab 30000,
min_frequency 0, no special tokens, only the bytes seen), compared with HF
itself and with the Python reimplementation; "bart" is the library's default
(BART special tokens, all 256 bytes, min_frequency 2, vocab 30000), compared
with the Python reimplementation. libprism runs with 1 and 2 threads. Times
are wall-clock seconds of one run each; libprism's are split into counting
(reading and pre-tokenizing) and learning with its progress lines.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "..", "tokenizer", "bpe_reference.py")
SETTINGS = {
    "hf-defaults": ["--vocab-size", "30000", "--min-frequency", "0", "--corpus-alphabet",
                    "--special-tokens", ""],
    "bart": ["--vocab-size", "30000"],
}


def files_of(folder):
    out = []
    for name in ("vocab.json", "merges.txt"):
        with open(os.path.join(folder, name), "rb") as f:
            out.append(f.read())
    return out


def run_prism(cli, out, inputs, opts, threads):
    """Seconds in total, counting (until the first progress line) and learning."""
    args = [cli, "tokenizer-train", "--out", out, "--threads", str(threads)] + opts
    for path in inputs:
        args += ["--input", path]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    counted = None
    for line in proc.stderr:
        if counted is None and line.startswith("words "):
            counted = time.perf_counter()
    if proc.wait() != 0:
        raise SystemExit("prism tokenizer-train failed")
    total = time.perf_counter() - t0
    return {"seconds": round(total, 3), "count_seconds": round(counted - t0, 3),
            "learn_seconds": round(total - (counted - t0), 3)}


def run_reference(out, inputs, opts):
    args = ["/usr/bin/python3", REFERENCE, out] + opts
    for path in inputs:
        args += ["--input", path]
    t0 = time.perf_counter()
    subprocess.run(args, check=True)
    return round(time.perf_counter() - t0, 3)


def run_hf(script, out, inputs):
    os.makedirs(out, exist_ok=True)
    res = subprocess.run(["node", script, out] + inputs, check=True, capture_output=True,
                         text=True)
    return round(json.loads(res.stdout.strip().splitlines()[-1])["seconds"], 3)


def main(cli, work, hf_script, *inputs):
    inputs = list(inputs)
    result = {"corpus_bytes": sum(os.path.getsize(p) for p in inputs), "settings": {}}
    ok = True
    for name, opts in SETTINGS.items():
        r = {}
        for threads in (1, 2):
            r["prism_%dt" % threads] = run_prism(cli, os.path.join(work, "%s-%d" % (name, threads)),
                                                 inputs, opts, threads)
        ours = files_of(os.path.join(work, name + "-1"))
        r["identical_1t_2t"] = ours == files_of(os.path.join(work, name + "-2"))
        r["python_reimplementation_seconds"] = run_reference(os.path.join(work, name + "-py"),
                                                             inputs, opts)
        r["identical_python"] = ours == files_of(os.path.join(work, name + "-py"))
        best = min(r["prism_1t"]["seconds"], r["prism_2t"]["seconds"])
        r["python_over_prism"] = round(r["python_reimplementation_seconds"] / best, 2)
        if name == "hf-defaults" and hf_script:
            r["hf_tokenizers_seconds"] = run_hf(hf_script, os.path.join(work, name + "-hf"), inputs)
            r["identical_hf"] = ours == files_of(os.path.join(work, name + "-hf"))
            r["hf_over_prism"] = round(r["hf_tokenizers_seconds"] / best, 2)
            ok = ok and r["identical_hf"]
        elif name == "hf-defaults":
            r["hf_tokenizers_seconds"] = None
        r["merges"] = ours[1].count(b"\n") - 1
        ok = ok and r["identical_1t_2t"] and r["identical_python"]
        result["settings"][name] = r
    print(json.dumps(result, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
