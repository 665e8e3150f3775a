import json
import os
import tempfile
import threading
import unittest

import prism
from util import FIXTURES, VOCAB


def load_cases():
    with open(os.path.join(FIXTURES, "tokenizer_cases.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def tokenizer_json():
    """A ByteLevel BPE tokenizer.json holding the BART fixture vocabulary."""
    with open(os.path.join(VOCAB, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(VOCAB, "merges.txt"), encoding="utf-8") as f:
        merges = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": t == "<mask>",
              "rstrip": False, "normalized": False, "special": True}
             for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")]
    return json.dumps({"version": "1.0", "added_tokens": added, "normalizer": None,
                       "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                                         "trim_offsets": True, "use_regex": True},
                       "model": {"type": "BPE", "dropout": None, "vocab": vocab,
                                 "merges": merges}})


class TokenizerParityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tok = prism.Tokenizer(VOCAB)
        cls.cases = load_cases()

    @classmethod
    def tearDownClass(cls):
        cls.tok.close()

    def test_all_fixture_cases(self):
        self.assertEqual(len(self.cases), 384)
        for case in self.cases:
            with self.subTest(text=case["text"][:40]):
                self.assertEqual(self.tok.encode(case["text"]), case["ids"])
                self.assertEqual(self.tok.encode(case["text"], special=False),
                                 case["ids_no_special"])
                self.assertEqual(self.tok.decode(case["ids"]), case["decoded"])
                self.assertEqual(self.tok.decode(case["ids"], skip_special=True),
                                 case["decoded_skip_special"])

    def test_batch_equals_single(self):
        texts = [c["text"] for c in self.cases]
        batch = self.tok.encode_batch(texts)
        self.assertEqual(batch, [c["ids"] for c in self.cases])
        self.assertEqual(self.tok.encode_batch(texts[:5], special=False),
                         [c["ids_no_special"] for c in self.cases[:5]])
        self.assertEqual(self.tok.encode_batch([]), [])

    def test_parallel_batch(self):
        # Enough text for the pool (64 KiB), on two threads: the same ids as the serial path.
        texts = [c["text"] for c in self.cases] * 8
        before = prism.get_num_threads()
        prism.set_num_threads(2)
        try:
            self.assertEqual(self.tok.encode_batch(texts, parallel=True),
                             self.tok.encode_batch(texts))
        finally:
            prism.set_num_threads(before)

    def test_unicode_version(self):
        self.assertRegex(prism.unicode_version(), r"^\d+\.\d+\.\d+$")

    def test_threads_share_one_tokenizer(self):
        got = [None] * len(self.cases)

        def work(part):
            for i in range(part, len(self.cases), 4):
                got[i] = self.tok.encode(self.cases[i]["text"])
        threads = [threading.Thread(target=work, args=(p,)) for p in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(got, [c["ids"] for c in self.cases])

    def test_pair(self):
        a, b = "Hello world", "A second text."
        ea, eb = self.tok.encode(a, special=False), self.tok.encode(b, special=False)
        bos, eos = self.tok.bos_token_id, self.tok.eos_token_id
        self.assertEqual(self.tok.encode_pair(a, b), [bos] + ea + [eos, eos] + eb + [eos])
        self.assertEqual(self.tok.encode_pair(a, b, special=False), ea + eb)

    def test_bytes_input_and_long_text(self):
        text = "Ünïcödé text, repeated. " * 400
        self.assertEqual(self.tok.encode(text.encode("utf-8")), self.tok.encode(text))
        self.assertEqual(self.tok.decode(self.tok.encode(text, special=False)), text)

    def test_vocabulary(self):
        self.assertEqual(self.tok.vocab_size, 50265)
        self.assertEqual(len(self.tok), 50265)
        self.assertEqual((self.tok.bos_token_id, self.tok.pad_token_id, self.tok.eos_token_id,
                          self.tok.unk_token_id, self.tok.mask_token_id), (0, 1, 2, 3, 50264))
        self.assertEqual(self.tok.token_to_id("Ġworld"), 232)
        self.assertEqual(self.tok.id_to_token(232), "Ġworld")
        self.assertIsNone(self.tok.token_to_id("no-such-token-in-the-vocab"))

    def test_clean_up(self):
        ids = self.tok.encode("Hello , world .", special=False)
        self.assertEqual(self.tok.decode(ids), "Hello , world .")
        self.assertEqual(self.tok.decode(ids, clean_up=True), "Hello, world.")

    def test_invalid_utf8(self):
        with self.assertRaises(prism.PrismError) as ctx:
            self.tok.encode(b"ab\xffcd")
        self.assertEqual(ctx.exception.name, "PRISM_ERR_INVALID_UTF8")
        self.assertIn("2", ctx.exception.message)
        self.assertEqual(self.tok.encode(b"ab\xffcd", replace_invalid=True),
                         self.tok.encode("ab\ufffdcd"))

    def test_errors(self):
        with self.assertRaises(prism.PrismError) as ctx:
            self.tok.decode([0, 60000])
        self.assertEqual(ctx.exception.name, "PRISM_ERR_OUT_OF_RANGE")
        with self.assertRaises(prism.PrismError) as ctx:
            self.tok.id_to_token(-1)
        self.assertEqual(ctx.exception.name, "PRISM_ERR_OUT_OF_RANGE")
        with self.assertRaises(TypeError):
            self.tok.encode(42)


class TokenizerLoadTest(unittest.TestCase):
    def assert_same_as_folder(self, tok):
        ref = prism.Tokenizer(VOCAB)
        for case in load_cases()[::7]:
            self.assertEqual(tok.encode(case["text"]), ref.encode(case["text"]))

    def test_files_and_memory(self):
        vocab, merges = os.path.join(VOCAB, "vocab.json"), os.path.join(VOCAB, "merges.txt")
        with prism.Tokenizer.from_files(vocab, merges) as tok:
            self.assert_same_as_folder(tok)
        with open(vocab, "rb") as v, open(merges, "rb") as m:
            with prism.Tokenizer.from_memory(v.read(), m.read()) as tok:
                self.assert_same_as_folder(tok)

    def test_tokenizer_json(self):
        text = tokenizer_json()
        with prism.Tokenizer.from_json_memory(text) as tok:
            self.assert_same_as_folder(tok)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tokenizer.json")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            for tok in (prism.Tokenizer(path), prism.Tokenizer(d), prism.Tokenizer.from_json(path)):
                with tok:
                    self.assert_same_as_folder(tok)

    def test_add_prefix_space(self):
        with prism.Tokenizer(VOCAB, add_prefix_space=True) as tok:
            self.assertEqual(tok.encode("Hello world"), [0, 20920, 232, 2])

    def test_load_errors(self):
        with self.assertRaises(prism.PrismError) as ctx:
            prism.Tokenizer("/nonexistent/folder")
        self.assertIn("/nonexistent/folder", ctx.exception.message)
        with self.assertRaises(prism.PrismError) as ctx:
            prism.Tokenizer.from_memory(b"{not json", b"#version: 0.2\n")
        self.assertEqual(ctx.exception.name, "PRISM_ERR_FORMAT")
        with self.assertRaises(prism.PrismError) as ctx:
            prism.Tokenizer.from_json_memory('{"model": {"type": "WordPiece"}}')
        self.assertIn(ctx.exception.name, ("PRISM_ERR_FORMAT", "PRISM_ERR_UNSUPPORTED"))

    def test_closed(self):
        tok = prism.Tokenizer(VOCAB)
        tok.close()
        tok.close()
        with self.assertRaises(ValueError):
            tok.encode("x")


if __name__ == "__main__":
    unittest.main()
