#!/usr/bin/python3
"""A checkpoint written by `prism train` loads in the PyTorch BART peer (tests/bench/torch_bart.py,
HF BartForConditionalGeneration semantics and names) and gives the same logits as libprism.

    check_torch.py PRISM_CLI FIXTURES      (PRISM_LIB_PATH: the library for the bindings)

Exits 77 (skipped) without torch.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))

try:
    import numpy as np
    import torch
    import torch_bart
except ImportError as exc:
    print(f"skipped: {exc}")
    sys.exit(77)

import prism  # noqa: E402


def main():
    cli, fixtures = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="prism-train-torch-")
    failures = 0
    try:
        pairs = os.path.join(tmp, "pairs.jsonl")
        rng = np.random.default_rng(3)
        with open(pairs, "w") as f:
            for _ in range(12):
                src = [0] + rng.integers(4, 1000, rng.integers(2, 10)).tolist() + [2]
                tgt = [0] + rng.integers(4, 1000, rng.integers(1, 8)).tolist() + [2]
                f.write(json.dumps({"input_ids": src, "labels": tgt}) + "\n")
        for name, source in (("fine-tuned", ["--init", os.path.join(fixtures, "tiny-bart-f16")]),
                             ("from config", ["--config",
                                              os.path.join(fixtures, "tiny-bart", "config.json")])):
            out = os.path.join(tmp, name.replace(" ", "-"))
            subprocess.run([cli, "train", "--quiet", *source, "--train", pairs, "--out", out,
                            "--steps", "4", "--batch-size", "4", "--lr", "1e-3"], check=True,
                           stdout=subprocess.DEVNULL)
            peer = torch_bart.Bart.from_pretrained(out)
            ids = torch.tensor([[0, 15, 27, 99, 2, 1], [0, 31, 8, 2, 1, 1]])
            mask = (ids != 1).long()
            dec = torch.tensor([[2, 0, 15, 27], [2, 0, 31, 8]])
            with torch.no_grad():
                want = peer(ids, mask, dec).numpy()
            model = prism.Bart(out)
            with model.session() as s:
                s.encode(ids.numpy(), mask.numpy())
                got = s.forward(dec.numpy())
            diff = float(np.max(np.abs(got - want)))
            ok = diff <= 1e-4
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name}: the peer loads {out}; logits max |diff| "
                  f"{diff:.3g}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
