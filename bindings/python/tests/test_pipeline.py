"""prism.Catalog and prism.Pipeline on the demo data: against the public calls composed by hand,
against `prism run`, as a DataFrame, and the rules of the bindings (no pickling, no use of a
closed input, one call at a time)."""
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import unittest

import numpy as np

import prism
from util import DEMO

CATALOG = os.path.join(DEMO, "catalog.tsv")
TSV = os.path.join(DEMO, "interactions.tsv")
MODEL = os.path.join(DEMO, "model")
RANKER = dict(factors=16, iterations=15, regularization=0.1, seed=7)


def f32(x):
    return float(np.float32(x))


class CatalogTest(unittest.TestCase):
    def test_load_and_read(self):
        cat = prism.Catalog(CATALOG)
        self.assertEqual(len(cat), 80)
        self.assertEqual(cat["b01"], ("Winter Hours", "literary drama"))
        self.assertIn("b80", cat)
        self.assertNotIn("b81", cat)
        self.assertIsNone(cat.get("b81"))
        with self.assertRaises(KeyError):
            cat["b81"]
        self.assertEqual(cat.items()[1], ("b02", "The Glass Letters", "literary drama"))
        both = prism.Catalog(CATALOG, feature_columns=["genre", "mood"])
        self.assertEqual(both["b01"], ("Winter Hours", "literary drama, quiet"))

    def test_from_items_and_errors(self):
        cat = prism.Catalog.from_items({"m1": ("Heat", "crime"), "m2": ("Alien", "")})
        cat.add("m3", "Up")
        self.assertEqual((len(cat), cat["m3"]), (3, ("Up", "")))
        self.assertEqual(len(prism.Catalog.from_items([("a", "A", "x")])), 1)
        with self.assertRaises(prism.PrismError) as ctx:
            cat.add("m1", "Heat again")
        self.assertEqual(ctx.exception.name, "PRISM_ERR_INVALID_ARGUMENT")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.tsv")
            with open(path, "w") as f:
                f.write("item_id\ttitle\tgenre\nb1\tOne\tx\nb2\tTwo\n")
            with self.assertRaises(prism.PrismError) as ctx:
                prism.Catalog(path)
            self.assertEqual(ctx.exception.name, "PRISM_ERR_FORMAT")
            self.assertIn("bad.tsv:3:", ctx.exception.message)


class PipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = prism.Interactions(TSV)
        cls.ranker = prism.Ranker.train(cls.data, **RANKER)
        cls.catalog = prism.Catalog(CATALOG)
        cls.explainer = prism.Explainer(MODEL)
        cls.pipeline = prism.Pipeline(cls.ranker, cls.catalog, cls.data, cls.explainer)

    def by_hand(self, users, k=3):
        """What the pipeline does, from the public calls."""
        history = {}
        for i in range(len(self.data)):
            u, item, _ = self.data[i]
            history.setdefault(self.data.user_id(u), []).append(self.data.item_id(item))
        lines, prompts = [], []
        for user in users:
            items, scores = self.ranker.recommend(user, k=k)
            line = {"user": user, "items": []}
            for item, score in zip(items, scores):
                ev, weights = self.ranker.explain(user, item, n=3)
                prompt = prism.render_prompt([self.catalog[h] for h in history[user]],
                                             self.catalog[item], [self.catalog[e] for e in ev])
                prompts.append(prompt)
                line["items"].append({
                    "item": item, "title": self.catalog[item][0], "score": float(score),
                    "evidence": [{"item": e, "title": self.catalog[e][0], "weight": float(w)}
                                 for e, w in zip(ev, weights)],
                    "prompt": prompt, "explanation": None})
            lines.append(line)
        texts = iter(self.explainer.explain(prompts))
        for line in lines:
            for item in line["items"]:
                item["explanation"] = next(texts)
        return lines

    def test_equals_composition_by_hand(self):
        users = ["u001", "u042", "u150"]
        self.assertEqual(self.pipeline.run(users), self.by_hand(users))

    def test_unknown_user_and_batches(self):
        lines = self.pipeline.run(["u003", "nobody", "u004"], batch_size=1)
        self.assertEqual(lines[1]["error"]["code"], "PRISM_ERR_NOT_FOUND")
        self.assertIn("nobody", lines[1]["error"]["message"])
        self.assertEqual([lines[0], lines[2]], self.pipeline.run(["u003", "u004"]))
        self.assertEqual(len(self.pipeline.run("u005", k=5)[0]["items"]), 5)
        with self.assertRaises(ValueError):
            self.pipeline.run(["u001"], k=0)

    def test_filter_and_generate(self):
        top = self.pipeline.run(["u006"])[0]["items"][0]["item"]
        items = self.pipeline.run(["u006"], exclude=[top])[0]["items"]
        self.assertNotIn(top, [i["item"] for i in items])
        beams = self.pipeline.run(["u006"], k=1, num_beams=2)[0]["items"][0]
        self.assertEqual(beams["explanation"],
                         self.explainer.explain([beams["prompt"]], num_beams=2)[0])

    def test_equals_prism_run(self):
        cli = os.environ.get("PRISM_CLI")
        if not cli:
            self.skipTest("PRISM_CLI is not set")
        with tempfile.TemporaryDirectory() as d:
            ranker_path, out = os.path.join(d, "ranker.safetensors"), os.path.join(d, "out.jsonl")
            self.ranker.save(ranker_path)
            subprocess.run([cli, "run", "--ranker", ranker_path, "--catalog", CATALOG,
                            "--interactions", TSV, "--model", MODEL, "--out", out, "--threads",
                            "1"], check=True, capture_output=True)
            with open(out, encoding="utf-8") as f:
                written = [json.loads(line) for line in f]
            pipeline = prism.Pipeline(ranker_path, CATALOG, TSV, MODEL)  # every input a path
            ours = pipeline.run([self.ranker.user_id(u) for u in range(self.ranker.num_users)])
        for line in written:  # JSON keeps 9 digits: the same float32
            for item in line["items"]:
                item["score"] = f32(item["score"])
                for e in item["evidence"]:
                    e["weight"] = f32(e["weight"])
        self.assertEqual(len(written), 150)
        self.assertEqual(written, ours)

    def test_frame(self):
        frame = self.pipeline.frame(["u007", "nobody", "u008"], k=2)
        self.assertEqual(list(frame.columns), prism.pipeline.COLUMNS)
        self.assertEqual(list(frame["user"]), ["u007", "u007", "u008", "u008"])
        self.assertEqual(list(frame["rank"]), [1, 2, 1, 2])
        line = self.pipeline.run(["u008"], k=2)[0]
        self.assertEqual(frame["explanation"].iloc[3], line["items"][1]["explanation"])
        self.assertEqual(frame["evidence"].iloc[2], line["items"][0]["evidence"])
        saved = sys.modules.get("pandas")
        sys.modules["pandas"] = None  # as if pandas were not installed
        try:
            rows = self.pipeline.frame(["u007"], k=1)
        finally:
            sys.modules["pandas"] = saved
        self.assertEqual(rows, [dict(zip(prism.pipeline.COLUMNS, frame.iloc[0]))])

    def test_gaps_and_paths(self):
        partial = prism.Catalog.from_items(
            [row for row in self.catalog.items() if row[0] != "b01"])
        pipeline = prism.Pipeline(self.ranker, partial, TSV, None)  # no model: prompts only
        line = pipeline.run(["u010"], k=80, evidence=0)[0]
        gap = [i for i in line["items"] if i["item"] == "b01"]
        self.assertEqual(len(gap), 1)
        self.assertEqual((gap[0]["title"], gap[0]["prompt"]), (None, None))
        self.assertIn("b01", line["missing"])
        self.assertTrue(all(i["explanation"] is None for i in line["items"]))
        self.assertFalse(any("b01" in (i["prompt"] or "") for i in line["items"]))

    def test_rules_of_the_bindings(self):
        with self.assertRaises(TypeError):
            pickle.dumps(self.pipeline)
        with self.assertRaises(TypeError):
            pickle.dumps(self.catalog)
        # The pipeline borrows its inputs: closing them first is safe, and it goes on working.
        ranker = prism.Ranker.train(self.data, factors=4, iterations=2)
        catalog = prism.Catalog(CATALOG)
        explainer = prism.Explainer(MODEL)
        pipeline = prism.Pipeline(ranker, catalog, self.data, explainer)
        before = pipeline.run(["u001"])
        for x in (ranker, catalog, explainer):
            x.close()
        self.assertEqual(pipeline.run(["u001"]), before)
        pipeline.close()
        with self.assertRaises(ValueError):
            pipeline.run(["u001"])
        with self.assertRaises(ValueError):
            prism.Pipeline(ranker, self.catalog)  # a closed input cannot start a pipeline
        # Threads share one pipeline: calls take turns and give what one thread gets.
        users = [["u0%02d" % n for n in range(10 * t + 10, 10 * t + 20)] for t in range(3)]
        expected = [self.pipeline.run(u) for u in users]
        got = [None] * 3

        def work(t):
            got[t] = self.pipeline.run(users[t])

        threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(got, expected)


if __name__ == "__main__":
    unittest.main()
