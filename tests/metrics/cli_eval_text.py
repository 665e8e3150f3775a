#!/usr/bin/env python3
"""prism eval-text against the reference values of PETER's code, and its input handling.

usage: cli_eval_text.py PRISM_CLI FIXTURES_DIR DEMO_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

CLI, FIXTURES, DEMO = sys.argv[1:4]
FIGURES = {"bleu1", "bleu4", "usr", "usn", "fmr", "fcr", "div"} | {
    f"rouge_{n}_{k}_score" for n in "12l" for k in "frp"}


def run(lines, *args, check=True):
    text = "".join(line if isinstance(line, str) else json.dumps(line) + "\n" for line in lines)
    p = subprocess.run([CLI, "eval-text", *args], input=text.encode(), capture_output=True)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}: {p.stderr.decode()}")
    return p


class EvalTextTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name, text=None):
        p = os.path.join(self.tmp.name, name)
        if text is not None:
            with open(p, "w", encoding="utf-8") as f:
                f.write(text)
        return p

    def test_fixtures(self):
        for name in ("xrec_google_1000", "edge_cases"):
            with open(os.path.join(FIXTURES, "metrics", name + ".json"), encoding="utf-8") as f:
                fx = json.load(f)
            features = self.path("features.txt", "\n".join(fx["feature_set"]) + "\n")
            lines = [{"reference": r, "hypothesis": h, "feature": f}
                     for r, h, f in zip(fx["references"], fx["hypotheses"], fx["features"])]
            out = json.loads(run(lines, "--feature-set", features).stdout)
            self.assertEqual(set(out), set(fx["expected"]) | {"count"})
            self.assertEqual(set(fx["expected"]), FIGURES)
            self.assertEqual(out["count"], len(lines))
            for key, want in fx["expected"].items():
                with self.subTest(fixture=name, figure=key):
                    self.assertLessEqual(abs(out[key] - want), 1e-9 * abs(want), (out[key], want))

    def test_bad_lines_are_counted(self):
        p = run(['{"reference": "a b", "hypothesis": "a b"}\n', "\n", "not json\n", "[1]\n",
                 {"reference": "a"}, {"reference": "a", "hypothesis": "b", "feature": 3},
                 {"reference": "a b", "hypothesis": "a c", "feature": None}])
        out = json.loads(p.stdout)
        self.assertEqual(out["count"], 2)
        err = p.stderr.decode()
        for lineno in (3, 4, 5, 6):
            self.assertIn(f"line {lineno}:", err)
        self.assertNotIn("line 2:", err)
        self.assertIn("4 bad lines skipped", err)
        self.assertIsNone(out["fmr"])

    def test_empty_input_is_an_error(self):
        for lines in ([], ["\n"], ["oops\n"]):
            p = run(lines, check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"no line to score", p.stderr)
            self.assertEqual(p.stdout, b"")

    def test_options(self):
        line = [{"reference": "It's GREAT.", "hypothesis": "it 's great ."}]
        plain = json.loads(run(line).stdout)
        pepler = json.loads(run(line, "--tokenize", "pepler", "--lowercase").stdout)
        self.assertEqual(plain["rouge_1_p_score"], 0.0)
        self.assertAlmostEqual(pepler["rouge_1_f_score"], 100.0, places=6)
        self.assertEqual(run(line, "--tokenize", "spacy", check=False).returncode, 1)
        self.assertEqual(run(line, "--feature-set", "/nonexistent", check=False).returncode, 1)
        self.assertEqual(run(line, "--bogus", check=False).returncode, 1)
        p = subprocess.run([CLI, "eval-text", "--help"], capture_output=True)
        self.assertEqual(p.returncode, 0)
        for option in ("--feature-set", "--tokenize", "--lowercase", "--catalog", "--samples",
                       "default", "example"):
            self.assertIn(option.encode(), p.stdout)

    def test_faithfulness(self):
        samples = self.path("samples.jsonl")
        lines = [
            {"reference": "You liked Winter Hours.", "hypothesis": "Like Winter Hours, The Glass "
             "Road is quiet.", "item": "The Glass Road", "grounded": ["Winter Hours"]},
            {"hypothesis": "the glass road, like ORCHARD IN AUGUST", "item": "The Glass Road",
             "grounded": []},
            {"hypothesis": "x", "item": "No Such Book", "grounded": []},
            {"hypothesis": "x", "item": "The Glass Road"},
        ]
        p = run(lines, "--catalog", os.path.join(DEMO, "catalog.tsv"), "--samples", samples)
        out = json.loads(p.stdout)
        self.assertEqual(out["count"], 1)  # one line had a reference
        f = out["faithfulness"]
        self.assertEqual(f["count"], 2)
        self.assertEqual(f["titles_named"], 4)
        self.assertEqual(f["titles_grounded"], 3)
        self.assertEqual(f["hallucination_rate"], 0.5)
        self.assertEqual(f["item_named_rate"], 1.0)
        self.assertEqual(f["grounded_share"], 0.75)
        err = p.stderr.decode()
        self.assertIn("line 3: prism_faithfulness_add: the item \"No Such Book\"", err)
        self.assertIn('line 4: "grounded" must be an array', err)
        with open(samples, encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh]
        self.assertEqual([r["line"] for r in rows], [1, 2])
        self.assertEqual(rows[1]["titles"], ["The Glass Road", "Orchard in August"])
        self.assertTrue(rows[1]["hallucinated"])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
