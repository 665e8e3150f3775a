"""Closing, borrowing and threads: no use of a closed or borrowed object may crash.

Crash-prone scenarios run in a subprocess (util.run_python) so that a segfault fails the test
instead of ending the suite.
"""
import os
import textwrap
import threading
import time
import unittest

import numpy as np

import prism
from util import MODEL, TINY, run_python
from test_explain import EXPLANATION, PROMPT

SETUP = f"""
import threading, time
import prism
MODEL, TINY, PROMPT = {MODEL!r}, {TINY!r}, {PROMPT!r}
"""


class SubprocessTest(unittest.TestCase):
    def run_ok(self, code, expect="ok"):
        r = run_python(SETUP + textwrap.dedent(code))
        self.assertEqual(r.returncode, 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\n"
                                          f"stderr:\n{r.stderr}")
        self.assertIn(expect, r.stdout)
        return r.stdout


class BorrowingTest(SubprocessTest):
    def test_session_outlives_a_closed_bart(self):
        self.run_ok("""
        b = prism.Bart(TINY)
        s = b.session()
        want = s.generate([[0, 5, 2]]).sequences.tolist()
        b.close()
        assert s.generate([[0, 5, 2]]).sequences.tolist() == want  # the weights are still there
        for call in (lambda: b.generate([[0, 5, 2]]), lambda: b.session(), lambda: b.ptr):
            try:
                call()
                raise SystemExit("a closed Bart was used")
            except ValueError:
                pass
        assert b._ptr  # released only with its last borrower
        s.close()
        assert not b._ptr
        try:
            s.generate([[0, 5, 2]])
            raise SystemExit("a closed Session was used")
        except ValueError as e:
            assert "Session is closed" in str(e)
        print("ok")
        """)

    def test_explainer_outlives_its_tokenizer_and_model(self):
        out = self.run_ok("""
        tok, bart = prism.Tokenizer(MODEL), prism.Bart(MODEL)
        ex = prism.Explainer(tokenizer=tok, model=bart)
        bart.close()
        tok.close()
        print(ex.explain(PROMPT)[0])
        for call in (lambda: tok.encode("x"), lambda: bart.generate([[0, 2]]),
                     lambda: prism.Explainer(tokenizer=tok, model=bart)):
            try:
                call()
                raise SystemExit("a closed object was used")
            except ValueError:
                pass
        ex.close()
        assert not tok._ptr and not bart._ptr
        try:
            ex.explain(PROMPT)
            raise SystemExit("a closed Explainer was used")
        except ValueError:
            print("ok")
        """)
        self.assertIn(EXPLANATION, out)

    def test_garbage_collection_in_any_order(self):
        self.run_ok("""
        import gc
        for order in range(2):
            b = prism.Bart(TINY)
            s = b.session()
            pair = [b, s] if order else [s, b]
            pair.append(pair)  # a cycle: the collector frees both in its own order
            del b, s, pair
            gc.collect()
        print("ok")
        """)

    def test_every_closed_handle_raises(self):
        self.run_ok("""
        import numpy as np
        data = prism.Interactions()
        data.add("u", "i")
        data.add("v", "i")
        data.add("v", "j")
        r = prism.Ranker.train(data, factors=2, iterations=1)
        tok, bart = prism.Tokenizer(MODEL), prism.Bart(TINY)
        s = bart.session()
        ex = prism.Explainer(MODEL)
        calls = [(data, lambda: len(data)), (data, lambda: data.add("w", "i")),
                 (r, lambda: r.recommend("u")), (r, lambda: r.num_items), (r, lambda: r.save("x")),
                 (tok, lambda: tok.encode("x")), (tok, lambda: tok.vocab_size),
                 (s, lambda: s.generate([[0, 2]])), (bart, lambda: bart.info and bart.session()),
                 (ex, lambda: ex.explain("x")), (ex, lambda: ex.tokenizer)]
        for obj, call in calls:
            obj.close()
            obj.close()  # twice is fine
            try:
                call()
                raise SystemExit(f"{type(obj).__name__}: a closed handle was used")
            except ValueError as e:
                assert "closed" in str(e), e
        print("ok")
        """)


class ThreadTest(SubprocessTest):
    def test_close_waits_for_recommend_batch(self):
        self.run_ok("""
        data = prism.Interactions()
        for u in range(400):
            for j in range(20):
                data.add(u, (u * 7 + j * 13) % 2000)
        r = prism.Ranker.train(data, factors=32, iterations=2)
        users = list(range(400))
        started, errors, calls = threading.Event(), [], [0]

        def work():
            try:
                while True:
                    started.set()
                    items, _ = r.recommend_batch(users, k=50)
                    assert items.shape == (400, 50)
                    calls[0] += 1
            except ValueError as e:
                errors.append(e)
        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        started.wait()
        time.sleep(0.05)
        r.close()  # waits for the calls in flight, then frees
        for t in threads:
            t.join()
        assert len(errors) == 3 and all("closed" in str(e) for e in errors), errors
        print("ok", calls[0])
        """)

    def test_close_waits_for_explain(self):
        self.run_ok("""
        ex = prism.Explainer(MODEL)
        inside, steps, result = threading.Event(), [], []

        def slow(step, tokens):
            steps.append(step)
            if step == 1:
                inside.set()
                time.sleep(0.3)
            return True

        t = threading.Thread(target=lambda: result.append(ex.explain(PROMPT, stream=slow)[0]))
        t.start()
        inside.wait()
        ex.close()  # returns only once the explain in flight has finished
        steps_at_close = len(steps)
        t.join()
        assert len(steps) == steps_at_close > 1, (steps, steps_at_close)
        print("ok")
        print(result[0])
        """)

    def test_one_explainer_shared_by_threads(self):
        out = self.run_ok("""
        import random
        rng = random.Random(3)
        titles = ["Winter Hours", "The Glass Letters", "Orchard in August", "Witness at Ashby Hall",
                  "The Last Engine", "Salt Harbour", "Iron Protocol", "Second Chance"]
        genres = ["literary drama", "mystery", "thriller", "romance"]
        prompts = [prism.render_prompt([(rng.choice(titles), rng.choice(genres)) for _ in range(3)],
                                       (rng.choice(titles), rng.choice(genres)),
                                       [(rng.choice(titles), rng.choice(genres))])
                   for _ in range(16)]
        ex = prism.Explainer(MODEL)
        serial = [ex.explain(p)[0] for p in prompts]
        got = [None] * 16

        def work(part):
            for i in range(part, 16, 4):
                got[i] = ex.explain(prompts[i])[0]
        threads = [threading.Thread(target=work, args=(p,)) for p in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wrong = sum(a != b for a, b in zip(got, serial))
        print("wrong", wrong)
        assert wrong == 0
        assert len(set(serial)) > 4  # the prompts differ, so a mix-up would show
        print("ok")
        """)
        self.assertIn("wrong 0", out)

    def test_one_session_shared_by_threads(self):
        self.run_ok("""
        b = prism.Bart(TINY)
        s = b.session()
        rows = [[0, 5 + i, 9 + 2 * i, 2] for i in range(12)]
        serial = [s.generate([row], num_beams=2).sequences.tolist() for row in rows]
        got = [None] * 12

        def work(part):
            for i in range(part, 12, 4):
                got[i] = s.generate([rows[i]], num_beams=2).sequences.tolist()
        threads = [threading.Thread(target=work, args=(p,)) for p in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert got == serial
        print("ok")
        """)


class ConcurrencyRulesTest(unittest.TestCase):
    """Which objects serialise their calls (in process: nothing here can crash)."""

    def other_thread_finishes(self, call, wait):
        t = threading.Thread(target=call)
        t.start()
        t.join(wait)
        return not t.is_alive(), t

    def test_shared_objects_stay_concurrent(self):
        data = prism.Interactions()
        for u in range(5):
            data.add(u, u % 3)
        with prism.Tokenizer(MODEL) as tok, prism.Bart(TINY) as bart, \
                prism.Ranker.train(data, factors=2, iterations=1) as r:
            for obj, call in ((tok, lambda: tok.encode("hello")),
                              (bart, lambda: bart.generate([[0, 5, 2]])),
                              (r, lambda: r.recommend(1, k=2)), (data, lambda: data.find_user(3))):
                with obj._use():  # another thread is inside a call
                    finished, _ = self.other_thread_finishes(call, 30)
                self.assertTrue(finished, f"{type(obj).__name__} calls must not wait for each other")

    def test_single_thread_objects_serialise(self):
        with prism.Bart(TINY) as bart, prism.Explainer(MODEL) as ex:
            s = bart.session()
            data = prism.Interactions()
            for obj, call in ((s, lambda: s.generate([[0, 5, 2]])), (ex, lambda: ex.explain("x")),
                              (data, lambda: data.add("a", "b"))):
                with obj._use():
                    finished, t = self.other_thread_finishes(call, 0.2)
                    self.assertFalse(finished, f"{type(obj).__name__} must run one call at a time")
                t.join(30)
                self.assertFalse(t.is_alive())
            s.close()

    def test_callbacks_cannot_reenter_or_close(self):
        with prism.Explainer(MODEL) as ex:
            for fn in (lambda step, toks: ex.explain("x"), lambda step, toks: ex.close()):
                with self.assertRaises(RuntimeError):
                    ex.explain(PROMPT, stream=fn)
            self.assertEqual(ex.explain(PROMPT), [EXPLANATION])


class CallbackExceptionTest(SubprocessTest):
    def test_stream_exception_is_reraised(self):
        with prism.Bart(TINY) as bart, prism.Explainer(MODEL) as ex:
            class Stop(Exception):
                pass

            def boom(step, tokens):
                raise Stop(f"at step {step}")
            with bart.session() as s:
                for call in (lambda: s.generate([[0, 5, 2]], stream=boom),
                             lambda: bart.generate([[0, 5, 2]], stream=boom),
                             lambda: ex.explain(PROMPT, stream=boom)):
                    with self.assertRaises(Stop) as ctx:
                        call()
                    self.assertEqual(str(ctx.exception), "at step 1")
                self.assertEqual(s.generate([[0, 5, 2]]).sequences.shape[0], 1)  # still usable

    def test_keyboard_interrupt_cancels(self):
        calls = []

        def interrupt(step, tokens):
            calls.append(step)
            raise KeyboardInterrupt
        with prism.Explainer(MODEL) as ex:
            with self.assertRaises(KeyboardInterrupt):
                ex.explain(PROMPT, stream=interrupt)
            self.assertEqual(calls, [1])  # cancelled: no further step ran
        progress = []

        def stop_training(iteration, total, loss):
            progress.append(iteration)
            raise KeyboardInterrupt
        with self.assertRaises(KeyboardInterrupt):
            prism.Ranker.train(os.path.join(os.path.dirname(MODEL), "interactions.tsv"),
                               iterations=5, progress=stop_training)
        self.assertEqual(progress, [1])

    def test_real_sigint_during_generation(self):
        out = self.run_ok("""
        import os, signal
        ex = prism.Explainer(MODEL)
        steps = []

        def on_step(step, tokens):
            steps.append(step)
            if step == 2:
                os.kill(os.getpid(), signal.SIGINT)
            return True
        try:
            ex.explain(PROMPT, stream=on_step)
            print("not interrupted")
        except KeyboardInterrupt:
            print("interrupted after", len(steps), "steps")
        print("still usable:", len(ex.explain(PROMPT)[0]) > 0)
        print("ok")
        """)
        self.assertIn("interrupted after 2 steps", out)
        self.assertIn("still usable: True", out)


if __name__ == "__main__":
    unittest.main()
