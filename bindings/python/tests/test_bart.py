import json
import os
import shutil
import tempfile
import unittest

import numpy as np

import prism

FIXTURES = os.environ.get("PRISM_FIXTURES", os.path.join(os.path.dirname(__file__), "..", "..",
                                                         "..", "tests", "fixtures"))


def expected(name):
    with open(os.path.join(FIXTURES, name, "expected.json")) as f:
        return json.load(f)


class BartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = prism.Bart(os.path.join(FIXTURES, "tiny-bart"))
        cls.exp = expected("tiny-bart")

    @classmethod
    def tearDownClass(cls):
        cls.model.close()

    def test_info(self):
        self.assertEqual(self.model.info["vocab_size"], 1000)
        self.assertEqual(self.model.info["d_model"], 64)
        self.assertEqual(self.model.info["activation_function"], "gelu")

    def test_encoder_and_logits_parity(self):
        e = self.exp
        with self.model.session() as s:
            hidden = s.encode(e["input_ids"], e["attention_mask"])
            want = np.array(e["encoder_last_hidden_state"]["data"], np.float32).reshape(
                e["encoder_last_hidden_state"]["shape"])
            self.assertLess(np.abs(hidden - want).max(), 1e-4)
            logits = s.forward(e["decoder_input_ids"])
            want = np.array(e["logits"]["data"], np.float32).reshape(e["logits"]["shape"])
            self.assertLess(np.abs(logits - want).max(), 1e-4)

    def test_generate_cases(self):
        for case in self.exp["generate"]:
            with self.subTest(case=case["name"]):
                out = self.model.generate(self.exp["input_ids"], self.exp["attention_mask"],
                                          **case["params"])
                self.assertEqual(out.sequences.tolist(), case["sequences"])
                if "sequences_scores" in case:
                    np.testing.assert_allclose(out.scores, case["sequences_scores"], atol=1e-4)
                self.assertGreater(out.stats["steps"], 0)

    def test_stream_and_cancel(self):
        steps = []
        out = self.model.generate(self.exp["input_ids"], stream=lambda step, toks: steps.append(
            (step, toks)), max_length=8)
        self.assertEqual(len(steps), out.stats["steps"])
        with self.assertRaises(prism.PrismError) as ctx:
            self.model.generate(self.exp["input_ids"], stream=lambda step, toks: step < 2)
        self.assertEqual(ctx.exception.name, "PRISM_ERR_CANCELLED")

    def test_errors(self):
        with self.assertRaises(prism.PrismError) as ctx:
            prism.Bart("/nonexistent/model")
        self.assertIn("/nonexistent/model", ctx.exception.message)
        with self.assertRaises(prism.PrismError) as ctx:
            self.model.generate([[0, 5000, 2]])
        self.assertEqual(ctx.exception.name, "PRISM_ERR_OUT_OF_RANGE")
        with self.assertRaises(prism.PrismError):
            self.model.generate([[0, 5, 2]], num_beams=0)
        with self.assertRaises(ValueError):
            self.model.generate([])

    def test_model_beam_default(self):
        """A model whose generation_config.json says num_beams 4 (as facebook/bart-base's) gives
        HF's 4-beam output from a plain generate() call, with no session argument."""
        beam4 = next(c for c in self.exp["generate"] if c["name"] == "beam4")
        with tempfile.TemporaryDirectory() as folder:
            for name in ("config.json", "model.safetensors"):
                shutil.copy(os.path.join(FIXTURES, "tiny-bart", name), folder)
            with open(os.path.join(folder, "generation_config.json"), "w") as f:
                json.dump({"num_beams": 4, "early_stopping": True, "forced_bos_token_id": 0,
                           "forced_eos_token_id": 2}, f)
            with prism.Bart(folder) as m:
                self.assertEqual(m.generation_config()["num_beams"], 4)
                self.assertEqual(m.generation_config(num_beams=2)["num_beams"], 2)
                self.assertEqual(m.generation_config()["early_stopping"], True)
                out = m.generate(self.exp["input_ids"], self.exp["attention_mask"])
                self.assertEqual(out.sequences.tolist(), beam4["sequences"])
                np.testing.assert_allclose(out.scores, beam4["sequences_scores"], atol=1e-4)
                out = m.generate([[0, 5, 6, 7, 2]])  # the call that once failed
                self.assertEqual(out.sequences.shape[0], 1)

    def test_session_caps(self):
        with self.model.session(max_rows=1) as s:
            with self.assertRaises(prism.PrismError) as ctx:
                s.generate([[0, 5, 6, 2]], num_beams=2)
            self.assertEqual(ctx.exception.name, "PRISM_ERR_LIMIT")
            self.assertIn("max_rows", ctx.exception.message)

    def test_closed(self):
        m = prism.Bart(os.path.join(FIXTURES, "tiny-bart-copy"))
        m.close()
        m.close()
        with self.assertRaises(ValueError):
            m.session()


if __name__ == "__main__":
    unittest.main()
