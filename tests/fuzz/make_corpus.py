#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Seeds are small valid inputs plus a few near-misses from the bad-file corpus,
so the fuzzer starts from every branch of the format. The generated files are
committed; rerun after changing:  python3 tests/fuzz/make_corpus.py
"""
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "bad"))
import generate as bad  # noqa: E402  (shares the file builders)


def safetensors_seeds():
    e = bad.st_entry
    yield "valid", bad.ST_VALID
    yield "empty-header", bad.st_image({}, b"")
    yield "metadata-only", bad.st_image({"__metadata__": {"format": "pt", "k": "v"}}, b"")
    yield "halves", bad.st_image(
        {"h": e("F16", [2], 0, 4), "b": e("BF16", [2], 4, 8), "z": e("F32", [0, 4], 8, 8)},
        struct.pack("<4H", 0x3C00, 0xFC00, 0x3F80, 0x7FC0))
    yield "all-dtypes", bad.st_image(
        {d: e(d, [1], 8 * i, 8 * i + s) for i, (d, s) in enumerate(
            [("F64", 8), ("I64", 8), ("I32", 4), ("I16", 2), ("I8", 1), ("U8", 1), ("BOOL", 1)])},
        bytes(56))
    yield "rank3", bad.st_image({"t": e("F32", [1, 2, 2], 0, 16)}, struct.pack("<4f", 0, 1, -1, 2.5))


SEEDS = {
    "safetensors": safetensors_seeds,
}


def main():
    for target, seeds in SEEDS.items():
        out = os.path.join(HERE, "corpus", target)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        for name, data in seeds():
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
        print("%s: %d seeds" % (target, len(os.listdir(out))))


if __name__ == "__main__":
    main()
