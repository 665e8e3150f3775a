"""prism.metrics against the reference values of PETER's code, and the faithfulness check."""
import json
import math
import os
import random
import unittest

import prism
import prism.metrics
from util import DEMO, FIXTURES


def load(name):
    with open(os.path.join(FIXTURES, "metrics", name + ".json"), encoding="utf-8") as f:
        return json.load(f)


class TextMetricsTest(unittest.TestCase):
    def assert_fixture(self, got, fixture):
        expected = fixture["expected"]
        self.assertEqual(set(got), set(expected) | {"count"})
        self.assertEqual(got["count"], len(fixture["references"]))
        for key, want in expected.items():
            with self.subTest(figure=key):
                self.assertLessEqual(abs(got[key] - want), 1e-9 * abs(want), (got[key], want))
        self.assertEqual(got["usn"], expected["usn"])

    def test_fixtures(self):
        for name in ("xrec_google_1000", "edge_cases"):
            fx = load(name)
            got = prism.metrics.evaluate(fx["references"], fx["hypotheses"], fx["features"],
                                         fx["feature_set"])
            self.assert_fixture(got, fx)

    def test_streaming_and_iterators(self):
        fx = load("edge_cases")
        m = prism.metrics.TextMetrics(feature_set=fx["feature_set"])
        for r, h, f in zip(fx["references"], fx["hypotheses"], fx["features"]):
            m.add(r, h, f)
        self.assert_fixture(m.result(), fx)
        m.close()
        got = prism.metrics.evaluate(iter(fx["references"]), (h for h in fx["hypotheses"]),
                                     iter(fx["features"]), set(fx["feature_set"]))
        self.assert_fixture(got, fx)

    def test_shuffled(self):
        fx = load("xrec_google_1000")
        a = prism.metrics.evaluate(fx["references"], fx["hypotheses"], fx["features"],
                                   fx["feature_set"])
        rows = list(zip(fx["references"], fx["hypotheses"], fx["features"]))
        random.Random(5).shuffle(rows)
        refs, hyps, feats = zip(*rows)
        b = prism.metrics.evaluate(refs, hyps, feats, fx["feature_set"])
        for key in a:
            self.assertLessEqual(abs(a[key] - b[key]), 1e-12 * abs(a[key]), key)

    def test_undefined_and_options(self):
        got = prism.metrics.evaluate(["a b"], ["a b"])
        self.assertIsNone(got["fmr"])
        self.assertIsNone(got["fcr"])
        self.assertIsNone(got["div"])
        self.assertEqual(got["count"], 1)
        self.assertAlmostEqual(got["bleu1"], 100.0, places=12)
        # PEPLER's tokens separate the punctuation; lower-casing joins the two spellings
        ws = prism.metrics.evaluate(["Great food."], ["great food"])
        pep = prism.metrics.evaluate(["Great food."], ["great food"], tokenize="pepler",
                                     lowercase=True)
        self.assertEqual(ws["rouge_1_p_score"], 0.0)
        self.assertAlmostEqual(pep["rouge_1_p_score"], 100.0, places=12)
        self.assertAlmostEqual(pep["rouge_1_r_score"], 200.0 / 3, places=12)

    def test_errors(self):
        with self.assertRaises(prism.PrismError) as ctx:
            prism.metrics.evaluate([], [])
        self.assertIn("no pair was added", ctx.exception.message)
        with self.assertRaises(ValueError):
            prism.metrics.evaluate(["a", "b"], ["a"])
        with self.assertRaises(ValueError):
            prism.metrics.evaluate(["a"], ["a", "b"])
        with self.assertRaises(ValueError):
            prism.metrics.evaluate(["a"], ["a"], tokenize="spacy")
        with self.assertRaises(prism.PrismError) as ctx:
            prism.metrics.evaluate(["a"], [b"\xff"])
        self.assertEqual(ctx.exception.name, "PRISM_ERR_INVALID_UTF8")
        with self.assertRaises(TypeError):
            prism.metrics.evaluate(["a"], [3])

    def test_ranking_metrics(self):
        m = prism.metrics.ranking([1, 2, 3], [2, 5], k=3)
        self.assertAlmostEqual(m["recall"], 0.5)
        self.assertEqual(prism.metrics([1, 2, 3], [2, 5], k=3), m)  # the spelling of before


class FaithfulnessTest(unittest.TestCase):
    CATALOG = os.path.join(DEMO, "catalog.tsv")

    def test_samples_and_totals(self):
        out = prism.metrics.faithfulness(
            ["You liked Winter Hours; The Glass Road is just as quiet.",
             "THE GLASS ROAD, like The Glass Letters and Orchard in August.",
             "A quiet book."],
            ["The Glass Road"] * 3,
            [["Winter Hours"], ["The Glass Letters"], []],
            catalog=self.CATALOG)
        s = out["samples"]
        self.assertEqual(s[0]["titles"], ["Winter Hours", "The Glass Road"])
        self.assertFalse(s[0]["hallucinated"])
        self.assertEqual(s[1]["titles"], ["The Glass Road", "The Glass Letters",
                                          "Orchard in August"])
        self.assertEqual(s[1]["titles_grounded"], 2)
        self.assertTrue(s[1]["hallucinated"] and s[1]["names_item"])
        self.assertEqual(s[2]["titles"], [])
        self.assertEqual(out["count"], 3)
        self.assertAlmostEqual(out["hallucination_rate"], 1 / 3)
        self.assertAlmostEqual(out["grounded_share"], 4 / 5)
        self.assertAlmostEqual(out["item_named_rate"], 2 / 3)

    def test_many_titles_and_non_ascii(self):
        titles = ["T%d" % i for i in range(40)] + ["Café Noir", "Ζωή"]
        with prism.metrics.Faithfulness(titles) as f:
            self.assertEqual(len(f.titles), 42)
            text = " ".join("t%d" % i for i in range(40)) + " — cafe\u0301 noir, ΖΩΉ!"
            got = f.add(text, "T0", ["T1"])
            self.assertEqual(got["titles_named"], 42)  # past the first buffer size
            self.assertEqual(got["titles"][-2:], ["Café Noir", "Ζωή"])
            self.assertEqual(got["titles_grounded"], 2)

    def test_errors(self):
        with self.assertRaises(ValueError):
            prism.metrics.Faithfulness()
        with self.assertRaises(prism.PrismError) as ctx:
            prism.metrics.faithfulness(["x"], ["Nope"], [[]], titles=["A"])
        self.assertEqual(ctx.exception.name, "PRISM_ERR_NOT_FOUND")
        out = prism.metrics.faithfulness(["x"], ["A"], [[]], titles=["A"])
        self.assertIsNone(out["grounded_share"])
        self.assertTrue(math.isclose(out["titles_per_explanation"], 0.0))


if __name__ == "__main__":
    unittest.main()
