import os
import random
import sys
import unittest

import prism
from util import DEMO

sys.path.insert(0, DEMO)
import prompt as reference  # noqa: E402  (the demo's reference prompt builder)

MODEL = os.path.join(DEMO, "model")
HISTORY = [("The Glass Letters", "literary drama"), ("Witness at Ashby Hall", "mystery"),
           ("Winter Hours", "literary drama")]
ITEM = ("Orchard in August", "literary drama")
EVIDENCE = [("Winter Hours", "literary drama"), ("The Glass Letters", "literary drama")]
PROMPT = ("history: The Glass Letters (literary drama); Witness at Ashby Hall (mystery); Winter "
          "Hours (literary drama) | item: Orchard in August (literary drama) | evidence: Winter "
          "Hours (literary drama); The Glass Letters (literary drama)")
EXPLANATION = ("You clearly love literary dramas: Winter Hours and The Glass Letters. Orchard in "
               "August is another quiet literary drama for your shelf.")


def catalog():
    with open(os.path.join(DEMO, "catalog.tsv"), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return [(r[1], r[2]) for r in rows]


class RenderPromptTest(unittest.TestCase):
    def test_documented_examples(self):
        self.assertEqual(prism.render_prompt(HISTORY, ITEM, EVIDENCE), PROMPT)
        self.assertEqual(prism.render_prompt([], ("The Last\nEngine", ""), []),
                         "history: none | item: The Last Engine (unknown) | evidence: none")

    def test_matches_reference_builder(self):
        rng = random.Random(5)
        titles = catalog() + [("a" + "é" * 30, "x  y"), ("  spaced\tout  ", "\n"),
                              ("A Very Long Title That Keeps Going Past The Limit Of The Field",
                               "g"), ("semi; colon (paren) | pipe", "ünï")]
        for case in range(200):
            history = rng.sample(titles, rng.randint(0, 12))
            evidence = rng.sample(titles, rng.randint(0, 5))
            item = rng.choice(titles)
            with self.subTest(case=case):
                self.assertEqual(prism.render_prompt(history, item, evidence),
                                 reference.build_prompt(history, item, evidence))

    def test_format_options(self):
        text = prism.render_prompt(HISTORY, ITEM, EVIDENCE, template="{item}: {history}",
                                   entry_template="[{title}]", separator=", ", max_history=2)
        self.assertEqual(text, "Orchard in August: [Witness at Ashby Hall], [Winter Hours]")
        text = prism.render_prompt([], ITEM, [], template="{{{evidence}}}", empty_list="-")
        self.assertEqual(text, "{-}")
        long_history = [("t" * 40 + str(i), "f" * 40) for i in range(20)]
        text = prism.render_prompt(long_history, ITEM, [], max_history=0, max_value_bytes=0)
        self.assertEqual(text.count("t" * 40), 20)

    def test_errors(self):
        with self.assertRaises(prism.PrismError) as ctx:
            prism.render_prompt(HISTORY, ITEM, EVIDENCE, template="{history} {nope}")
        self.assertEqual(ctx.exception.name, "PRISM_ERR_FORMAT")
        with self.assertRaises(prism.PrismError) as ctx:
            prism.render_prompt([(b"bad \xff title", "x")], ITEM, [])
        self.assertEqual(ctx.exception.name, "PRISM_ERR_INVALID_UTF8")
        with self.assertRaises(TypeError):
            prism.render_prompt(HISTORY, ITEM, EVIDENCE, colour="red")
        with self.assertRaises(ValueError):
            prism.render_prompt([("only a title",)], ITEM, [])


class ExplainerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.explainer = prism.Explainer(MODEL)

    @classmethod
    def tearDownClass(cls):
        cls.explainer.close()

    def test_demo_prompt(self):
        self.assertEqual(self.explainer.explain([PROMPT]), [EXPLANATION])
        self.assertEqual(self.explainer.explain(PROMPT), [EXPLANATION])

    def test_from_tokenizer_and_model(self):
        tok, model = prism.Tokenizer(MODEL), prism.Bart(MODEL)
        with prism.Explainer(tokenizer=tok, model=model) as ex:
            self.assertEqual(ex.explain([PROMPT]), [EXPLANATION])
            self.assertIs(ex.tokenizer, tok)

    def test_borrowed_tokenizer(self):
        tok = self.explainer.tokenizer
        with prism.Tokenizer(MODEL) as own:
            self.assertEqual(tok.encode(PROMPT), own.encode(PROMPT))
            own_size = own.vocab_size
        tok.close()  # a borrowed view only detaches
        self.assertEqual(self.explainer.explain(PROMPT), [EXPLANATION])
        self.assertEqual(self.explainer.tokenizer.vocab_size, own_size)
        ex = prism.Explainer(MODEL)
        view = ex.tokenizer
        ex.close()  # the view borrows the explainer's tokenizer: it stays valid
        self.assertEqual(view.encode(PROMPT), self.explainer.tokenizer.encode(PROMPT))
        with self.assertRaises(ValueError):
            ex.explain(PROMPT)
        with self.assertRaises(ValueError):
            ex.tokenizer
        view.close()  # the last borrower: now the explainer's memory is released
        with self.assertRaises(ValueError):
            view.encode("x")

    def test_batches_equal_single_prompts(self):
        rng = random.Random(9)
        items = catalog()
        prompts = [prism.render_prompt(rng.sample(items, 4), rng.choice(items),
                                       rng.sample(items, 2)) for _ in range(5)]
        single = [self.explainer.explain(p)[0] for p in prompts]
        self.assertEqual(self.explainer.explain(prompts), single)
        with prism.Explainer(MODEL, max_batch=2) as small:
            self.assertEqual(small.explain(prompts), single)
        self.assertEqual(self.explainer.explain([]), [])

    def test_generate_params(self):
        out = self.explainer.explain([PROMPT, PROMPT], num_beams=3, num_return_sequences=2)
        self.assertEqual(len(out), 4)
        self.assertEqual(out[0:2], out[2:4])
        short = self.explainer.explain(PROMPT, max_new_tokens=4)[0]
        self.assertLess(len(short), len(EXPLANATION))
        self.assertTrue(EXPLANATION.startswith(short.strip()))

    def test_special_tokens_kept(self):
        with prism.Explainer(MODEL, skip_special=False) as ex:
            text = ex.explain(PROMPT)[0]
        self.assertIn(EXPLANATION, text)
        self.assertTrue(text.endswith("</s>"))

    def test_stream_and_cancel(self):
        steps = []
        self.explainer.explain(PROMPT, stream=lambda step, toks: steps.append(toks))
        with prism.Tokenizer(MODEL) as tok:
            ids = tok.encode(EXPLANATION, special=False)
        streamed = [t[0] for t in steps]
        self.assertEqual(streamed[1:1 + len(ids)], ids)  # after the forced <s>
        with self.assertRaises(prism.PrismError) as ctx:
            self.explainer.explain(PROMPT, stream=lambda step, toks: step < 3)
        self.assertEqual(ctx.exception.name, "PRISM_ERR_CANCELLED")

        def boom(step, tokens):
            raise RuntimeError("a failing callback")
        with self.assertRaises(RuntimeError) as ctx:  # the callback's own exception
            self.explainer.explain(PROMPT, stream=boom)
        self.assertEqual(str(ctx.exception), "a failing callback")
        self.assertEqual(self.explainer.explain(PROMPT), [EXPLANATION])  # still usable

    def test_errors(self):
        with self.assertRaises(prism.PrismError) as ctx:
            prism.Explainer("/nonexistent/model")
        self.assertIn("/nonexistent/model", ctx.exception.message)
        with self.assertRaises(prism.PrismError) as ctx:
            self.explainer.explain(PROMPT, num_beams=0)
        self.assertEqual(ctx.exception.name, "PRISM_ERR_INVALID_ARGUMENT")
        with self.assertRaises(prism.PrismError) as ctx:
            self.explainer.explain([b"bad \xff prompt"])
        self.assertEqual(ctx.exception.name, "PRISM_ERR_INVALID_UTF8")
        with self.assertRaises(ValueError):
            prism.Explainer(MODEL, tokenizer=self.explainer.tokenizer)
        with self.assertRaises(ValueError):
            prism.Explainer()
        with self.assertRaises(ValueError):
            self.explainer.explain(["nul\0inside"])


if __name__ == "__main__":
    unittest.main()
