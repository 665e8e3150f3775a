#!/usr/bin/env python3
"""Black-box check of `prism generate`: every fixture case through the CLI
(identical sequences, sequences_scores within 1e-4), error lines that do not
stop the stream, --timing, and a fatal error for a missing model."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

TOLERANCE = 1e-4
MODELS = ["tiny-bart", "tiny-bart-f16", "tiny-bart-bf16", "tiny-bart-copy"]


def run(prism, args, lines):
    proc = subprocess.run([prism, "generate"] + args, input="".join(l + "\n" for l in lines),
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, [json.loads(l) for l in proc.stdout.splitlines()], proc.stderr


def check_model(prism, fixtures, model):
    with open(f"{fixtures}/{model}/expected.json") as f:
        expected = json.load(f)
    cases = expected["generate"]
    lines = [json.dumps({"input_ids": expected["input_ids"],
                         "attention_mask": expected["attention_mask"],
                         "params": case["params"]}) for case in cases]
    # An error line between the cases must not disturb the ones after it.
    lines.insert(1, '{"input_ids": [[0, 99999]]}')
    rc, out, err = run(prism, ["--model", f"{fixtures}/{model}"], lines)
    assert rc == 0, err
    assert len(out) == len(lines), (len(out), len(lines))
    assert out[1]["error"]["code"] == "PRISM_ERR_OUT_OF_RANGE", out[1]
    del out[1]
    passed = 0
    for case, got in zip(cases, out):
        ok = got.get("sequences") == case["sequences"]
        if ok and "sequences_scores" in case:
            ok = all(abs(a - b) <= TOLERANCE
                     for a, b in zip(got["sequences_scores"], case["sequences_scores"]))
        elif ok:
            ok = "sequences_scores" not in got
        if not ok:
            print(f"{model}/{case['name']}: got {got}", file=sys.stderr)
        passed += ok
    return passed, len(cases)


def check_cli_behaviour(prism, fixtures):
    model = f"{fixtures}/tiny-bart"
    rc, out, _ = run(prism, ["--model", model, "--timing", "--threads", "1"],
                     ['{"input_ids": [[0, 10, 20, 2]]}', "not json",
                      '{"input_ids": [[0, 10], [0]]}', '{"input_ids": [[0, 10]], "bogus": 1}',
                      '{"input_ids": [[0, 10, 20, 2]], "params": {"num_beams": 0}}',
                      '{"input_ids": [[0, 10, 20, 2]], "params": {"max_new_tokens": 3}}'])
    assert rc == 0
    timing = out[0]["timing"]
    assert set(timing) == {"encode_ms", "decode_ms", "steps", "rows"}, timing
    assert timing["steps"] == len(out[0]["sequences"][0]) - 1 and timing["rows"] == 1
    assert [o["error"]["code"] for o in out[1:5]] == [
        "PRISM_ERR_FORMAT", "PRISM_ERR_INVALID_ARGUMENT", "PRISM_ERR_INVALID_ARGUMENT",
        "PRISM_ERR_INVALID_ARGUMENT"], out
    assert "num_beams" in out[4]["error"]["message"]
    assert len(out[5]["sequences"][0]) == 4
    # Without attention_mask the mask is input_ids != pad_token_id.
    with open(f"{fixtures}/tiny-bart/expected.json") as f:
        expected = json.load(f)
    greedy = next(c for c in expected["generate"] if c["name"] == "greedy")
    _, out, _ = run(prism, ["--model", model],
                    [json.dumps({"input_ids": expected["input_ids"], "params": greedy["params"]})])
    assert out[0]["sequences"] == greedy["sequences"], out
    rc, out, err = run(prism, ["--model", f"{fixtures}/no-such-model"], ["{}"])
    assert rc == 1 and out == [] and err.startswith("prism: error:"), (rc, err)


def beam_model(fixtures, folder):
    """tiny-bart with a generation_config.json that asks for 4 beams, as facebook/bart-base's."""
    for name in ("config.json", "model.safetensors"):
        shutil.copy(os.path.join(fixtures, "tiny-bart", name), folder)
    with open(os.path.join(folder, "generation_config.json"), "w") as f:
        json.dump({"num_beams": 4, "early_stopping": True, "forced_bos_token_id": 0,
                   "forced_eos_token_id": 2}, f)


def check_model_beam_default(prism, fixtures):
    """A request without params runs the model's 4-beam default: HF's beam4 output."""
    with open(f"{fixtures}/tiny-bart/expected.json") as f:
        expected = json.load(f)
    beam4 = next(c for c in expected["generate"] if c["name"] == "beam4")
    with tempfile.TemporaryDirectory() as folder:
        beam_model(fixtures, folder)
        rc, out, err = run(prism, ["--model", folder],
                           [json.dumps({"input_ids": expected["input_ids"],
                                        "attention_mask": expected["attention_mask"]})])
    assert rc == 0, err
    assert out[0]["sequences"] == beam4["sequences"], out
    assert all(abs(a - b) <= TOLERANCE
               for a, b in zip(out[0]["sequences_scores"], beam4["sequences_scores"]))


def main():
    prism, fixtures = sys.argv[1], sys.argv[2]
    passed = total = 0
    for model in MODELS:
        p, t = check_model(prism, fixtures, model)
        passed += p
        total += t
    print(f"prism generate: {passed}/{total} fixture cases pass")
    check_cli_behaviour(prism, fixtures)
    check_model_beam_default(prism, fixtures)
    return 0 if passed == total and total > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
