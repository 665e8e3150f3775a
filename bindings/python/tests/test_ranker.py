import os
import tempfile
import threading
import types
import unittest

import numpy as np

import prism
from util import DEMO

TSV = os.path.join(DEMO, "interactions.tsv")
PARAMS = dict(factors=16, iterations=8, seed=11)


def histories(data):
    """user index -> {item index: summed value} of an Interactions set."""
    out = {}
    for u, i, v in zip(*data.to_arrays()):
        out.setdefault(int(u), {}).setdefault(int(i), 0.0)
        out[int(u)][int(i)] += float(v)
    return out


def top_k(scores, k, banned):
    """Best-first indices of scores, lower index first on ties, skipping banned."""
    order = sorted((i for i in range(scores.size) if i not in banned),
                   key=lambda i: (-scores[i], i))
    return order[:k]


class InteractionsTest(unittest.TestCase):
    def test_add_and_read(self):
        data = prism.Interactions()
        data.add("alice", "book-1", 4)
        data.add("bob", "book-2")
        data.add("alice", "book-2", 2.5)
        self.assertEqual((len(data), data.num_users, data.num_items), (3, 2, 2))
        self.assertEqual(data[2], (0, 1, 2.5))
        self.assertEqual(data[-2], (1, 1, 1.0))
        self.assertEqual((data.user_id(1), data.item_id(0)), ("bob", "book-1"))
        self.assertIsNone(data.user_id(7))
        self.assertEqual((data.find_user("bob"), data.find_item("book-2")), (1, 1))
        users, items, values = data.to_arrays()
        self.assertEqual(users.tolist(), [0, 1, 0])
        self.assertEqual(items.tolist(), [0, 1, 1])
        self.assertEqual(values.tolist(), [4.0, 1.0, 2.5])
        with self.assertRaises(IndexError):
            data[3]
        with self.assertRaises(prism.PrismError) as ctx:
            data.find_user("carol")
        self.assertEqual(ctx.exception.name, "PRISM_ERR_NOT_FOUND")
        with self.assertRaises(prism.PrismError) as ctx:
            data.add("a\tb", "c")
        self.assertEqual(ctx.exception.name, "PRISM_ERR_INVALID_ARGUMENT")

    def test_load_tsv(self):
        data = prism.Interactions(TSV)
        self.assertEqual((len(data), data.num_users, data.num_items), (2662, 150, 80))
        self.assertEqual(data.user_id(data[0][0]), "u001")

    def test_bad_tsv_names_line(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.tsv")
            with open(path, "w") as f:
                f.write("u1\ti1\t1\nu2\ti2\tnot-a-number\n")
            with self.assertRaises(prism.PrismError) as ctx:
                prism.Interactions(path)
            self.assertEqual(ctx.exception.name, "PRISM_ERR_FORMAT")
            self.assertIn("bad.tsv", ctx.exception.message)
            self.assertIn("2", ctx.exception.message)


class RankerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = prism.Interactions(TSV)
        cls.hist = histories(cls.data)
        cls.ranker = prism.Ranker.train(cls.data, **PARAMS)
        cls.U, cls.V = cls.ranker.user_factors, cls.ranker.item_factors

    def test_shape_and_ids(self):
        r = self.ranker
        self.assertEqual((r.algorithm, r.num_users, r.num_items, r.num_factors),
                         ("als", 150, 80, 16))
        self.assertEqual(self.U.shape, (150, 16))
        self.assertEqual(self.V.shape, (80, 16))
        self.assertTrue(r.has_ids)
        self.assertEqual(r.user_id(r.find_user("u001")), "u001")
        self.assertEqual(r.find_item(r.item_id(5)), 5)
        self.U[0, 0] += 1.0  # a copy: the model is untouched
        self.assertNotEqual(r.user_factors[0, 0], self.U[0, 0])
        self.U[0, 0] -= 1.0

    def test_recommend_matches_numpy(self):
        for user in (0, 17, 149):
            items, scores = self.ranker.recommend(user, k=10, indices=True)
            want = top_k(self.U[user] @ self.V.T, 10, set(self.hist[user]))
            self.assertEqual(items.tolist(), want)
            np.testing.assert_allclose(scores, (self.U[user] @ self.V.T)[want], rtol=1e-4,
                                       atol=1e-5)
            self.assertAlmostEqual(self.ranker.predict(user, int(items[0]), indices=True),
                                   float(scores[0]), places=4)

    def test_recommend_string_ids_and_filters(self):
        items, scores = self.ranker.recommend("u001", k=5)
        self.assertEqual(items.dtype, object)
        self.assertTrue(all(isinstance(i, str) for i in items))
        seen = {self.ranker.item_id(i) for i in self.hist[self.ranker.find_user("u001")]}
        self.assertFalse(seen & set(items))
        self.assertTrue(np.all(np.diff(scores) <= 0))
        excluded, _ = self.ranker.recommend("u001", k=5, exclude=list(items[:2]))
        self.assertFalse(set(items[:2]) & set(excluded))
        self.assertEqual(list(excluded[:3]), list(items[2:5]))
        cands = ["b01", "b02", "b03", "b04"]
        only, _ = self.ranker.recommend("u001", k=10, candidates=cands, exclude_seen=False)
        self.assertEqual(sorted(only), sorted(cands))
        with_seen, _ = self.ranker.recommend("u001", k=80, exclude_seen=False)
        self.assertEqual(len(with_seen), 80)

    def test_recommend_batch_equals_single(self):
        users = ["u001", "u002", "u006", "u150"]
        items, scores = self.ranker.recommend_batch(users, k=6)
        self.assertEqual(items.shape, (4, 6))
        for row, user in enumerate(users):
            one_items, one_scores = self.ranker.recommend(user, k=6)
            self.assertEqual(items[row].tolist(), one_items.tolist())
            np.testing.assert_allclose(scores[row], one_scores, rtol=1e-5, atol=1e-6)
        index_rows, _ = self.ranker.recommend_batch([self.ranker.find_user(u) for u in users],
                                                    k=6, indices=True)
        self.assertEqual([[self.ranker.item_id(i) for i in row] for row in index_rows],
                         items.tolist())
        cands = ["b02", "b03", "b04"]
        items, scores = self.ranker.recommend_batch(["u001", "u002"], k=5, candidates=cands,
                                                    exclude_seen=False)
        self.assertEqual(sorted(items[0][:3]), cands)
        self.assertEqual(list(items[0][3:]), [None, None])
        self.assertTrue(np.isnan(scores[0][3:]).all())

    def test_threads_share_one_ranker(self):
        users = list(range(0, 150, 3))
        want = [self.ranker.recommend(u, k=5, indices=True)[0].tolist() for u in users]
        got = [None] * len(users)

        def work(part):
            for i in range(part, len(users), 4):
                got[i] = self.ranker.recommend(users[i], k=5, indices=True)[0].tolist()
        threads = [threading.Thread(target=work, args=(p,)) for p in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(got, want)

    def test_fold_in_and_history(self):
        hist = self.hist[3]
        items, values = list(hist), list(hist.values())
        factors, bias = self.ranker.fold_in(items, values, indices=True)
        self.assertIsNone(bias)
        self.assertEqual(factors.shape, (16,))
        rec, scores = self.ranker.recommend_history(items, k=8, values=values, indices=True)
        by_id, _ = self.ranker.recommend_history([self.ranker.item_id(i) for i in items], k=8,
                                                 values=values)
        self.assertEqual(list(by_id), [self.ranker.item_id(i) for i in rec])
        want = top_k(factors @ self.V.T, 8, set(items))
        self.assertEqual(rec.tolist(), want)
        np.testing.assert_allclose(scores, (factors @ self.V.T)[want], rtol=1e-4, atol=1e-5)
        # the exact ALS solve is close to the trained (conjugate-gradient) user row
        cos = factors @ self.U[3] / np.linalg.norm(factors) / np.linalg.norm(self.U[3])
        self.assertGreater(cos, 0.9)

    def test_explain_sums_to_exact_score(self):
        user = 9
        hist = self.hist[user]
        target = int(self.ranker.recommend(user, k=1, indices=True)[0][0])
        items, contrib = self.ranker.explain(user, target, n=len(hist), indices=True)
        self.assertEqual(sorted(items.tolist()), sorted(hist))
        self.assertTrue(np.all(np.diff(contrib) <= 1e-7))
        factors, _ = self.ranker.fold_in(list(hist), list(hist.values()), indices=True)
        self.assertAlmostEqual(float(contrib.sum()), float(factors @ self.V[target]), places=3)
        top, _ = self.ranker.explain(self.ranker.user_id(user), self.ranker.item_id(target), n=2)
        self.assertEqual(list(top), [self.ranker.item_id(i) for i in items[:2]])

    def test_similar_items_cosine(self):
        norm = self.V / np.linalg.norm(self.V, axis=1, keepdims=True)
        items, scores = self.ranker.similar_items(4, k=5, indices=True)
        want = top_k(norm @ norm[4], 5, {4})
        self.assertEqual(items.tolist(), want)
        np.testing.assert_allclose(scores, (norm @ norm[4])[want], atol=1e-4)

    def test_save_load_round_trip(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.safetensors")
            self.ranker.save(path)
            with prism.Ranker.load(path) as loaded:
                np.testing.assert_array_equal(loaded.user_factors, self.U)
                np.testing.assert_array_equal(loaded.item_factors, self.V)
                self.assertEqual(loaded.item_id(7), self.ranker.item_id(7))
                a, sa = loaded.recommend("u042", k=5)
                b, sb = self.ranker.recommend("u042", k=5)
                self.assertEqual(list(a), list(b))
                np.testing.assert_array_equal(sa, sb)
            with open(path, "r+b") as f:
                f.write(b"\xff" * 16)
            with self.assertRaises(prism.PrismError) as ctx:
                prism.Ranker.load(path)
            self.assertEqual(ctx.exception.name, "PRISM_ERR_FORMAT")
            self.assertIn("model.safetensors", ctx.exception.message)

    def test_evaluate(self):
        users, items, values = self.data.to_arrays()
        held = np.arange(users.size) % 5 == 0
        ids = lambda idx, f: [f(int(i)) for i in idx]  # noqa: E731
        train = prism.Interactions.from_arrays(ids(users[~held], self.data.user_id),
                                               ids(items[~held], self.data.item_id),
                                               values[~held])
        test = prism.Interactions.from_arrays(ids(users[held], self.data.user_id) + ["nobody"],
                                              ids(items[held], self.data.item_id) + ["b01"],
                                              list(values[held]) + [1.0])
        model = prism.Ranker.train(train, **PARAMS)
        m = model.evaluate(test, k=10)
        self.assertEqual(m["skipped_users"], 1)
        self.assertGreater(m["users"], 100)
        for name in ("precision", "recall", "ndcg", "map"):
            self.assertGreaterEqual(m[name], 0.0)
            self.assertLessEqual(m[name], 1.0)
        self.assertGreater(m["recall"], 0.0)
        self.assertEqual(model.evaluate_ratings(test)["pairs"], int(held.sum()))

    def test_metrics_of_one_list(self):
        m = prism.metrics([1, 2, 3], [2, 5], k=3)
        self.assertAlmostEqual(m["precision"], 1 / 3)
        self.assertAlmostEqual(m["recall"], 1 / 2)
        idcg = 1 + 1 / np.log2(3)
        self.assertAlmostEqual(m["ndcg"], (1 / np.log2(3)) / idcg)
        self.assertAlmostEqual(m["map"], 0.25)

    def test_huge_k(self):
        """k beyond the item count (even beyond a C int) asks for every eligible item."""
        r, big = self.ranker, 2**40
        for call in (lambda k: r.recommend(3, k=k, indices=True),
                     lambda k: r.recommend_history([1, 2, 3], k=k, indices=True),
                     lambda k: r.similar_items(4, k=k, indices=True),
                     lambda k: r.explain(3, 7, n=k, indices=True)):
            items, scores = call(big)
            want_items, want_scores = call(r.num_items)
            self.assertEqual(items.tolist(), want_items.tolist())
            self.assertEqual(scores.tolist(), want_scores.tolist())
        # recommend_batch rows are min(k, num_items) wide: k never sizes memory.
        for k in (r.num_items + 3, big):
            items, scores = r.recommend_batch([0, 1], k=k, indices=True)
            self.assertEqual(items.shape, (2, r.num_items))
            self.assertEqual(scores.shape, (2, r.num_items))
            self.assertEqual(items[0].tolist()[:5], r.recommend(0, k=5, indices=True)[0].tolist())
            seen = len(self.hist[0])
            self.assertTrue((items[0, r.num_items - seen:] == -1).all())

    def test_no_silent_narrowing(self):
        """An integer C cannot hold raises OverflowError instead of wrapping around."""
        for call in (lambda: self.ranker.evaluate(TSV, k=2**32 + 5),
                     lambda: self.ranker.recommend(0, k=-2**32 + 5, indices=True),
                     lambda: self.ranker.predict(2**32, 0, indices=True),
                     lambda: self.ranker.user_id(2**32),
                     lambda: self.data.item_id(-2**40),
                     lambda: prism.metrics([1], [1], k=2**31)):
            with self.assertRaises(OverflowError):
                call()

    def test_errors(self):
        with self.assertRaises(prism.PrismError) as ctx:
            self.ranker.recommend("no-such-user")
        self.assertEqual(ctx.exception.name, "PRISM_ERR_NOT_FOUND")
        self.assertTrue(ctx.exception.message.startswith("prism_ranker_find_user: "),
                        ctx.exception.message)
        with self.assertRaises(prism.PrismError) as ctx:
            self.ranker.recommend("u001", k=0)
        self.assertEqual(ctx.exception.name, "PRISM_ERR_INVALID_ARGUMENT")
        self.assertEqual(ctx.exception.message, "prism_ranker_recommend: k must be at least 1")
        for call in (lambda: self.ranker.recommend("u001", k=-3),
                     lambda: self.ranker.recommend_batch([0, 1], k=-1, indices=True),
                     lambda: self.ranker.similar_items("b01", k=-1)):
            with self.assertRaises(prism.PrismError) as ctx:
                call()
            self.assertEqual(ctx.exception.name, "PRISM_ERR_INVALID_ARGUMENT")
        with self.assertRaises(prism.PrismError):
            self.ranker.recommend(0, exclude=[10_000], indices=True)
        with self.assertRaises(prism.PrismError):
            self.ranker.predict(0, 80, indices=True)
        with self.assertRaises(TypeError):
            prism.Ranker.train(self.data, factor=3)
        with self.assertRaises(ValueError):
            prism.Ranker.train(self.data, algorithm="svd")
        with self.assertRaises(prism.PrismError) as ctx:
            prism.Ranker.train("/nonexistent/interactions.tsv")
        self.assertIn("/nonexistent/interactions.tsv", ctx.exception.message)


class TrainingInputsTest(unittest.TestCase):
    def test_every_input_gives_the_same_model(self):
        data = prism.Interactions(TSV)
        users, items, values = data.to_arrays()
        order = np.lexsort((items, users))
        indptr = np.searchsorted(users[order], np.arange(data.num_users + 1))
        csr = types.SimpleNamespace(indptr=indptr, indices=items[order], data=values[order],
                                    shape=(data.num_users, data.num_items))
        models = [prism.Ranker.train(data, **PARAMS), prism.Ranker.train(TSV, **PARAMS),
                  prism.Ranker.train_coo(users, items, values, **PARAMS),
                  prism.Ranker.train_csr(indptr, items[order], values[order], **PARAMS),
                  prism.Ranker.train(csr, **PARAMS),
                  prism.Ranker.train((users, items, values), **PARAMS)]
        ref = models[0].item_factors
        for model in models[1:]:
            np.testing.assert_allclose(model.item_factors, ref, rtol=1e-3, atol=1e-4)
        self.assertTrue(models[1].has_ids)
        self.assertFalse(models[2].has_ids)
        items_out, _ = models[2].recommend(0, k=3)
        self.assertEqual(items_out.dtype, np.int32)

    def test_progress_and_cancel(self):
        seen = []
        prism.Ranker.train(TSV, iterations=4, factors=8,
                           progress=lambda it, total, loss: seen.append((it, total, loss)))
        self.assertEqual([(s[0], s[1]) for s in seen], [(1, 4), (2, 4), (3, 4), (4, 4)])
        self.assertTrue(all(np.isfinite(s[2]) for s in seen))
        with self.assertRaises(prism.PrismError) as ctx:
            prism.Ranker.train(TSV, iterations=4, progress=lambda it, total, loss: it < 2)
        self.assertEqual(ctx.exception.name, "PRISM_ERR_CANCELLED")

        def boom(it, total, loss):
            raise KeyError("stop here")
        with self.assertRaises(KeyError):
            prism.Ranker.train(TSV, iterations=4, progress=boom)

    def test_bpr_and_mf(self):
        bpr = prism.Ranker.train(TSV, algorithm="bpr", factors=8, iterations=5, seed=3)
        self.assertEqual(bpr.algorithm, "bpr")
        self.assertEqual(len(bpr.recommend("u001", k=4)[0]), 4)
        mf = prism.Ranker.train(TSV, algorithm="mf", factors=8, iterations=10, seed=3,
                                learning_rate=0.01)
        self.assertEqual(mf.algorithm, "mf")
        _, bias = mf.fold_in(["b01", "b02"], [5.0, 4.0])
        self.assertIsInstance(bias, float)
        rating = mf.predict("u001", "b01")
        self.assertGreaterEqual(rating, 1.0)
        self.assertLessEqual(rating, 5.0)
        err = mf.evaluate_ratings(TSV)
        self.assertEqual(err["pairs"], 2662)
        self.assertLess(err["rmse"], 2.0)
        self.assertLessEqual(err["mae"], err["rmse"])


if __name__ == "__main__":
    unittest.main()
