#!/usr/bin/env python3
"""Write the malformed-input corpus (tests/bad/) and its manifest.

Every file starts from a valid one and is broken in exactly one way. The
manifest (manifest.tsv) gives, per file: the path relative to tests/bad, the
loader that must refuse it (see test_bad.c), the status it must return and a
substring its error message must contain. The generated files are committed;
rerun this script after changing it:  python3 tests/bad/generate.py
"""
import copy
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")


# ---------------------------------------------------------------- safetensors

def pad8(text):
    """Space padding to a multiple of 8 bytes, as the safetensors writers do."""
    return text + b" " * (-len(text) % 8)


def st_header_text(entries):
    return pad8(json.dumps(entries, separators=(",", ":")).encode())


def st_image(header, data, length=None):
    """u64 little-endian header length (default: the real one), header, data."""
    if not isinstance(header, bytes):
        header = st_header_text(header)
    return struct.pack("<Q", len(header) if length is None else length) + header + data


def st_entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


# A valid file: metadata, a 2x3 F32 tensor and a 2-element I64 tensor.
ST_ENTRIES = {
    "__metadata__": {"format": "pt"},
    "a": st_entry("F32", [2, 3], 0, 24),
    "b": st_entry("I64", [2], 24, 40),
}
ST_DATA = struct.pack("<6f", 1, 2, 3, 4, 5, 6) + struct.pack("<2q", 7, 8)
ST_VALID = st_image(ST_ENTRIES, ST_DATA)


def st_with(path, value, data=ST_DATA):
    """ST_ENTRIES with the value at `path` (a tuple of keys/indexes) replaced;
    a value of DELETE removes it."""
    entries = copy.deepcopy(ST_ENTRIES)
    node = entries
    for key in path[:-1]:
        node = node[key]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return st_image(entries, data)


def st_raw_header(text):
    """A file whose header is exactly `text` (bytes), followed by the data."""
    return st_image(text, ST_DATA)


DELETE = object()
FORMAT, UNSUPPORTED, LIMIT = "PRISM_ERR_FORMAT", "PRISM_ERR_UNSUPPORTED", "PRISM_ERR_LIMIT"

SAFETENSORS = [
    # name, image, status, message substring
    ("empty", b"", FORMAT, "too short"),
    ("truncated-length", ST_VALID[:5], FORMAT, "too short"),
    ("truncated-header", ST_VALID[:40], FORMAT, "past the end of the file"),
    ("truncated-data", ST_VALID[:-8], FORMAT, "past the data"),
    ("header-length-huge", st_image(ST_ENTRIES, ST_DATA, 2**64 - 1), FORMAT,
     "header length 18446744073709551615"),
    ("header-length-short", st_image(ST_ENTRIES, ST_DATA, 16), FORMAT, "invalid JSON"),
    ("header-length-zero", st_image(b"", ST_DATA), FORMAT, "invalid JSON"),
    ("header-not-json", st_raw_header(pad8(b"hello, world")), FORMAT, "invalid JSON"),
    ("header-array", st_raw_header(pad8(b"[1,2,3]")), FORMAT, "not a JSON object"),
    ("header-trailing-garbage", st_raw_header(pad8(json.dumps(ST_ENTRIES).encode() + b"}")),
     FORMAT, "invalid JSON"),
    ("header-duplicate-key",
     st_raw_header(pad8(b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                        b'"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}')),
     FORMAT, "duplicate"),
    ("header-invalid-utf8", st_raw_header(pad8(b'{"\xff\xfe":{"dtype":"F32"}}')), FORMAT, "invalid JSON"),
    ("header-nul-byte", st_raw_header(pad8(b'{"a\x00":1}')), FORMAT, "invalid JSON"),
    ("entry-number", st_with(("a",), 5), FORMAT, "\"a\": entry is not an object"),
    ("entry-null", st_with(("b",), None), FORMAT, "\"b\": entry is not an object"),
    ("dtype-missing", st_with(("a", "dtype"), DELETE), FORMAT, "\"a\": missing or non-string \"dtype\""),
    ("dtype-number", st_with(("a", "dtype"), 4), FORMAT, "\"a\": missing or non-string \"dtype\""),
    ("dtype-unknown", st_with(("a", "dtype"), "Q4_0"), UNSUPPORTED, "unsupported dtype \"Q4_0\""),
    ("dtype-lowercase", st_with(("a", "dtype"), "f32"), UNSUPPORTED, "unsupported dtype \"f32\""),
    ("shape-missing", st_with(("a", "shape"), DELETE), FORMAT, "\"a\": \"shape\" must be an array"),
    ("shape-string", st_with(("a", "shape"), "2,3"), FORMAT, "\"a\": \"shape\" must be an array"),
    ("shape-negative", st_with(("a", "shape"), [-2, -3]), FORMAT, "shape[0] is not a non-negative"),
    ("shape-float", st_with(("a", "shape"), [2, 3.0]), FORMAT, "shape[1] is not a non-negative"),
    ("shape-nested", st_with(("a", "shape"), [[2, 3]]), FORMAT, "shape[0] is not a non-negative"),
    ("shape-too-many-dims", st_with(("a", "shape"), [1] * 9), FORMAT, "at most 8 integers"),
    ("shape-overflow", st_with(("a", "shape"), [2**32, 2**32, 2]), FORMAT, "shape overflows"),
    ("shape-size-mismatch", st_with(("a", "shape"), [2, 4]), FORMAT,
     "F32 shape needs 32 bytes but data_offsets span 24"),
    ("shape-zero-dim-with-data", st_with(("a", "shape"), [0, 3]), FORMAT,
     "needs 0 bytes but data_offsets span 24"),
    ("dtype-size-mismatch", st_with(("a", "dtype"), "F64"), FORMAT,
     "F64 shape needs 48 bytes but data_offsets span 24"),
    ("offsets-missing", st_with(("a", "data_offsets"), DELETE), FORMAT,
     "\"a\": \"data_offsets\" must be two"),
    ("offsets-one-element", st_with(("a", "data_offsets"), [24]), FORMAT,
     "\"a\": \"data_offsets\" must be two"),
    ("offsets-three-elements", st_with(("a", "data_offsets"), [0, 24, 40]), FORMAT,
     "\"a\": \"data_offsets\" must be two"),
    ("offsets-strings", st_with(("a", "data_offsets"), ["0", "24"]), FORMAT,
     "\"a\": \"data_offsets\" must be two"),
    ("offsets-negative", st_with(("a", "data_offsets"), [-24, 0]), FORMAT,
     "\"a\": \"data_offsets\" must be two"),
    ("offsets-reversed", st_with(("b", "data_offsets"), [40, 24]), FORMAT,
     "data_offsets [40, 24] are reversed"),
    ("offsets-past-end", st_with(("b", "data_offsets"), [32, 48]), FORMAT,
     "data_offsets end 48 is past the data (40 bytes)"),
    ("offsets-huge", st_with(("b", "data_offsets"), [2**62, 2**62 + 16]), FORMAT,
     "data_offsets end 4611686018427387920 is past the data"),
    ("offsets-overlap", st_with(("b", "data_offsets"), [16, 32]), FORMAT,
     "tensors \"a\" and \"b\" overlap"),
    ("offsets-identical", st_with(("b",), st_entry("F32", [6], 0, 24)), FORMAT,
     "overlap"),
    # A zero-sized tensor between two that overlap must not hide the overlap.
    ("offsets-overlap-around-empty",
     st_image(dict(ST_ENTRIES, b=st_entry("F32", [4], 16, 32), e=st_entry("F32", [0], 8, 8)),
              ST_DATA),
     FORMAT, "overlap"),
    ("metadata-array", st_with(("__metadata__",), ["format", "pt"]), FORMAT,
     "\"__metadata__\" is not an object"),
    ("metadata-value-number", st_with(("__metadata__", "format"), 1), FORMAT,
     "metadata \"format\" is not a string"),
]

# The same valid file under a size cap it exceeds.
SAFETENSORS_CAPPED = [("over-size-cap", ST_VALID, LIMIT, "above the limit of 64")]


# ------------------------------------------------------------ tokenizer files

def bytes_to_unicode():
    """GPT-2's byte -> printable character table (space becomes "Ġ")."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


# A small but complete byte-level BPE: specials, the 256 byte symbols, a few merges.
TOK_MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("l", "l"), ("e", "r"), ("Ġ", "w")]


def tok_vocab():
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for ch in bytes_to_unicode().values():
        vocab[ch] = len(vocab)
    for a, b in TOK_MERGES:
        vocab[a + b] = len(vocab)
    vocab["<mask>"] = len(vocab)
    return vocab


def tok_vocab_json(vocab=None):
    return json.dumps(tok_vocab() if vocab is None else vocab, ensure_ascii=False).encode()


def tok_merges_txt(merges=None):
    lines = ["#version: 0.2"] + ["%s %s" % m for m in (TOK_MERGES if merges is None else merges)]
    return ("\n".join(lines) + "\n").encode()


def tokenizer_json():
    vocab = tok_vocab()
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": t == "<mask>",
              "rstrip": False, "normalized": False, "special": True}
             for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")]
    return json.dumps({
        "version": "1.0", "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "vocab": vocab, "merges": ["%s %s" % m for m in TOK_MERGES]},
    }, ensure_ascii=False).encode()


# ---------------------------------------------------------------- ranker files

def ranker_model(algorithm="als", users=("u1", "u2"), items=("i1", "i2", "i3"), factors=2,
                 seen=((0, 1), (1, 0), (1, 2)), meta=None, drop=()):
    """A prism-ranker safetensors file; `meta` overrides metadata, `drop` removes tensors."""
    U, I, F = len(users), len(items), factors
    m = {"format": "prism-ranker", "format_version": "1", "algorithm": algorithm,
         "factors": str(F), "users": str(U), "items": str(I), "iterations": "10",
         "cg_steps": "3", "regularization": "0.01", "alpha": "1", "learning_rate": "0.05",
         "rating_min": "1", "rating_max": "5", "global_bias": "0", "seed": "42",
         "user_ids": json.dumps(list(users)), "item_ids": json.dumps(list(items))}
    m.update(meta or {})
    m = {k: v for k, v in m.items() if v is not None}
    indptr = [0] * (U + 1)
    for u, _ in seen:
        indptr[u + 1] += 1
    for u in range(U):
        indptr[u + 1] += indptr[u]
    tensors = [
        ("user_factors", "F32", [U, F], struct.pack("<%df" % (U * F), *[0.1 * (k + 1) for k in range(U * F)])),
        ("item_factors", "F32", [I, F], struct.pack("<%df" % (I * F), *[0.2 * (k + 1) for k in range(I * F)])),
        ("seen_indptr", "I64", [U + 1], struct.pack("<%dq" % (U + 1), *indptr)),
        ("seen_indices", "I32", [len(seen)], struct.pack("<%di" % len(seen), *[i for _, i in seen])),
        ("seen_values", "F32", [len(seen)], struct.pack("<%df" % len(seen), *[1.0] * len(seen))),
    ]
    if algorithm in ("bpr", "mf"):
        tensors.append(("item_bias", "F32", [I], struct.pack("<%df" % I, *[0.01] * I)))
    if algorithm == "mf":
        tensors.append(("user_bias", "F32", [U], struct.pack("<%df" % U, *[0.02] * U)))
    return st_pack([t for t in tensors if t[0] not in drop], m)


def st_pack(tensors, meta):
    """A safetensors image from (name, dtype, shape, bytes) in order, plus metadata."""
    entries, data = {"__metadata__": meta}, b""
    for name, dtype, shape, raw in tensors:
        entries[name] = st_entry(dtype, shape, len(data), len(data) + len(raw))
        data += raw
    return st_image(entries, data)


# ------------------------------------------------------------------- writing

def write(rel, data):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    rows = []
    for sub in ("valid", "safetensors"):
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    write("valid/valid.safetensors", ST_VALID)
    for loader, cases in (("safetensors", SAFETENSORS), ("safetensors-cap64", SAFETENSORS_CAPPED)):
        for name, image, status, mentions in cases:
            rel = "safetensors/%s.safetensors" % name
            write(rel, image)
            rows.append((rel, loader, status, mentions))
    with open(os.path.join(HERE, "manifest.tsv"), "w") as f:
        f.write("# file\tloader\tstatus\tmessage contains (generated by generate.py)\n")
        for row in rows:
            assert all("\t" not in c and "\n" not in c for c in row), row
            f.write("\t".join(row) + "\n")
    print("%d bad files" % len(rows))


if __name__ == "__main__":
    main()
