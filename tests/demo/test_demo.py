"""Checks of the demo data, prompt format, oracle, BPE vocabulary and student.

    python3 tests/demo/test_demo.py [-v] [TestClass[.test_name]]

PRISM_DEMO_DIR and PRISM_FIXTURES override where examples/demo and the
HuggingFace fixtures are found; PRISM_CLI names the prism program (the
vocabulary check is skipped without it).

Standard library only; the student check runs when torch is importable
(Debian's /usr/bin/python3 with python3-torch) and is skipped otherwise.
"""

import collections
import filecmp
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.abspath(os.environ.get("PRISM_DEMO_DIR")
                       or os.path.join(HERE, "..", "..", "examples", "demo"))
FIXTURES = os.path.abspath(os.environ.get("PRISM_FIXTURES") or os.path.join(HERE, "..", "fixtures"))
MODEL = os.path.join(DEMO, "model")
sys.path.insert(0, DEMO)

import bpe  # noqa: E402
import make_data  # noqa: E402
import oracle  # noqa: E402
import pairs  # noqa: E402
import prompt  # noqa: E402

PRISM = os.environ.get("PRISM_CLI")


class DataTest(unittest.TestCase):
    def test_regenerates_identical_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            make_data.main(["--out-dir", tmp])
            for name in ("catalog.tsv", "interactions.tsv"):
                self.assertTrue(filecmp.cmp(os.path.join(tmp, name), os.path.join(DEMO, name),
                                            shallow=False), name)

    def test_catalog_is_well_formed(self):
        items = make_data.load_catalog(os.path.join(DEMO, "catalog.tsv"))
        self.assertEqual(len(items), len(make_data.GENRES) * make_data.BOOKS_PER_GENRE)
        self.assertEqual(len({it.item_id for it in items}), len(items))
        self.assertEqual(len({it.title for it in items}), len(items))
        for it in items:
            self.assertIn(it.genre, make_data.GENRES)
            self.assertIn(it.mood, make_data.MOODS)
            self.assertEqual(prompt.normalize(it.title), it.title)

    def test_interactions_reference_the_catalog_in_time_order(self):
        ids = {it.item_id for it in make_data.load_catalog(os.path.join(DEMO, "catalog.tsv"))}
        last = {}
        seen = set()
        with open(os.path.join(DEMO, "interactions.tsv"), encoding="utf-8") as f:
            for line_no, line in enumerate(f, start=1):
                user, item, stars, when = line.rstrip("\n").split("\t")
                self.assertIn(item, ids, "line %d" % line_no)
                self.assertIn(int(stars), range(1, 6), "line %d" % line_no)
                self.assertGreater(int(when), last.get(user, 0), "line %d" % line_no)
                self.assertNotIn((user, item), seen, "line %d" % line_no)
                last[user] = int(when)
                seen.add((user, item))
        self.assertEqual(len(last), 150)

    def test_taste_is_planted(self):
        """Readers read their two genres far more than the 2/8 chance rate."""
        _, users = make_data.generate(7, 150)
        n = sum(len(h) for _, _, h in users)
        on_taste = sum(1 for _, t, h in users for it, _, _ in h
                       if it.genre in (t.primary, t.secondary))
        self.assertGreater(on_taste / n, 0.5)


class PromptTest(unittest.TestCase):
    def test_normalize(self):
        self.assertEqual(prompt.normalize("  a \t\n b\r\n"), "a b")
        self.assertEqual(prompt.normalize(" \n "), "unknown")
        self.assertEqual(prompt.normalize("x" * 60), "x" * 48)
        self.assertEqual(prompt.normalize("a" * 47 + " bcd"), "a" * 47)
        cut = prompt.normalize("a" + "\u00e9" * 30)
        self.assertEqual(cut, "a" + "\u00e9" * 23)
        self.assertEqual(prompt.normalize("\u00e9" * 30), "\u00e9" * 24)
        self.assertEqual(prompt.normalize("caf\u00e9\u00a0bar"), "caf\u00e9\u00a0bar")

    def test_lists_truncate_and_default(self):
        history = [("T%d" % i, "g") for i in range(12)]
        evidence = [("E%d" % i, "h") for i in range(5)]
        text = prompt.build_prompt(history, ("X", "y"), evidence)
        self.assertEqual(text, "history: " + "; ".join("T%d (g)" % i for i in range(4, 12))
                         + " | item: X (y) | evidence: E0 (h); E1 (h); E2 (h)")
        self.assertEqual(prompt.build_prompt([], ("X", ""), []),
                         "history: none | item: X (unknown) | evidence: none")

    def test_prompt_md_examples(self):
        """The worked example in PROMPT.md is what prompt.py and oracle.py produce."""
        with open(os.path.join(DEMO, "PROMPT.md"), encoding="utf-8") as f:
            blocks = re.findall(r"```\n(.*?)\n```", f.read(), re.S)
        history = [("The Glass Letters", "literary drama"), ("Witness at Ashby Hall", "mystery"),
                   ("Winter Hours", "literary drama")]
        item = ("Orchard in August", "literary drama")
        evidence = [("Winter Hours", "literary drama"), ("The Glass Letters", "literary drama")]
        self.assertIn(prompt.build_prompt(history, item, evidence), blocks)
        self.assertIn(oracle.explain(history, item, evidence), blocks)
        self.assertIn(prompt.build_prompt([], ("The Last\nEngine", ""), []), blocks)


class OracleTest(unittest.TestCase):
    H = [("A", "mystery"), ("B", "mystery"), ("C", "romance"), ("D", "comedy"), ("E", "fantasy")]

    def explain(self, item, evidence, history=None):
        return oracle.explain(self.H if history is None else history, item, evidence)

    def test_every_rule(self):
        cases = [
            (("X", "mystery"), [], None, "X is a popular twisty mystery that readers with"),
            (("X", "mystery"), [("A", "mystery")], self.H[:2], "You have only just started with A and B;"),
            (("X", "mystery"), [("A", "mystery")], self.H[:4], "You clearly love mysteries: A."),
            (("X", "mystery"), [("A", "mystery")], None,
             "Because you enjoyed A, you may like X: another twisty mystery."),
            (("X", "mystery"), [("A", "mystery"), ("B", "mystery")], None,
             "with the same clever puzzles."),
            (("X", "mystery"), [("A", "mystery"), ("C", "romance")], None,
             "X is a twisty mystery like A, with the tender relationships you liked in C."),
            (("X", "history"), [("A", "mystery"), ("B", "mystery")], None,
             "For a change from mysteries such as A and B, try X: a vivid narrative history"),
            (("X", "romance"), [("A", "mystery"), ("E", "fantasy")], None,
             "Readers who liked A and E often pick up X next, a warm romance known for"),
            (("X", "opera"), [("A", "mystery")], None, "an opera book with plenty of style."),
        ]
        for item, evidence, history, expected in cases:
            self.assertIn(expected, self.explain(item, evidence, history), (item, evidence))

    def test_generated_pairs_use_every_rule_and_only_prompt_titles(self):
        data = pairs.make_pairs(5, 600)
        self.assertEqual(data, pairs.make_pairs(5, 600))
        titles = [it.title for it in make_data.load_catalog(os.path.join(DEMO, "catalog.tsv"))]
        openings = collections.Counter()
        for text, target in data:
            openings[" ".join(target.split()[:2])] += 1
            for title in titles:
                if title in target:
                    self.assertIn(title, text)
        for prefix in ("Because you", "You clearly", "You have", "For a", "Readers who"):
            self.assertGreater(openings[prefix], 10, prefix)

    def test_cli(self):
        import io
        import contextlib
        stdin, out = sys.stdin, io.StringIO()
        sys.stdin = io.StringIO('{"history": [["A", "mystery"]], "item": ["X", "mystery"], '
                                '"evidence": [["A", "mystery"]]}\n[1]\n{"item": 3}\n')
        try:
            with contextlib.redirect_stdout(out):
                oracle.main()
        finally:
            sys.stdin = stdin
        lines = [json.loads(x) for x in out.getvalue().splitlines()]
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[0]["prompt"],
                         "history: A (mystery) | item: X (mystery) | evidence: A (mystery)")
        self.assertIn("line 2", lines[1]["error"])
        self.assertIn("line 3: item", lines[2]["error"])


class BpeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tok = bpe.Tokenizer(os.path.join(MODEL, "vocab.json"), os.path.join(MODEL, "merges.txt"))

    @unittest.skipUnless(PRISM, "PRISM_CLI is not set")
    def test_teacher_flow_regenerates_pairs_and_vocabulary(self):
        """retrain.py's first steps: the oracle answers prism teacher-prompts, prism
        teacher-import makes the pairs (those of pairs.py, byte for byte), and prism
        tokenizer-train learns the committed vocab.json and merges.txt from them."""
        def run(cmd, stdin, stdout):
            with open(stdin, "rb") as src, open(stdout, "wb") as dst:
                subprocess.run(cmd, stdin=src, stdout=dst, check=True)

        with tempfile.TemporaryDirectory() as tmp:
            p = lambda name: os.path.join(tmp, name)  # noqa: E731
            with open(p("situations.jsonl"), "w") as f:
                for history, item, evidence in pairs.make_situations(1234, 9600):
                    f.write(json.dumps({"history": history, "item": item,
                                        "evidence": evidence}) + "\n")
            run([PRISM, "teacher-prompts"], p("situations.jsonl"), p("requests.jsonl"))
            run([sys.executable, os.path.join(DEMO, "oracle.py")], p("requests.jsonl"),
                p("answers.jsonl"))
            subprocess.run([PRISM, "teacher-import", "--requests", p("requests.jsonl"),
                            "--answers", p("answers.jsonl"), "--catalog",
                            os.path.join(DEMO, "catalog.tsv"), "--drop-hallucinated", "--out",
                            p("pairs.jsonl")], check=True, capture_output=True)
            with open(p("pairs.jsonl"), encoding="utf-8") as f:
                got = [json.loads(line) for line in f]
            self.assertEqual([(g["source"], g["target"]) for g in got],
                             pairs.make_pairs(1234, 9600))
            subprocess.run([PRISM, "tokenizer-train", "--jsonl", p("pairs.jsonl"),
                            "--vocab-size", "1000", "--out", tmp, "--threads", "1"],
                           check=True, capture_output=True)
            for name in ("vocab.json", "merges.txt"):
                self.assertTrue(filecmp.cmp(os.path.join(tmp, name), os.path.join(MODEL, name),
                                            shallow=False), name)

    def test_vocabulary_layout(self):
        """ByteLevelBPETokenizer.train()'s layout: the specials, the 256 byte symbols in
        code-point order, then one token per merge, in merge order."""
        vocab = self.tok.vocab
        self.assertEqual(sorted(vocab.values()), list(range(len(vocab))))
        self.assertEqual([vocab[s] for s in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")],
                         [0, 1, 2, 3, 4])
        alphabet = sorted(bpe.BYTE_TO_CHAR.values())
        self.assertEqual([vocab[c] for c in alphabet], list(range(5, 5 + 256)))
        self.assertTrue(900 <= len(vocab) <= 2048, len(vocab))
        with open(os.path.join(MODEL, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "#version: 0.2")
        self.assertEqual(len(lines) - 1, len(vocab) - 5 - 256)
        for k, line in enumerate(lines[1:]):
            a, b = line.split(" ")
            self.assertEqual(vocab[a + b], 5 + 256 + k)

    def test_round_trip_without_unknowns(self):
        for text, target in pairs.make_pairs(3, 300):
            for s in (text, target):
                ids = self.tok.encode(s)
                self.assertNotIn(bpe.UNK, ids)
                self.assertEqual(self.tok.decode(ids), s)
        self.assertEqual(self.tok.decode(self.tok.encode("caf\u00e9 \u2603")), "caf\u00e9 \u2603")

    def test_matches_huggingface_on_ascii_cases(self):
        """The shared encoder gives HF BartTokenizer's ids with the real BART vocabulary."""
        real = bpe.Tokenizer(os.path.join(FIXTURES, "bart-vocab", "vocab.json"),
                             os.path.join(FIXTURES, "bart-vocab", "merges.txt"))
        checked = 0
        with open(os.path.join(FIXTURES, "tokenizer_cases.jsonl"), encoding="utf-8") as f:
            for line in f:
                case = json.loads(line)
                if not case["text"].isascii() or "<" in case["text"]:
                    continue
                self.assertEqual(real.encode(case["text"]), case["ids"], case["text"])
                self.assertEqual(real.decode(case["ids"]), case["decoded_skip_special"])
                checked += 1
        self.assertGreater(checked, 50)


def read_safetensors_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        f.seek(0, os.SEEK_END)
        return header, f.tell() - 8 - n


class ModelTest(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(MODEL, "config.json"), encoding="utf-8") as f:
            self.config = json.load(f)

    def test_files_and_size(self):
        for name in ("config.json", "generation_config.json", "model.safetensors",
                     "vocab.json", "merges.txt"):
            self.assertTrue(os.path.isfile(os.path.join(MODEL, name)), name)
        total = sum(os.path.getsize(os.path.join(MODEL, n)) for n in os.listdir(MODEL))
        self.assertLessEqual(total, 15 * 1024 * 1024)

    def test_config_matches_vocabulary_and_tensors(self):
        c = self.config
        with open(os.path.join(MODEL, "vocab.json"), encoding="utf-8") as f:
            self.assertEqual(c["vocab_size"], len(json.load(f)))
        self.assertEqual(c["model_type"], "bart")
        header, data_bytes = read_safetensors_header(os.path.join(MODEL, "model.safetensors"))
        header.pop("__metadata__", None)
        self.assertEqual(header["model.shared.weight"]["shape"], [c["vocab_size"], c["d_model"]])
        self.assertEqual(header["model.encoder.embed_positions.weight"]["shape"],
                         [c["max_position_embeddings"] + 2, c["d_model"]])
        ffn = "model.decoder.layers.%d.fc1.weight" % (c["decoder_layers"] - 1)
        self.assertEqual(header[ffn]["shape"], [c["decoder_ffn_dim"], c["d_model"]])
        spans = sorted(tuple(t["data_offsets"]) for t in header.values())
        self.assertEqual(spans[0][0], 0)
        self.assertEqual(spans[-1][1], data_bytes)
        for (_, end), (start, _) in zip(spans, spans[1:]):
            self.assertEqual(end, start)
        self.assertTrue(all(t["dtype"] == "F32" for t in header.values()))

    def test_generation_defaults(self):
        with open(os.path.join(MODEL, "generation_config.json"), encoding="utf-8") as f:
            gen = json.load(f)
        self.assertEqual(gen["decoder_start_token_id"], 2)
        self.assertEqual(gen["forced_bos_token_id"], 0)
        self.assertEqual(gen["forced_eos_token_id"], 2)
        self.assertIn(gen["num_beams"], (1, 2))
        self.assertGreaterEqual(gen["max_length"], 48)
        # Ends a degenerate loop on unseen titles; changes no held-out explanation.
        self.assertEqual(gen["no_repeat_ngram_size"], 5)


class StudentTest(unittest.TestCase):
    """The committed student reproduces the oracle on fresh prompts."""

    def test_student_matches_oracle(self):
        try:
            import torch
        except ImportError:
            self.skipTest("torch is not installed")
        sys.path.insert(0, os.path.join(HERE, "..", "bench"))
        from torch_bart import Bart
        torch.set_num_threads(1)
        model = Bart.from_pretrained(MODEL)
        tok = bpe.Tokenizer(os.path.join(MODEL, "vocab.json"), os.path.join(MODEL, "merges.txt"))
        data = pairs.make_pairs(424242, 48)
        rows = [tok.encode(p) for p, _ in data]
        width = max(len(r) for r in rows)
        ids = torch.tensor([r + [bpe.PAD] * (width - len(r)) for r in rows])
        seqs, _ = model.generate(ids, (ids != bpe.PAD).long())
        texts = [tok.decode(s.tolist()).strip() for s in seqs]
        exact = sum(t == target for t, (_, target) in zip(texts, data))
        print("student: %d/%d exact" % (exact, len(data)), file=sys.stderr)
        self.assertGreaterEqual(exact / len(data), 0.6, list(zip(texts, data))[:3])


if __name__ == "__main__":
    unittest.main(verbosity=2)
