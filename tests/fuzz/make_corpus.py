#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Seeds are small valid inputs plus a few near-misses from the bad-file corpus,
so the fuzzer starts from every branch of the format. The generated files are
committed; rerun after changing:  python3 tests/fuzz/make_corpus.py
"""
import json
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


def json_seeds():
    yield "config", b'{"d_model": 64, "activation_function": "gelu", "scale_embedding": false, ' \
        b'"init_std": 0.02, "forced_bos_token_id": 0, "x": null}'
    yield "reals", b'{"a": 1.0, "b": -2.5e3, "c": 1e20, "d": -0.0}'
    yield "nested", b'{"a": [1, {"b": "c"}], "e": {}}'
    yield "array", b"[1,2,3]"


def tokenizer_files_seeds():
    yield "small", bad.tok_vocab_json() + b"\0" + bad.tok_merges_txt()
    yield "no-merges", bad.tok_vocab_json({"a": 0, "b": 1, "ab": 2}) + b"\0" + b"a b\n"
    yield "crlf", bad.tok_vocab_json() + b"\0" + bad.tok_merges_txt().replace(b"\n", b"\r\n")


def tokenizer_json_seeds():
    yield "small", bad.tokenizer_json()
    yield "pair-merges", bad.tokenizer_json().replace(b'"\u0120 t"', b'["\u0120", "t"]')


def encode_seeds():
    # The first byte holds the flags: 1 no specials, 2 replace invalid UTF-8.
    yield "hello", b"\0Hello world"
    yield "specials", b"\0<s>Hello <mask> world</s><pad>"
    yield "no-special", b"\1 caf\xc3\xa9  x\n\n\t 12,345 don't"
    yield "invalid", b"\3ok \xff\xfe \xe4\xb8 broken"
    yield "cjk-emoji", b"\1\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 \xd9\x85\xd8\xb1"
    with open(os.path.join(HERE, "..", "fixtures", "tokenizer_cases.jsonl"), encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % 40 == 7:
                yield "case-%d" % i, b"\1" + json.loads(line)["text"].encode("utf-8", "surrogatepass")


def decode_seeds():
    ids = lambda *v: struct.pack("<%di" % len(v), *v)
    yield "hello", b"\0" + ids(0, 31414, 232, 2)
    yield "skip-special", b"\1" + ids(0, 50264, 3, 1, 232, 2)
    yield "cleanup", b"\2" + ids(20920, 479, 18, 328)
    yield "partial-utf8", b"\0" + ids(6800, 17772)
    yield "out-of-range", b"\0" + ids(50265, -1)


def bart_config_seeds():
    tiny = os.path.join(HERE, "..", "fixtures", "tiny-bart")
    with open(os.path.join(tiny, "config.json"), "rb") as f:
        config = f.read()
    with open(os.path.join(tiny, "generation_config.json"), "rb") as f:
        generation = f.read()
    yield "tiny", config + b"\0" + generation
    yield "tiny-no-generation", config
    yield "relu", config.replace(b'"gelu"', b'"relu"')
    yield "scaled", config.replace(b'"scale_embedding": false', b'"scale_embedding": true')


def ranker_model_seeds():
    yield "als", bad.ranker_model()
    yield "bpr", bad.ranker_model("bpr")
    yield "mf", bad.ranker_model("mf", factors=3)
    yield "no-ids", bad.ranker_model(meta={"user_ids": None, "item_ids": None})
    yield "nothing-seen", bad.ranker_model(seen=())


def interactions_seeds():
    # an options byte (see fuzz_interactions.c), then the file
    import gzip
    yield "pairs", b"\0u1\ti1\nu1\ti2\nu2\ti1\n"
    yield "values", b"\0196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n"
    yield "crlf-blank", b"\x40a\tb\t1.5\r\n\r\nc\td\t-2e3\r\n"
    yield "unicode", b"\0" + "caf\u00e9\t\u4e2d\u6587\t1\n".encode()
    yield "csv-header", (b"\0\xef\xbb\xbfuserId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\r\n"
                         b"2,\"a, \"\"b\"\"\",4,2024-01-31T12:34:56.5+02:00\r\n")
    yield "ml-1m", b"\x03" + b"1::1193::5::978300760\n1::661::3::2000-12-31\n"
    yield "columns", b"\x36\x39" + b"a|b|c\ni1|2024-01-01|u1|9\ni2||u2|x\n"
    yield "gzip", b"\0" + gzip.compress(b"u1\ti1\t4\t881250949\nu2\ti2\t1\t2024-01-01 10:00Z\n" * 3,
                                         mtime=0)
    yield "gzip-members", b"\x40" + gzip.compress(b"a\tb\n", mtime=0) * 2


def generate_seeds():
    # params JSON, NUL, batch-size byte, int32 ids (see fuzz_generate.c)
    ids = lambda *v: struct.pack("<%di" % len(v), *v)
    yield "greedy", b'{"max_length": 8}\0\0' + ids(0, 15, 27, 99, 2)
    yield "beam", (b'{"num_beams": 3, "num_return_sequences": 2, "max_length": 10, '
                   b'"length_penalty": 0.5, "early_stopping": true, "no_repeat_ngram_size": 2}'
                   b'\0\1' + ids(0, 15, 27, 2, 0, 31, 2, 1))
    yield "sample", (b'{"do_sample": true, "top_k": 5, "top_p": 0.9, "temperature": 0.7, '
                     b'"seed": 3, "max_new_tokens": 6, "repetition_penalty": 1.3}\0\0'
                     + ids(0, 5, 6, 7, 2))
    yield "beam-sample", (b'{"do_sample": true, "num_beams": 2, "seed": 1, "max_length": 6, '
                          b'"min_length": 4, "forced_bos_token_id": null}\0\2'
                          + ids(0, 9, 2, 0, 8, 2, 0, 7, 2))
    yield "bad-ids", b"{}\0\0" + ids(0, 5000, -7, 2)
    yield "padded", b'{"max_length": 5}\0\1' + ids(0, 15, 27, 2, 0, 15, 2, 1)


def trainer_jsonl_seeds():
    # JSON Lines, or plain text when the input starts with "#".
    pair = {"source": "The Hobbit, by J. R. R. Tolkien", "target": "You liked 'Dune' -- try it!"}
    yield "pairs", "".join(json.dumps(pair, ensure_ascii=a) + "\n" for a in (True, False)).encode()
    yield "unicode", (json.dumps({"target": "żółć 猫 🙂\u0000 ok", "source": "x\r\ny"},
                                 ensure_ascii=False) + "\r\n\n  \n").encode()
    yield "missing-field", b'{"source": "a"}\n'
    yield "not-a-string", b'{"source": "a", "target": [1]}\n'
    yield "plain", b"# plain text: one document per line\nsecond line\r\nno newline"
    yield "bad-utf8", b"{\"source\": \"\xff\", \"target\": \"\"}\n"


def metrics_seeds():
    # options byte (1 PEPLER, 2 lower-case), NUL-separated: feature set, then (ref, hyp, feature)
    yield "plain", b"\0food\nservice\0the food was great\0the food was good\0food"
    yield "pepler-lower", (b"\3Road\nThe Glass Road\0It's GREAT, isn't it?!\0it 's great ."
                           b"\0road\0\0\0")
    yield "unicode", ("\2caf\u00e9\n\u039f\u03b4\u03cc\u03c2\0CAF\u00c9 au lait\0"
                      "caf\u00e9  \u039f\u0394\u038c\u03a3\u3000x\0caf\u00e9").encode()
    yield "invalid-utf8", b"\1a\n\xff\0a \xc3\0a\0a"
    yield "long", b"\0w1\nw2\0" + b"w1 w2 " * 200 + b"\0" + b"w2 w1 " * 150 + b"\0w1"


def catalog_seeds():
    with open(os.path.join(HERE, "..", "..", "examples", "demo", "catalog.tsv"), "rb") as f:
        yield "demo", f.read()
    yield "crlf-dupes", b"id\ttitle\r\n1\tA Book\r\n\r\n2\ta  BOOK\r\n3\tThe Glass Road\r\n"
    yield "title-only", "title\nStra\u00dfe der Zeit\n\u6771\u4eac\u7269\u8a9e\nHelp!\n".encode()
    yield "bad-line", b"item_id\ttitle\nb1\n"


def pipeline_catalog_seeds():
    with open(os.path.join(HERE, "..", "..", "examples", "demo", "catalog.tsv"), "rb") as f:
        yield "demo", f.read()
    yield "crlf-bom", b"\xef\xbb\xbfitem_id\ttitle\tgenre\r\nb01\tA Book\tdrama\r\n\r\nb02\tB\tx\r\n"
    yield "columns-reordered", "genre\ttitle\titem_id\nsf\tStra\u00dfe der Zeit\tb03\n\n".encode()
    yield "missing-items", b"item_id\ttitle\n1\tOne {item}\n"
    yield "bad-count", b"item_id\ttitle\tgenre\nb01\tA\n"
    yield "duplicate", b"item_id\ttitle\nb01\tA\nb01\tB\n"


def eval_text_seeds():
    yield "text", b'{"reference": "the food was great", "hypothesis": "good food", "feature": "food"}'
    yield "faithfulness", (b'{"hypothesis": "Like Winter Hours, The Glass Road is calm.", '
                           b'"item": "The Glass Road", "grounded": ["Winter Hours"], '
                           b'"reference": "You liked Winter Hours."}')
    yield "null-feature", b'{"reference": "", "hypothesis": "", "feature": null}'
    yield "bad-grounded", b'{"hypothesis": "x", "item": "The Glass", "grounded": [1]}'
    yield "not-object", b'["reference", "hypothesis"]'


def pairs_seeds():
    # The first byte: 1 micro-batches, 2 truncate, 4 tokenizer, 8/16/24 a limit of 4/16/64 tokens.
    yield "ids", b"\0" + b'{"input_ids": [0, 5, 9, 2], "labels": [0, 7, 2]}\n\n' \
        b'{"input_ids": [0, 2], "labels": [0, -100, 2]}\r\n'
    yield "text", b"\4" + '{"source": "Hello world", "target": "caf\u00e9 \u4e2d"}\n'.encode() \
        + b'{"input_ids": [0, 1, 2], "labels": [0, 2], "id": 7}\n'
    yield "truncate", b"\x0a" + b'{"input_ids": [0, 5, 6, 7, 8, 9, 2], "labels": [0, 1, 2, 3, 4, 2]}\n'
    yield "refuse", b"\x08" + b'{"input_ids": [0, 5, 6, 7, 8, 9, 2], "labels": [0, 2]}\n'
    yield "batches", b"\1" + b'{"input_ids": [[0, 5, 2], [0, 2, 1]], "labels": [[0, 2], [0, -100]], ' \
        b'"attention_mask": [[1, 1, 1], [1, 1, 0]]}\n{"input_ids": [[0, 9, 2]], "labels": [[2, 2]]}\n'
    yield "ragged", b"\1" + b'{"input_ids": [[0, 5, 2], [0, 2]], "labels": [[0, 2], [0, 2]]}\n'
    yield "bad-line", b"\0" + b'{"input_ids": [0, 5, 2], "labels": [0, 2]}\n{"source": 1}\n'


def teacher_seeds():
    # The first byte: odd, requests; even, answers (2 drops hallucinated, 4 reads "response").
    request = {"id": "u1/b2", "user": "u1", "item_id": "b2", "prompt": "Explain...\nExplanation:",
               "source": "history: Winter Hours (literary drama) | item: X (y) | evidence: none",
               "item": ["X", "y"], "history": [["Winter Hours", "literary drama"]],
               "evidence": []}
    yield "requests", b"\1" + (json.dumps(request) + "\n\n" + json.dumps(
        dict(request, id="\u00e9", history=[], user=None))).encode()
    yield "requests-bad", b"\1" + b'{"id": "a", "prompt": "p", "source": "s", "item": ["t"]}\n'
    yield "requests-error", b"\1" + b'{"error": {"code": "PRISM_ERR_FORMAT", "message": "x"}}\n'
    yield "answers", b"\0" + (
        b'{"id": 1, "explanation": "Like Winter Hours, The Glass Road."}\n\r\n'
        b'{"id": "2", "error": "timeout"}\n{"id": "2", "explanation": "  Red Asset fans. "}\n'
        b'{"id": "2", "explanation": "again"}\n{"id": "u1/b2", "explanation": " "}\n'
        b'{"id": "nope", "explanation": "x"}\n')
    yield "answers-filter", b"\2" + b'{"id": "2", "explanation": "Winter Hours or Red Asset"}\n'
    yield "answers-key", b"\4" + b'{"id": "1", "response": "The Glass Road"}\n{"id": "3"}\n'


SEEDS = {
    "bart_config": bart_config_seeds,
    "catalog": catalog_seeds,
    "decode": decode_seeds,
    "encode": encode_seeds,
    "eval_text": eval_text_seeds,
    "generate": generate_seeds,
    "interactions": interactions_seeds,
    "json": json_seeds,
    "metrics": metrics_seeds,
    "pairs": pairs_seeds,
    "pipeline_catalog": pipeline_catalog_seeds,
    "ranker_model": ranker_model_seeds,
    "safetensors": safetensors_seeds,
    "teacher": teacher_seeds,
    "tokenizer_files": tokenizer_files_seeds,
    "tokenizer_json": tokenizer_json_seeds,
    "trainer_jsonl": trainer_jsonl_seeds,
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
