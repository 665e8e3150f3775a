#!/usr/bin/env python3
"""Black-box check of `prism tokenize` / `prism detokenize` against the fixtures.

usage: check_cli.py PRISM FIXTURES_DIR
"""
import json
import subprocess
import sys


def run(prism, args, lines):
    proc = subprocess.run([prism] + args, input="".join(l + "\n" for l in lines),
                          capture_output=True, text=True, encoding="utf-8")
    return proc.returncode, [json.loads(l) for l in proc.stdout.splitlines()], proc.stderr


def main():
    prism, fixtures = sys.argv[1], sys.argv[2]
    vocab = fixtures + "/bart-vocab"
    with open(fixtures + "/tokenizer_cases.jsonl", encoding="utf-8") as f:
        cases = [json.loads(l) for l in f if l.strip()]
    texts = [json.dumps({"text": c["text"]}) for c in cases]
    id_lines = [json.dumps({"ids": c["ids"]}) for c in cases]
    checks = [
        (["tokenize", "--tokenizer", vocab], texts, [{"ids": c["ids"]} for c in cases]),
        (["tokenize", "--tokenizer", vocab, "--no-special"], texts,
         [{"ids": c["ids_no_special"]} for c in cases]),
        (["detokenize", "--tokenizer", vocab], id_lines, [{"text": c["decoded"]} for c in cases]),
        (["detokenize", "--tokenizer", vocab, "--skip-special"], id_lines,
         [{"text": c["decoded_skip_special"]} for c in cases]),
    ]
    failed = 0
    for args, lines, want in checks:
        rc, got, err = run(prism, args, lines)
        same = sum(g == w for g, w in zip(got, want))
        print(f"prism {' '.join(args[0::2][:1] + args[3:])}: {same}/{len(want)} lines match")
        failed += rc != 0 or len(got) != len(want) or same != len(want)

    # A bad line gets an error line and processing continues, in order.
    rc, got, _ = run(prism, ["detokenize", "--tokenizer", vocab],
                     ['{"ids": [0, 50265]}', "not json", '{"ids": [31414]}'])
    failed += rc != 0 or [g.get("error", {}).get("code") for g in got[:2]] != [
        "PRISM_ERR_OUT_OF_RANGE", "PRISM_ERR_FORMAT"] or got[2] != {"text": "Hello"}
    rc, got, _ = run(prism, ["tokenize", "--tokenizer", vocab], ['{"txt": "x"}', '{"text": "x"}'])
    failed += rc != 0 or "error" not in got[0] or "ids" not in got[1]

    # A tokenizer that cannot load is fatal: a message on stderr and exit status 1.
    rc, got, err = run(prism, ["tokenize", "--tokenizer", "/nonexistent"], ['{"text": "x"}'])
    failed += rc != 1 or got or not err.startswith("prism: error: ")
    print("ok" if not failed else f"{failed} check(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
