"""prism.Pairs and prism.Trainer: HF Trainer's ten steps, the progress callback, checkpoints."""
import json
import os
import shutil
import tempfile
import unittest

import numpy as np

import prism
from util import FIXTURES

TINY = os.path.join(FIXTURES, "tiny-bart")


def fixture_run():
    with open(os.path.join(TINY, "train_run.json")) as f:
        return json.load(f)


def fixture_batches(run):
    pairs = prism.Pairs(batches=True)
    for b in run["batches"]:
        pairs.add_batch(b["input_ids"], b["labels"])
    return pairs


def fixture_params(run):
    s = run["settings"]
    return dict(learning_rate=s["lr"], weight_decay=s["weight_decay"], adam_beta1=s["betas"][0],
                adam_beta2=s["betas"][1], adam_epsilon=s["eps"],
                max_grad_norm=s["max_grad_norm"], warmup_steps=s["warmup_steps"],
                max_steps=s["training_steps"], grad_accum=s["gradient_accumulation"],
                dropout=0.0, attention_dropout=0.0, activation_dropout=0.0)


class TrainerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="prism-train-py-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_hf_trainer_steps(self):
        run = fixture_run()
        seen = []
        with prism.Trainer(model=TINY, **fixture_params(run)) as t:
            state = t.train(fixture_batches(run), progress=seen.append)
        self.assertEqual(state["step"], 10)
        for got, want in zip(seen, run["runs"]["plain"]["steps"]):
            self.assertEqual(got["learning_rate"], want["lr"])
            self.assertAlmostEqual(got["loss"], want["loss"], delta=1e-4 * want["loss"])
            self.assertAlmostEqual(got["grad_norm"], want["grad_norm"],
                                   delta=1e-4 * want["grad_norm"])

    def test_callback_errors_and_interrupts_cancel(self):
        run = fixture_run()
        for exc in (ValueError("boom"), KeyboardInterrupt()):
            def progress(p, exc=exc):
                if p["step"] == 3:
                    raise exc
            with prism.Trainer(model=TINY, **fixture_params(run)) as t:
                with self.assertRaises(type(exc)):
                    t.train(fixture_batches(run), progress=progress)
                self.assertEqual(t.state["step"], 3)  # the steps done stay done
        with prism.Trainer(model=TINY, **fixture_params(run)) as t:
            with self.assertRaises(prism.PrismError) as ctx:
                t.train(fixture_batches(run), progress=lambda p: p["step"] < 2)
            self.assertEqual(ctx.exception.name, "PRISM_ERR_CANCELLED")
            self.assertEqual(t.train(fixture_batches(run))["step"], 10)  # and it continues

    def test_checkpoint_loads_and_generates(self):
        run = fixture_run()
        out = os.path.join(self.tmp, "out")
        with prism.Trainer(model=TINY, output_dir=out, **fixture_params(run)) as t:
            t.train(fixture_batches(run))
            with t.model.session() as s:
                want = s.generate([[0, 5, 6, 2]], max_length=6).sequences
        self.assertTrue(os.path.isdir(os.path.join(out, "checkpoint-10")))
        model = prism.Bart(out)
        np.testing.assert_array_equal(model.generate([[0, 5, 6, 2]], max_length=6).sequences,
                                      want)
        with prism.Trainer.resume(os.path.join(out, "checkpoint-10")) as t:
            self.assertEqual(t.state["step"], 10)

    def test_pairs(self):
        tok = prism.Tokenizer(os.path.join(FIXTURES, "bart-vocab"))
        pairs = prism.Pairs.parse('{"source": "Hello world", "target": "Hello"}\n'
                                  '{"input_ids": [0, 5, 2], "labels": [0, 7, 2]}\n', tokenizer=tok)
        self.assertEqual(len(pairs), 2)
        pairs.add([0, 9, 2], [0, 9, 9, 9, 2])
        pairs.add("a b", "c", tokenizer=tok)
        self.assertEqual(len(pairs), 4)
        cut = prism.Pairs(max_target_len=3, truncate=True)
        cut.add([0, 9, 2], [0, 9, 8, 7, 2])
        self.assertEqual(cut.truncated, 1)
        with self.assertRaises(prism.PrismError) as ctx:
            prism.Pairs.parse('{"input_ids": [0, 5, 2], "labels": [0, 7, 2]}\n{"source": 1}\n')
        self.assertIn("line 2", ctx.exception.message)
        with self.assertRaises(prism.PrismError):
            prism.Pairs.parse('{"source": "a", "target": "b"}\n')  # text needs a tokenizer
        with self.assertRaises(TypeError):
            prism.Trainer(model=TINY, learning_rat=1e-3)


if __name__ == "__main__":
    unittest.main()
