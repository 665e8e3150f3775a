#!/usr/bin/env python3
"""The `prism` CLI's error messages on bad input.

usage: cli_errors.py PRISM FIXTURES_DIR DEMO_DIR

- a JSON key given twice is an error, in request lines and in the files the library reads;
- tokenize and detokenize refuse unknown keys, as explain and generate do;
- a file that is not safetensors (a TSV) is named so, not by an absurd header length;
- a --data folder that does not exist says "no such directory";
- an error about a line's content names the line, as a syntax error does;
- requests beyond the safe caps are refused before they allocate, --limit-* moves a cap (0 lifts
  it), and a cap on new tokens clamps a model's default length instead of refusing it.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(args, lines=()):
    proc = subprocess.run(args, input="".join(l + "\n" for l in lines), capture_output=True,
                          text=True, timeout=120)
    out = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    return proc.returncode, out, proc.stderr


def message(line):
    return line.get("error", {}).get("message", "")


def check_duplicate_keys(prism, fixtures, tmp):
    vocab = os.path.join(fixtures, "bart-vocab")
    rc, out, _ = run([prism, "tokenize", "--tokenizer", vocab],
                     ['{"text": "a", "text": "b"}', '{"text": "a"}'])
    check(rc == 0 and "error" in out[0] and "twice" in message(out[0]),
          f"a request line with a key given twice is an error line ({out[:1]})")
    check(out[1] == {"ids": [0, 102, 2]}, "the next line is still served")
    model = os.path.join(fixtures, "tiny-bart")
    rc, out, _ = run([prism, "generate", "--model", model],
                     ['{"input_ids": [[0, 2]], "params": {"num_beams": 1, "num_beams": 4}}'])
    check(rc == 0 and "twice" in message(out[0]), "a nested key given twice is an error line too")
    # The library's own files: config.json with a key twice cannot load.
    copy = os.path.join(tmp, "dup-config")
    shutil.copytree(model, copy)
    with open(os.path.join(copy, "config.json")) as f:
        text = f.read()
    with open(os.path.join(copy, "config.json"), "w") as f:
        f.write(text.replace('"d_model": 64,', '"d_model": 64, "d_model": 128,', 1))
    rc, out, err = run([prism, "generate", "--model", copy], ["{}"])
    check(rc == 1 and "config.json" in err and "duplicate key" in err,
          f"config.json with a key given twice is refused ({err.strip()})")
    with open(os.path.join(copy, "config.json"), "w") as f:
        f.write(text)
    with open(os.path.join(copy, "generation_config.json")) as f:
        gen = f.read()
    with open(os.path.join(copy, "generation_config.json"), "w") as f:
        f.write(gen.replace("{", '{"num_beams": 1, "num_beams": 2, ', 1))
    rc, out, err = run([prism, "generate", "--model", copy], ["{}"])
    check(rc == 1 and "generation_config.json" in err and "duplicate key" in err,
          f"generation_config.json with a key given twice is refused ({err.strip()})")


def check_unknown_keys(prism, fixtures):
    vocab = os.path.join(fixtures, "bart-vocab")
    rc, out, _ = run([prism, "tokenize", "--tokenizer", vocab],
                     ['{"text": "x", "txet": "y"}', '{"text": "x"}'])
    check(rc == 0 and out[0].get("error", {}).get("code") == "PRISM_ERR_INVALID_ARGUMENT"
          and 'unknown key "txet"' in message(out[0]) and "ids" in out[1],
          f"tokenize refuses an unknown key ({out[:1]})")
    rc, out, _ = run([prism, "detokenize", "--tokenizer", vocab],
                     ['{"ids": [0, 2], "skip_special": true}'])
    check(rc == 0 and 'unknown key "skip_special"' in message(out[0]),
          f"detokenize refuses an unknown key ({out[:1]})")


def check_not_safetensors(prism, fixtures, demo, tmp):
    tsv = os.path.join(demo, "interactions.tsv")
    rc, _, err = run([prism, "rank", "recommend", "--model", tsv, "--k", "3"])
    check(rc == 1 and "not a safetensors file" in err and not re.search(r"\d{10}", err),
          f"a TSV given as a ranker model is named as not safetensors ({err.strip()})")
    folder = os.path.join(tmp, "tsv-model")
    os.mkdir(folder)
    shutil.copy(os.path.join(fixtures, "tiny-bart", "config.json"), folder)
    shutil.copy(tsv, os.path.join(folder, "model.safetensors"))
    rc, _, err = run([prism, "generate", "--model", folder], ["{}"])
    check(rc == 1 and "not a safetensors file" in err and not re.search(r"\d{10}", err),
          f"a TSV as model.safetensors is named as not safetensors ({err.strip()})")


def check_missing_dir(prism):
    rc, out, err = run([prism, "demo", "--data", "/nonexistent/demo"])
    check(rc == 1 and "no such directory" in err and "/nonexistent/demo" in err and not out,
          f"demo --data of a missing folder says no such directory ({err.strip()})")


def check_line_numbers(prism, fixtures):
    vocab = os.path.join(fixtures, "bart-vocab")
    rc, out, _ = run([prism, "tokenize", "--tokenizer", vocab],
                     ['{"text": "ok"}', "", '{"text": 5}', "not json", '{"txt": "x"}'])
    check(rc == 0 and len(out) == 4, "one answer per non-blank line")
    check(message(out[1]).startswith("line 3: "), f"a wrong type names its line ({out[1]})")
    check(message(out[2]).startswith("line 4: invalid JSON"), f"a syntax error names its line")
    check(message(out[3]).startswith("line 5: unknown key"), f"an unknown key names its line")
    rc, out, _ = run([prism, "detokenize", "--tokenizer", vocab],
                     ['{"ids": [0, 2]}', '{"ids": [0, 99999999]}', '{"ids": "x"}'])
    check(message(out[1]).startswith("line 2: ") and "99999999" in message(out[1]),
          f"a library error names its line ({out[1]})")
    check(message(out[2]).startswith("line 3: "), f"a bad ids array names its line ({out[2]})")
    model = os.path.join(fixtures, "tiny-bart")
    rc, out, _ = run([prism, "generate", "--model", model],
                     ['{"input_ids": [[0, 2]], "params": {"max_new_tokens": 2}}',
                      '{"input_ids": [[0, 10], [0]]}',
                      '{"input_ids": [[0, 2]], "params": {"num_beams": 0}}'])
    check(message(out[1]).startswith("line 2: "), f"generate: a ragged batch names its line")
    check(message(out[2]).startswith("line 3: ") and "num_beams" in message(out[2]),
          f"generate: bad params name their line ({out[2]})")


def check_limits(prism, fixtures, demo):
    model = os.path.join(demo, "model")
    t0 = time.monotonic()
    rc, out, _ = run([prism, "explain", "--model", model],
                     ['{"text": "a", "params": {"num_beams": 100000}}', '{"text": "a"}'])
    check(rc == 0 and out[0].get("error", {}).get("code") == "PRISM_ERR_LIMIT"
          and "max_beams 16" in message(out[0]) and time.monotonic() - t0 < 60,
          f"100000 beams is refused by the safe cap at once ({out[:1]})")
    check("explanations" in out[1], "the next line is still served")
    rc, out, _ = run([prism, "explain", "--model", model, "--limit-beams", "2"],
                     ['{"text": "a", "params": {"num_beams": 4}}'])
    check("max_beams 2" in message(out[0]), f"--limit-beams lowers the cap ({out[:1]})")
    rc, out, _ = run([prism, "explain", "--model", model, "--limit-beams", "0"],
                     ['{"text": "a", "params": {"num_beams": 20, "max_new_tokens": 4}}'])
    check("explanations" in out[0], f"--limit-beams 0 lifts the cap ({out[:1]})")
    rc, full, _ = run([prism, "explain", "--model", model], ['{"text": "a"}'])
    rc, short, _ = run([prism, "explain", "--model", model, "--limit-new-tokens", "4"],
                       ['{"text": "a"}', '{"text": "a", "params": {"max_new_tokens": 8}}'])
    check("explanations" in short[0]
          and len(short[0]["explanations"][0]) < len(full[0]["explanations"][0]),
          f"--limit-new-tokens clamps the model's default length ({short[:1]})")
    check("max_new_tokens 4" in message(short[1]),
          f"a request for more new tokens than the cap is refused ({short[1:]})")
    rc, out, _ = run([prism, "generate", "--model", os.path.join(fixtures, "tiny-bart"),
                      "--limit-batch", "1"], ['{"input_ids": [[0, 2], [0, 2]]}'])
    check("max_batch 1" in message(out[0]), f"generate takes the limits too ({out[:1]})")
    tiny = os.path.join(fixtures, "tiny-bart")
    rc, out, _ = run([prism, "generate", "--model", tiny, "--limit-return-sequences", "1"],
                     ['{"input_ids": [[0, 2]], "params": {"num_beams": 2, '
                      '"num_return_sequences": 2}}'])
    check("max_return_sequences 1" in message(out[0]), f"--limit-return-sequences ({out[:1]})")
    rc, out, _ = run([prism, "generate", "--model", tiny, "--limit-decoder-rows", "3"],
                     ['{"input_ids": [[0, 2], [0, 2]], "params": {"num_beams": 2}}'])
    check("max_decoder_rows 3" in message(out[0]), f"--limit-decoder-rows ({out[:1]})")
    rc, out, _ = run([prism, "generate", "--model", tiny, "--limit-decoder-tokens", "10"],
                     ['{"input_ids": [[0, 2]], "params": {"num_beams": 1, "max_new_tokens": 20}}'])
    check("max_decoder_tokens 10" in message(out[0]), f"--limit-decoder-tokens ({out[:1]})")
    rc, out, err = run([prism, "generate", "--model", tiny, "--limit-file-bytes", "100"], ["{}"])
    check(rc == 1 and "limit" in err, f"--limit-file-bytes refuses a larger model file ({err.strip()})")
    rc, out, _ = run([prism, "tokenize", "--tokenizer", os.path.join(fixtures, "bart-vocab"),
                      "--limit-text-bytes", "4"], ['{"text": "abcdefgh"}'])
    check(out[0].get("error", {}).get("code") == "PRISM_ERR_LIMIT",
          f"tokenize: --limit-text-bytes ({out[:1]})")


def main():
    prism, fixtures, demo = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        check_duplicate_keys(prism, fixtures, tmp)
        check_unknown_keys(prism, fixtures)
        check_not_safetensors(prism, fixtures, demo, tmp)
        check_missing_dir(prism)
        check_line_numbers(prism, fixtures)
        check_limits(prism, fixtures, demo)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
