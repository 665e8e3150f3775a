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
     "not a safetensors file"),
    ("header-length-short", st_image(ST_ENTRIES, ST_DATA, 16), FORMAT, "invalid JSON"),
    ("header-length-zero", st_image(b"", ST_DATA), FORMAT, "not a safetensors file"),
    ("header-not-json", st_raw_header(pad8(b"hello, world")), FORMAT, "not a safetensors file"),
    ("header-array", st_raw_header(pad8(b"[1,2,3]")), FORMAT, "not a safetensors file"),
    # Another kind of file where a safetensors file belongs: its first 8 bytes are no length.
    ("interactions-tsv", b"user\titem\tvalue\nu1\ti1\t1\nu1\ti2\t1\nu2\ti1\t1\n", FORMAT,
     "not a safetensors file"),
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
                 seen=((0, 1), (1, 0), (1, 2)), meta=None, drop=(), doubles=()):
    """A prism-ranker safetensors file; `meta` overrides metadata, `drop` removes tensors,
    `doubles` stores those float tensors as F64."""
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
    tensors = [(n, "F64", shape, struct.pack("<%dd" % (len(raw) // 4), *struct.unpack("<%df" % (len(raw) // 4), raw)))
               if n in doubles else (n, dtype, shape, raw) for n, dtype, shape, raw in tensors]
    return st_pack([t for t in tensors if t[0] not in drop], m)


def st_pack(tensors, meta):
    """A safetensors image from (name, dtype, shape, bytes) in order, plus metadata."""
    entries, data = {"__metadata__": meta}, b""
    for name, dtype, shape, raw in tensors:
        entries[name] = st_entry(dtype, shape, len(data), len(data) + len(raw))
        data += raw
    return st_image(entries, data)


# ------------------------------------------------------------------ BART folders

# A micro BART (vocab 8, d_model 4, one layer each side): small enough to
# commit a copy per broken folder.
BART_CONFIG = {
    "model_type": "bart", "activation_function": "gelu", "vocab_size": 8, "d_model": 4,
    "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2,
    "decoder_attention_heads": 2, "encoder_ffn_dim": 8, "decoder_ffn_dim": 8,
    "max_position_embeddings": 6, "scale_embedding": False, "pad_token_id": 1,
    "bos_token_id": 0, "eos_token_id": 2, "decoder_start_token_id": 2,
    "forced_bos_token_id": 0, "forced_eos_token_id": 2,
}
BART_GENERATION = {"bos_token_id": 0, "decoder_start_token_id": 2, "eos_token_id": 2,
                   "forced_bos_token_id": 0, "forced_eos_token_id": 2, "pad_token_id": 1,
                   "num_beams": 2, "max_length": 6}


def bart_tensor_shapes(c=BART_CONFIG):
    """name -> shape for every tensor the config implies, in checkpoint order."""
    V, d, P = c["vocab_size"], c["d_model"], c["max_position_embeddings"] + 2
    shapes = {"model.shared.weight": [V, d], "final_logits_bias": [1, V]}
    for stack in ("encoder", "decoder"):
        pre = "model.%s." % stack
        ffn = c[stack + "_ffn_dim"]
        shapes[pre + "embed_positions.weight"] = [P, d]
        shapes[pre + "layernorm_embedding.weight"] = [d]
        shapes[pre + "layernorm_embedding.bias"] = [d]
        for i in range(c[stack + "_layers"]):
            layer = "%slayers.%d." % (pre, i)
            for attn in ("self_attn",) + (("encoder_attn",) if stack == "decoder" else ()):
                for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    shapes[layer + "%s.%s.weight" % (attn, proj)] = [d, d]
                    shapes[layer + "%s.%s.bias" % (attn, proj)] = [d]
                shapes[layer + attn + "_layer_norm.weight"] = [d]
                shapes[layer + attn + "_layer_norm.bias"] = [d]
            shapes[layer + "fc1.weight"] = [ffn, d]
            shapes[layer + "fc1.bias"] = [ffn]
            shapes[layer + "fc2.weight"] = [d, ffn]
            shapes[layer + "fc2.bias"] = [d]
            shapes[layer + "final_layer_norm.weight"] = [d]
            shapes[layer + "final_layer_norm.bias"] = [d]
    return shapes


def bart_weights(shapes=None, dtypes=None, drop=(), extra=None):
    """The micro checkpoint; `shapes`/`dtypes` override tensors, `extra` adds some."""
    all_shapes = dict(bart_tensor_shapes(), **(shapes or {}), **(extra or {}))
    tensors = []
    for k, (name, shape) in enumerate(all_shapes.items()):
        if name in drop:
            continue
        dtype = (dtypes or {}).get(name, "F32")
        n = 1
        for dim in shape:
            n *= dim
        fmt = {"F32": "f", "I32": "i", "F64": "d"}[dtype]
        values = [((k * 7 + j * 3) % 11 - 5) / 10.0 for j in range(n)]
        if fmt == "i":
            values = [int(v * 10) for v in values]
        tensors.append((name, dtype, shape, struct.pack("<%d%s" % (n, fmt), *values)))
    return st_pack(tensors, {"format": "pt"})


def bart_folder(config=None, generation=None, weights=None, drop_config=(), raw_config=None,
                raw_generation=None, files=None):
    """{file name: bytes} of a model folder; None values mean "leave the file out"."""
    c = dict(BART_CONFIG, **(config or {}))
    for key in drop_config:
        del c[key]
    folder = {
        "config.json": raw_config if raw_config is not None else json.dumps(c, indent=2).encode(),
        "generation_config.json": raw_generation if raw_generation is not None
        else json.dumps(dict(BART_GENERATION, **(generation or {})), indent=2).encode(),
        "model.safetensors": weights if weights is not None else bart_weights(),
    }
    folder.update(files or {})
    return {k: v for k, v in folder.items() if v is not None}


NOT_FOUND, OUT_OF_RANGE, INVALID_UTF8 = "PRISM_ERR_NOT_FOUND", "PRISM_ERR_OUT_OF_RANGE", "PRISM_ERR_INVALID_UTF8"
L0 = "model.encoder.layers.0."
INDEX = "model.safetensors.index.json"

BART = [
    ("config-missing", bart_folder(files={"config.json": None}), NOT_FOUND, "config.json"),
    ("config-invalid-json", bart_folder(raw_config=b'{"d_model": 4,,}'), FORMAT, "invalid JSON"),
    ("config-array", bart_folder(raw_config=b"[]"), FORMAT, "must be a JSON object"),
    ("config-d-model-string", bart_folder({"d_model": "4"}), FORMAT, "\"d_model\" must be an integer"),
    ("config-d-model-zero", bart_folder({"d_model": 0}), FORMAT, "\"d_model\" = 0 is outside"),
    ("config-vocab-absurd", bart_folder({"vocab_size": 2**40}), FORMAT, "\"vocab_size\" = 1099511627776 is outside"),
    ("config-layers-absurd", bart_folder({"encoder_layers": 100000}), FORMAT, "\"encoder_layers\" = 100000 is outside"),
    ("config-ffn-negative", bart_folder({"decoder_ffn_dim": -8}), FORMAT, "\"decoder_ffn_dim\" = -8 is outside"),
    ("config-positions-float", bart_folder({"max_position_embeddings": 6.5}), FORMAT,
     "\"max_position_embeddings\" must be an integer"),
    ("config-heads-not-divisor", bart_folder({"encoder_attention_heads": 3}), FORMAT, "not divisible"),
    ("config-unknown-activation", bart_folder({"activation_function": "swiglu"}), UNSUPPORTED, "swiglu"),
    ("config-model-type", bart_folder({"model_type": "t5"}), UNSUPPORTED, "t5"),
    ("config-model-type-missing", bart_folder(drop_config=("model_type",)), FORMAT, "model_type"),
    ("config-pad-outside-vocab", bart_folder({"pad_token_id": 8}), FORMAT, "outside the vocabulary"),
    ("config-scale-embedding-string", bart_folder({"scale_embedding": "no"}), FORMAT, "scale_embedding"),
    ("config-vocab-contradicts-weights", bart_folder({"vocab_size": 9}), FORMAT,
     "has shape [8, 4], config.json implies [9, 4]"),
    ("config-d-model-contradicts-weights", bart_folder({"d_model": 8}), FORMAT, "config.json implies"),
    ("config-layers-contradict-weights", bart_folder({"decoder_layers": 2}), NOT_FOUND,
     "decoder.layers.1.self_attn.q_proj.weight is missing"),
    ("config-positions-contradict-weights", bart_folder({"max_position_embeddings": 7}), FORMAT,
     "has shape [8, 4], config.json implies [9, 4]"),
    ("weights-absent", bart_folder(files={"model.safetensors": None}), NOT_FOUND, "neither"),
    ("weights-truncated", bart_folder(weights=bart_weights()[:-16]), FORMAT, "past the data"),
    ("weights-missing-tensor", bart_folder(weights=bart_weights(drop=(L0 + "fc1.weight",))),
     NOT_FOUND, "encoder.layers.0.fc1.weight is missing"),
    ("weights-missing-embeddings", bart_folder(weights=bart_weights(drop=("model.shared.weight",))),
     NOT_FOUND, "shared.weight is missing"),
    ("weights-transposed", bart_folder(weights=bart_weights({L0 + "fc2.weight": [8, 4]})), FORMAT,
     "fc2.weight has shape [8, 4], config.json implies [4, 8]"),
    ("weights-extra-dimension", bart_folder(weights=bart_weights({L0 + "final_layer_norm.bias": [1, 4]})),
     FORMAT, "final_layer_norm.bias has shape [1, 4], config.json implies [4]"),
    ("weights-logits-bias-1d", bart_folder(weights=bart_weights({"final_logits_bias": [8]})), FORMAT,
     "final_logits_bias has shape [8], config.json implies [1, 8]"),
    ("weights-integer-dtype", bart_folder(weights=bart_weights(dtypes={L0 + "fc1.bias": "I32"})),
     UNSUPPORTED, "fc1.bias has dtype I32"),
    ("weights-double-dtype", bart_folder(weights=bart_weights(dtypes={"model.shared.weight": "F64"})),
     UNSUPPORTED, "shared.weight has dtype F64"),
    ("generation-invalid-json", bart_folder(raw_generation=b'{"num_beams": }'), FORMAT, "invalid JSON"),
    ("generation-beams-string", bart_folder(generation={"num_beams": "4"}), FORMAT,
     "\"num_beams\" must be an integer"),
    ("generation-beams-zero", bart_folder(generation={"num_beams": 0}), FORMAT, "\"num_beams\" = 0 is outside"),
    ("generation-early-stopping", bart_folder(generation={"early_stopping": "sometimes"}), FORMAT,
     "early_stopping"),
    ("index-traversal", bart_folder(files={"model.safetensors": None, INDEX: json.dumps(
        {"weight_map": {"model.shared.weight": "../valid/bart/model.safetensors"}}).encode()}),
     FORMAT, "which is not a file name in the model folder"),
    ("index-empty-map", bart_folder(files={"model.safetensors": None,
                                           INDEX: b'{"weight_map": {}}'}),
     FORMAT, "\"weight_map\" must be a non-empty object"),
    ("index-shard-number", bart_folder(files={"model.safetensors": None,
                                              INDEX: b'{"weight_map": {"model.shared.weight": 3}}'}),
     FORMAT, "weight_map entry for tensor model.shared.weight must be a string"),
    ("index-shard-missing", bart_folder(files={"model.safetensors": None, INDEX: json.dumps(
        {"weight_map": {"model.shared.weight": "model-00001-of-00002.safetensors"}}).encode()}),
     NOT_FOUND, "model-00001-of-00002.safetensors"),
]
BART_CAPPED = [("over-size-cap", bart_folder(), LIMIT, "model.safetensors: file is 7264 bytes, above the limit of 1024")]


# ------------------------------------------------------------ tokenizer folders

def tok_folder(vocab=None, merges=None, raw_vocab=None, raw_merges=None):
    return {"vocab.json": raw_vocab if raw_vocab is not None else tok_vocab_json(vocab),
            "merges.txt": raw_merges if raw_merges is not None else tok_merges_txt(merges)}


def tok_json_folder(edit):
    doc = json.loads(tokenizer_json())
    edit(doc)
    return {"tokenizer.json": json.dumps(doc, ensure_ascii=False).encode()}


def vocab_with(**changes):
    v = tok_vocab()
    v.update(changes)
    return v


def _set(path, value):
    def edit(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


TOKENIZER = [
    ("vocab-array", tok_folder(raw_vocab=b'["<s>", "<pad>"]'), FORMAT, "must be a JSON object"),
    ("vocab-empty", tok_folder(raw_vocab=b"{}", raw_merges=b"#version: 0.2\n"), FORMAT, "is empty"),
    ("vocab-invalid-json", tok_folder(raw_vocab=b'{"<s>": 0,'), FORMAT, "invalid JSON"),
    ("vocab-invalid-utf8", tok_folder(raw_vocab=b'{"<s>": 0, "\xc3": 1}'), FORMAT,
     "invalid UTF-8 at byte 12 (line 1)"),
    ("vocab-id-string", tok_folder(vocab_with(**{"<unk>": "3"})), FORMAT, "token \"<unk>\""),
    ("vocab-id-negative", tok_folder(vocab_with(**{"<unk>": -3})), FORMAT, "token \"<unk>\""),
    ("vocab-id-float", tok_folder(vocab_with(**{"<unk>": 3.5})), FORMAT, "token \"<unk>\""),
    ("vocab-id-huge", tok_folder(vocab_with(**{"<unk>": 2**24})), FORMAT, "token \"<unk>\""),
    ("vocab-id-reused", tok_folder(vocab_with(**{"<unk>": 0})), FORMAT, "id 0 is already used"),
    ("vocab-empty-token", tok_folder(vocab_with(**{"": 300})), FORMAT, "empty token"),
    ("merges-three-symbols", tok_folder(raw_merges=b"#version: 0.2\nh e r\n"), FORMAT,
     "line 2: expected two symbols separated by a space"),
    ("merges-one-symbol", tok_folder(raw_merges=b"#version: 0.2\nh e\nll\n"), FORMAT,
     "line 3: expected two symbols"),
    ("merges-unknown-symbol", tok_folder(raw_merges=b"#version: 0.2\nh e\nhe \xe2\x82\xac\n"), FORMAT,
     "line 3: symbol \"\u20ac\" is not in the vocabulary"),
    ("merges-unknown-result", tok_folder(raw_merges=b"#version: 0.2\nh e\nx y\n"), FORMAT,
     "line 3: the merge of \"x\" and \"y\" is not in the vocabulary"),
    ("merges-invalid-utf8", tok_folder(raw_merges=b"#version: 0.2\nh e\n\xff \xfe\n"), FORMAT,
     "line 3: invalid UTF-8"),
    ("json-model-wordpiece", tok_json_folder(_set(("model", "type"), "WordPiece")), UNSUPPORTED,
     "model type \"WordPiece\""),
    ("json-merges-object", tok_json_folder(_set(("model", "merges"), {})), FORMAT,
     "\"model.merges\" must be an array"),
    ("json-merge-not-pair", tok_json_folder(_set(("model", "merges", 1), "h")), FORMAT,
     "model.merges[1]: expected \"left right\""),
    ("json-normalizer", tok_json_folder(_set(("normalizer",), {"type": "NFC"})), UNSUPPORTED,
     "normalizers are not supported"),
    ("json-pre-tokenizer", tok_json_folder(_set(("pre_tokenizer",), {"type": "Whitespace"})),
     UNSUPPORTED, "pre_tokenizer \"Whitespace\""),
    ("json-added-empty", tok_json_folder(_set(("added_tokens", 4, "content"), "")), FORMAT,
     "added_tokens[4]: empty content"),
    ("json-added-id-clash", tok_json_folder(_set(("added_tokens", 4, "content"), "<extra>")), FORMAT,
     "belongs to another token"),
    ("json-added-single-word", tok_json_folder(_set(("added_tokens", 0, "single_word"), True)),
     UNSUPPORTED, "single_word is not supported"),
    ("json-byte-fallback", tok_json_folder(_set(("model", "byte_fallback"), True)), UNSUPPORTED,
     "byte_fallback"),
]


# -------------------------------------------------------------- interactions TSV

TSV_GOOD = b"u1\ti1\t4\t881250949\nu1\ti2\t3\t881250950\nu2\ti1\t5\t881250951\n"

CSV_GOOD = b"user,item,rating,timestamp\nu1,i1,4,2024-01-31T10:00:00Z\nu2,\"i,2\",3,1706695200\n"


def gzipped(data, cut=None):
    """gzip bytes with a fixed mtime (reproducible), optionally cut short or corrupted."""
    import gzip
    z = gzip.compress(data, mtime=0)
    return z[:cut] if cut is not None else z


TSV = [
    ("one-field", TSV_GOOD + b"u3\n", FORMAT, ":4: expected at least 2 fields separated by \"tab\""),
    ("empty-user", TSV_GOOD + b"\ti1\t1\n", FORMAT, ":4: the user id is empty"),
    ("empty-item", b"u1\t\t1\n" + TSV_GOOD, FORMAT, ":1: the item id is empty"),
    ("value-word", TSV_GOOD + b"u3\ti1\tfive\n", FORMAT, ":4: value \"five\" is not a finite number"),
    ("value-inf", TSV_GOOD + b"u3\ti1\tinf\n", FORMAT, "value \"inf\" is not a finite number"),
    ("value-nan", TSV_GOOD + b"u3\ti1\tnan\n", FORMAT, "value \"nan\" is not a finite number"),
    ("value-overflows-float", TSV_GOOD + b"u3\ti1\t1e39\n", FORMAT, "value \"1e39\" is not a finite number"),
    ("value-trailing-junk", TSV_GOOD + b"u3\ti1\t4stars\n", FORMAT, "value \"4stars\""),
    ("timestamp-word", TSV_GOOD + b"u3\ti1\t4\tyesterday\n", FORMAT,
     "timestamp \"yesterday\" is neither a number of seconds nor an ISO-8601 date"),
    ("timestamp-overflow", TSV_GOOD + b"u3\ti1\t4\t1e400\n", FORMAT, "timestamp \"1e400\""),
    ("timestamp-bad-date", TSV_GOOD + b"u3\ti1\t4\t2023-02-29\n", FORMAT, "timestamp \"2023-02-29\""),
    ("timestamp-bad-zone", TSV_GOOD + b"u3\ti1\t4\t2023-02-01T10:00+25:00\n", FORMAT, "timestamp"),
    ("invalid-utf8-user", TSV_GOOD + b"u\xff\ti1\n", INVALID_UTF8, ":4: the user id is not valid UTF-8"),
    ("invalid-utf8-item", TSV_GOOD + b"u3\ti\xc3\n", INVALID_UTF8, ":4: the item id is not valid UTF-8"),
    ("nul-byte", TSV_GOOD + b"u3\0\ti1\n", FORMAT, ":4: NUL byte in line"),
    ("csv-unterminated-quote", CSV_GOOD + b"u3,\"i1,4\n", FORMAT, ":4: a quoted field has no closing quote"),
    ("csv-text-after-quote", CSV_GOOD + b"u3,\"i1\"x,4\n", FORMAT, ":4: text follows a closing quote"),
    ("csv-tab-in-id", CSV_GOOD + b"\"u\t3\",i1,4\n", FORMAT, "3\" contains a tab or a line break"),
    ("gzip-truncated", gzipped(TSV_GOOD, cut=30), FORMAT, "the gzip data end early"),
    ("gzip-corrupt", gzipped(TSV_GOOD)[:12] + b"\xff" * 20 + gzipped(TSV_GOOD)[32:], FORMAT, "corrupt gzip data"),
    ("gzip-trailing-junk", gzipped(TSV_GOOD) + b"junk", FORMAT, "unexpected data after the gzip stream"),
    ("gzip-bad-line", gzipped(TSV_GOOD + b"u3\ti1\tfive\n"), FORMAT, ":4: value \"five\""),
]


# ------------------------------------------------------------------ ranker files

RANKER = [
    ("format-name", ranker_model(meta={"format": "prism-bart"}), FORMAT, "format \"prism-bart\" is not \"prism-ranker\""),
    ("format-version", ranker_model(meta={"format_version": "2"}), UNSUPPORTED, "format_version \"2\""),
    ("no-metadata-key", ranker_model(meta={"factors": None}), FORMAT, "__metadata__ lacks \"factors\""),
    ("algorithm-unknown", ranker_model(meta={"algorithm": "svd"}), FORMAT, "unknown algorithm \"svd\""),
    ("factors-zero", ranker_model(meta={"factors": "0"}), FORMAT, "\"factors\" = \"0\" is not an integer in"),
    ("users-word", ranker_model(meta={"users": "two"}), FORMAT, "\"users\" = \"two\""),
    ("regularization-negative", ranker_model(meta={"regularization": "-1"}), FORMAT, "regularization must be a finite number above 0, not -1"),
    ("alpha-nan", ranker_model(meta={"alpha": "nan"}), FORMAT, "\"alpha\" = \"nan\" is not a finite number"),
    ("seed-word", ranker_model(meta={"seed": "lucky"}), FORMAT, "\"seed\" = \"lucky\" is not an integer"),
    ("missing-item-factors", ranker_model(drop=("item_factors",)), FORMAT, "tensor item_factors is missing"),
    ("missing-item-bias", ranker_model("bpr", drop=("item_bias",)), FORMAT, "tensor item_bias is missing"),
    ("users-contradict-factors", ranker_model(meta={"users": "3"}), FORMAT,
     "tensor user_factors has shape [2, 2], expected [3, 2] from __metadata__"),
    ("factors-contradict", ranker_model(meta={"factors": "3"}), FORMAT,
     "tensor user_factors has shape [2, 2], expected [2, 3]"),
    ("factors-wrong-dtype", ranker_model(doubles=("user_factors",)), FORMAT,
     "tensor user_factors has dtype F64, expected F32"),
    ("ids-not-json", ranker_model(meta={"user_ids": "[\"u1\","}), FORMAT, "user_ids"),
    ("ids-count", ranker_model(meta={"item_ids": "[\"i1\", \"i2\"]"}), FORMAT, "item_ids is not an array of 3 ids"),
    ("ids-repeated", ranker_model(meta={"user_ids": "[\"u1\", \"u1\"]"}), FORMAT, "user_ids[1] \"u1\" repeats user_ids[0]"),
    ("ids-empty-string", ranker_model(meta={"item_ids": "[\"i1\", \"\", \"i3\"]"}), FORMAT, "item_ids[1] is not a non-empty string"),
    ("seen-item-out-of-range", ranker_model(seen=((0, 1), (1, 7))), OUT_OF_RANGE,
     "seen matrix: user 1 has item 7, which is out of range (there are 3 items)"),
]


# ------------------------------------------------------------------- writing

def write(rel, data):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_case(rel, content):
    """A file (bytes) or a folder ({name: bytes})."""
    if isinstance(content, dict):
        for name, data in content.items():
            write(os.path.join(rel, name), data)
    else:
        write(rel, content)


# loader (see test_bad.c), folder, file suffix ("" for folder-shaped cases), cases
GROUPS = [
    ("safetensors", "safetensors", ".safetensors", SAFETENSORS),
    ("safetensors-cap64", "safetensors", ".safetensors", SAFETENSORS_CAPPED),
    ("bart", "bart", "", BART),
    ("bart-cap1k", "bart", "", BART_CAPPED),
    ("tokenizer", "tokenizer", "", TOKENIZER),
    ("interactions", "interactions", ".tsv", TSV),
    ("ranker", "ranker", ".safetensors", RANKER),
]

# The unbroken originals, which must load (test_original_loads).
VALID = {
    "valid/valid.safetensors": ST_VALID,
    "valid/bart": bart_folder(),
    "valid/tokenizer": tok_folder(),
    "valid/tokenizer-json": {"tokenizer.json": tokenizer_json()},
    "valid/interactions.tsv": TSV_GOOD,
    "valid/ranker.safetensors": ranker_model(),
}


def main():
    rows = []
    for sub in {"valid"} | {g[1] for g in GROUPS}:
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    for rel, content in VALID.items():
        write_case(rel, content)
    for loader, folder, suffix, cases in GROUPS:
        for name, content, status, mentions in cases:
            rel = "%s/%s%s" % (folder, name, suffix)
            write_case(rel, content)
            rows.append((rel, loader, status, mentions))
    with open(os.path.join(HERE, "manifest.tsv"), "w", encoding="utf-8") as f:
        f.write("# file\tloader\tstatus\tmessage contains (generated by generate.py)\n")
        for row in rows:
            assert all("\t" not in c and "\n" not in c for c in row), row
            f.write("\t".join(row) + "\n")
    print("%d bad files" % len(rows))


if __name__ == "__main__":
    main()
