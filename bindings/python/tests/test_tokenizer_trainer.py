import json
import os
import pathlib
import tempfile
import threading
import unittest

import prism

TEXTS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog, the end",
         "żółć gęślą jaźń — the 猫 sat 🙂"] * 20


def read(folder):
    with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
        merges = f.read().splitlines()
    return vocab, merges


class TrainTokenizerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_texts_round_trip(self):
        out = os.path.join(self.dir, "tok")
        stats = prism.train_tokenizer(TEXTS, out, vocab_size=300)
        self.assertEqual(stats["vocab_size"], 300)
        self.assertEqual(stats["alphabet_size"], 256)
        self.assertEqual(stats["words"], sum(len(t.split()) for t in TEXTS) + 20)  # "," is a word of its own
        vocab, merges = read(out)
        self.assertEqual(list(vocab)[:6], ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "!"])
        self.assertEqual(merges[0], "#version: 0.2")
        self.assertEqual(len(merges) - 1, stats["merges"])
        with prism.Tokenizer(out) as tok:
            self.assertEqual((tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id,
                              tok.mask_token_id),
                             (0, 1, 2, 3, 4))
            for text in TEXTS[:4]:
                ids = tok.encode(text, special=False)
                self.assertLess(len(ids), len(text.encode()))
                self.assertEqual(tok.decode(ids), text)

    def test_files_equal_texts(self):
        text_file = pathlib.Path(self.dir, "corpus.txt")
        text_file.write_text("".join(t + "\n" for t in TEXTS), encoding="utf-8")
        pairs = pathlib.Path(self.dir, "pairs.jsonl")
        pairs.write_text("".join(json.dumps({"source": a, "target": b}) + "\n"
                                 for a, b in zip(TEXTS[::2], TEXTS[1::2])), encoding="utf-8")
        a, b, c = (os.path.join(self.dir, n) for n in "abc")
        prism.train_tokenizer([t + "\n" for t in TEXTS], a, vocab_size=400, min_frequency=1)
        prism.train_tokenizer(text_file, b, vocab_size=400, min_frequency=1)
        prism.train_tokenizer(TEXTS, c, vocab_size=400, min_frequency=1)
        self.assertEqual(read(a), read(b))
        d = os.path.join(self.dir, "d")
        prism.train_tokenizer([pairs], d, vocab_size=400, min_frequency=1,
                              fields=["source", "target"])
        self.assertEqual(read(c), read(d))

    def test_options(self):
        out = os.path.join(self.dir, "o")
        prism.train_tokenizer(TEXTS, out, vocab_size=100, min_frequency=0, special_tokens=[],
                              corpus_alphabet=True, limit_alphabet=20)
        vocab, _ = read(out)
        self.assertEqual(len([t for t in vocab if len(t) == 1]), 20)
        self.assertNotIn("<s>", vocab)

    def test_errors(self):
        with self.assertRaises(prism.PrismError) as ctx:
            prism.train_tokenizer(["x"], self.dir, vocab_size=100)
        self.assertIn("vocab_size 100 is smaller", ctx.exception.message)
        with self.assertRaises(prism.PrismError) as ctx:
            prism.train_tokenizer([b"ok", b"bad \xff"], self.dir)
        self.assertEqual(ctx.exception.name, "PRISM_ERR_INVALID_UTF8")
        self.assertIn("texts[1]: invalid UTF-8 at byte 4", ctx.exception.message)
        with self.assertRaises(OverflowError):
            prism.TokenizerTrainer(vocab_size=2**32)
        with self.assertRaises(TypeError):
            prism.train_tokenizer("corpus.txt", self.dir)

    def test_progress_cancels_and_reraises(self):
        seen = []
        with prism.TokenizerTrainer(vocab_size=400, min_frequency=1) as trainer:
            trainer.feed(TEXTS)
            with self.assertRaises(prism.PrismError) as ctx:
                trainer.train(self.dir, progress=lambda stage, done, total: stage != "merges")
            self.assertEqual(ctx.exception.name, "PRISM_ERR_CANCELLED")
            self.assertFalse(os.path.exists(os.path.join(self.dir, "vocab.json")))

            def boom(stage, done, total):
                raise KeyError("stop")
            with self.assertRaises(KeyError):
                trainer.train(self.dir, progress=boom)
            stats = trainer.train(self.dir, progress=lambda *a: seen.append(a))
        self.assertEqual(seen[-1], ("merges", stats["vocab_size"] - 261, 400 - 261))

    def test_threads_share_a_trainer(self):
        with prism.TokenizerTrainer(vocab_size=400) as trainer:
            workers = [threading.Thread(target=trainer.feed, args=(TEXTS,)) for _ in range(4)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            stats = trainer.train(self.dir)
        self.assertEqual(stats["words"], 4 * (sum(len(t.split()) for t in TEXTS) + 20))


if __name__ == "__main__":
    unittest.main()
