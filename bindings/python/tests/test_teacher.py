"""prism.TeacherRequests and prism.TeacherImport: teacher prompts beside the student's, requests
from a pipeline, the JSON lines, answers made into pairs, the noise filter; and prism.Trainer's
metrics on generated text."""
import json
import os
import shutil
import sys
import tempfile
import unittest

import prism
from util import DEMO, MODEL

sys.path.insert(0, DEMO)
sys.dont_write_bytecode = True
import oracle  # noqa: E402
import pairs as demo_pairs  # noqa: E402

CATALOG = os.path.join(DEMO, "catalog.tsv")


class RequestsTest(unittest.TestCase):
    def test_prompts_match_the_demo_and_the_oracle_answers(self):
        situations = demo_pairs.make_situations(5, 30)
        examples = demo_pairs.make_examples(5, 30)
        r = prism.TeacherRequests()
        ids = [r.add(h, i, e) for h, i, e in situations]
        self.assertEqual(ids, [str(k) for k in range(1, 31)])
        self.assertEqual([q["source"] for q in r], [p for _, p, _ in examples])
        self.assertIn("solely on the user's interaction history", r[0]["prompt"])
        self.assertEqual(r[-1]["id"], "30")
        with self.assertRaises(IndexError):
            r[30]
        imp = prism.TeacherImport(r, titles=prism.Catalog(CATALOG), drop_hallucinated=True)
        for q in r:  # the oracle reads what the request shows
            self.assertEqual(imp.add(q["id"], oracle.explain(q["history"], q["item"],
                                                             q["evidence"])), "kept")
        self.assertEqual([(p["source"], p["target"]) for p in imp.pairs()],
                         [(p, t) for _, p, t in examples])
        self.assertEqual(imp.stats["pairs"], 30)
        self.assertEqual(imp.stats["hallucinated"], 0)
        pairs = imp.to_pairs(prism.Tokenizer(MODEL))
        self.assertEqual(len(pairs), 30)

    def test_lines_round_trip_and_errors(self):
        r = prism.TeacherRequests(student={"max_history": 2})
        r.add([("A", "x"), ("B", "y"), ("C", "z")], ("D", "w"), id="one")
        self.assertEqual(r[0]["history"], [("B", "y"), ("C", "z")])
        lines = r.lines()
        back = prism.TeacherRequests.parse("\n".join(lines))
        self.assertEqual(back.lines(), lines)
        self.assertEqual(json.loads(lines[0])["source"],
                         "history: B (y); C (z) | item: D (w) | evidence: none")
        with self.assertRaises(prism.PrismError) as cm:
            r.add([], ("E", ""), id="one")
        self.assertIn("already in the set", str(cm.exception))
        with self.assertRaises(prism.PrismError) as cm:
            prism.TeacherRequests.parse(lines[0] + "\n{\"id\": \"2\"}\n", what="req.jsonl")
        self.assertIn("req.jsonl line 2", str(cm.exception))
        with self.assertRaises(TypeError):
            prism.TeacherRequests(teacher={"colour": "blue"})
        r2 = prism.TeacherRequests(teacher={"template": "Why {item}?"})
        r2.add([], ("X", "y"))
        self.assertEqual(r2[0]["prompt"], "Why X?")
        with tempfile.TemporaryDirectory() as tmp:
            r.write(os.path.join(tmp, "r.jsonl"))
            self.assertEqual(prism.TeacherRequests.load(os.path.join(tmp, "r.jsonl")).lines(),
                             lines)

    def test_from_a_pipeline_and_sampling(self):
        ranker = prism.Ranker.train(os.path.join(DEMO, "interactions.tsv"), factors=8, seed=3)
        pipeline = prism.Pipeline(ranker, CATALOG, os.path.join(DEMO, "interactions.tsv"))
        r = prism.TeacherRequests()
        self.assertEqual(r.add_recommendations(pipeline, ["u001", "u002", "nobody"], k=2), 4)
        lines = pipeline.run(["u001", "u002"], k=2)
        self.assertEqual([q["source"] for q in r],
                         [it["prompt"] for line in lines for it in line["items"]])
        self.assertEqual(r[0]["id"], "u001/" + lines[0]["items"][0]["item"])
        r.sample(3, seed=1)
        self.assertEqual(len(r), 3)


class ImportTest(unittest.TestCase):
    def setUp(self):
        self.r = prism.TeacherRequests()
        self.r.add([("Winter Hours", "literary drama")], ("Orchard in August", "literary drama"))
        self.r.add([("Red Asset", "thriller")], ("The Final Hour", "thriller"))

    def test_verdicts_counts_and_lifetime(self):
        imp = prism.TeacherImport(self.r, drop_hallucinated=True)
        self.assertEqual(imp.add(1, " Orchard in August, after Winter Hours. "), "kept")
        self.assertEqual(imp.add("1", "again"), "duplicate")
        self.assertEqual(imp.add("2", None), "failed")
        self.assertEqual(imp.add("2", "Red Asset and Winter Hours"), "hallucinated")
        self.assertEqual(imp.add("3", "x"), "unknown_id")
        self.assertEqual(imp.add("2", ""), "empty")
        s = imp.stats
        self.assertEqual((s["answers"], s["pairs"], s["unanswered"], s["dropped"]), (6, 1, 1, 5))
        self.assertEqual(imp.pairs()[0]["target"], "Orchard in August, after Winter Hours.")
        self.assertEqual([d["reason"] for d in imp.dropped()],
                         ["duplicate", "failed", "hallucinated", "unknown_id", "empty"])
        with self.assertRaises(RuntimeError):
            self.r.add([], ("X", "y"))  # an import uses the set
        imp.close()
        self.r.add([], ("X", "y"))
        self.assertEqual(len(self.r), 3)

    def test_answer_files(self):
        imp = prism.TeacherImport(self.r, answer_key="response")
        imp.parse('{"id": "1", "response": "Orchard in August."}\n{"id": "2", "error": 1}\n')
        self.assertEqual(len(imp), 1)
        with self.assertRaises(prism.PrismError) as cm:
            imp.parse('{"id": "2", "response": "ok"}\n{"id": "2"}\n', what="a.jsonl")
        self.assertIn("a.jsonl line 2", str(cm.exception))
        self.assertEqual(imp.stats["answers"], 2)  # nothing of the bad file was added
        with tempfile.TemporaryDirectory() as tmp:
            imp.write(os.path.join(tmp, "pairs.jsonl"))
            with open(os.path.join(tmp, "pairs.jsonl")) as f:
                self.assertEqual(json.loads(f.readline())["id"], "1")


class TrainerTextMetricsTest(unittest.TestCase):
    def test_eval_generate_and_best_metric(self):
        tok = prism.Tokenizer(MODEL)
        data, held = prism.Pairs(), prism.Pairs()
        for _, p, t in demo_pairs.make_examples(11, 16):
            data.add(p, t, tokenizer=tok)
            held.add(p, t, tokenizer=tok)
        seen = []
        tmp = tempfile.mkdtemp(prefix="prism-teacher-py-")
        try:
            with prism.Trainer(model=MODEL, batch_size=8, max_steps=2, eval_every=1,
                               learning_rate=1e-4, eval_generate=8, best_metric="exact_match",
                               output_dir=os.path.join(tmp, "run")) as t:
                state = t.train(data, eval=held, progress=lambda p: seen.append(p) or True)
        finally:
            shutil.rmtree(tmp)
        self.assertEqual(len(seen), 2)
        for p in seen:
            self.assertEqual(p["eval_generated"], 8)
            self.assertEqual(p["eval_metric"], p["eval_exact_match"])
            self.assertEqual(p["eval_text"]["count"], 8)
            self.assertGreater(p["eval_text"]["bleu4"], 0)
        self.assertEqual(state["best_metric"], max(p["eval_exact_match"] for p in seen))
        with self.assertRaises(prism.PrismError):
            prism.Trainer(model=MODEL, best_metric="bleu4")  # needs eval_generate


if __name__ == "__main__":
    unittest.main()
