"""What the bindings accept: integers never narrowed, ids never taken for indices, every sparse
format and DataFrames, clear errors for wrong arguments, interaction files of every shape."""
import gzip
import os
import random
import tempfile
import unittest

import numpy as np

import prism
from util import DEMO, MODEL, TINY

TSV = os.path.join(DEMO, "interactions.tsv")
PARAMS = dict(factors=8, iterations=3, seed=5)


def movielens_like():
    """Integer user ids in an order where an id is never its own index (id 196 is not index
    196; index 196 is some other user), as in MovieLens u.data."""
    rng = random.Random(1)
    ids = list(range(1, 301))
    rng.shuffle(ids)
    data = prism.Interactions()
    for u in ids:
        for j in range(8):
            data.add(u, 1 + (u * 7 + j * 31) % 120, 1 + j % 5, 880000000 + j)
    return data


class IntegersTest(unittest.TestCase):
    """No integer is narrowed before C sees it: OverflowError or TypeError instead."""

    @classmethod
    def setUpClass(cls):
        cls.tok = prism.Tokenizer(MODEL)
        cls.bart = prism.Bart(TINY)
        cls.data = movielens_like()
        cls.ranker = prism.Ranker.train(cls.data, **PARAMS)

    @classmethod
    def tearDownClass(cls):
        for obj in (cls.tok, cls.bart, cls.ranker, cls.data):
            obj.close()

    def test_tokenizer(self):
        for ids in ([2**40], [0, 2**32 + 5], np.array([2**40]), np.array([1, -2**31 - 1])):
            with self.assertRaises(OverflowError):
                self.tok.decode(ids)
        for ids in ([1.0], np.array([1.0, 2.0]), ["3"], [True]):
            with self.assertRaises(TypeError):
                self.tok.decode(ids)
        self.assertEqual(self.tok.decode(np.array([0, 2], np.int64)), self.tok.decode([0, 2]))
        self.assertEqual(self.tok.decode([]), "")
        with self.assertRaises(OverflowError):
            self.tok.id_to_token(2**40)
        with self.assertRaises(TypeError):
            self.tok.id_to_token(1.5)

    def test_bart(self):
        for ids in ([[0, 2**32 + 5, 2]], np.array([[0, 2**40]])):
            with self.assertRaises(OverflowError):
                self.bart.generate(ids)
        with self.assertRaises(TypeError):
            self.bart.generate(np.array([[0.0, 5.0, 2.0]]))
        with self.assertRaises(OverflowError):
            self.bart.generate([[0, 5, 2]], attention_mask=[[1, 2**32 + 1, 1]])
        with self.assertRaises(OverflowError):
            self.bart.session(max_batch=2**32)
        with self.assertRaises(OverflowError):
            self.bart.session(max_rows=-1)
        with self.assertRaises(TypeError):
            self.bart.session(max_source_len=2.5)
        with self.bart.session() as s:
            s.encode([[0, 5, 2]])
            with self.assertRaises(OverflowError):
                s.forward([[2, 2**33]])
        out = self.bart.generate([[0, 5, 2]], num_beams=np.int64(2))  # numpy ints are exact
        self.assertEqual(out.sequences.shape[0], 1)
        with self.assertRaises(prism.PrismError):
            self.bart.generate([[0, 5, 2]], num_beams=2**40)  # range-checked by the library

    def test_ranker_scalars(self):
        r = self.ranker
        with self.assertRaises(OverflowError):
            r.recommend(2**32 + 5, indices=True)
        with self.assertRaises(prism.PrismError) as ctx:
            r.recommend(2**32 + 5)  # the id "4294967301", not user 5
        self.assertEqual(ctx.exception.name, "PRISM_ERR_NOT_FOUND")
        for bad in (1.5, None, True, [5]):
            with self.assertRaises(TypeError):
                r.recommend(bad, indices=True)
            with self.assertRaises(TypeError):
                r.recommend(bad)
        for k in ("5", 5.0, True, None):
            with self.assertRaises(TypeError):
                r.recommend(196, k=k)
        with self.assertRaises(OverflowError):
            r.explain(196, 17, n=-2**40)
        with self.assertRaises(OverflowError):
            r.user_id(2**31)
        with self.assertRaises(TypeError):
            r.item_id(1.0)

    def test_ranker_arrays(self):
        r = self.ranker
        with self.assertRaises(OverflowError):
            r.recommend_batch(np.array([0, 2**33]), indices=True)
        with self.assertRaises(TypeError):
            r.recommend_batch(np.array([0.0, 1.0]), indices=True)
        with self.assertRaises(OverflowError):
            r.recommend(0, exclude=np.array([2**40]), indices=True)
        with self.assertRaises(TypeError):
            r.fold_in(np.array([1.5, 2.0]), indices=True)
        with self.assertRaises(OverflowError):
            prism.Ranker.train_coo(np.array([0, 2**32 + 1]), np.array([0, 1]))
        with self.assertRaises(TypeError):
            prism.Ranker.train_coo(np.array([0.0, 1.0]), np.array([0, 1]))
        with self.assertRaises(OverflowError):
            prism.Ranker.train_coo([0, 1], [0, 1], num_items=2**31)
        with self.assertRaises(OverflowError):
            prism.metrics([2**40], [1], k=3)

    def test_params(self):
        for name, bad, error in (("factors", 2**32 + 8, OverflowError), ("factors", 8.5, TypeError),
                                 ("iterations", "3", TypeError), ("seed", -1, OverflowError),
                                 ("seed", 2**64, OverflowError), ("alpha", "1", TypeError)):
            with self.subTest(name=name, value=bad), self.assertRaises(error):
                prism.Ranker.train(self.data, **{name: bad})
        with self.assertRaises(OverflowError):
            prism.set_num_threads(2**32)
        with self.assertRaises(TypeError):
            prism.set_num_threads(1.5)
        with self.assertRaises(OverflowError):
            prism.render_prompt([], ("t", "f"), max_history=2**32)
        with self.assertRaises(TypeError):
            prism.render_prompt([], ("t", "f"), max_evidence=1.5)
        with self.assertRaises(OverflowError):
            prism.Explainer(MODEL, max_batch=2**33)
        with self.assertRaises(OverflowError):
            prism.set_limits(max_beams=2**32)


class IdsTest(unittest.TestCase):
    """Ids by default (an int is its decimal string), indices only with indices=True."""

    @classmethod
    def setUpClass(cls):
        cls.data = movielens_like()
        cls.r = prism.Ranker.train(cls.data, **PARAMS)

    def test_an_int_is_an_id(self):
        r = self.r
        self.assertNotEqual(r.find_user(196), 196)  # the trap: id 196 is not index 196
        by_str, s1 = r.recommend("196", k=5)
        by_int, s2 = r.recommend(196, k=5)
        by_np, _ = r.recommend(np.int64(196), k=5)  # as from a pandas column
        by_index, _ = r.recommend(r.find_user("196"), k=5, indices=True)
        self.assertEqual(list(by_int), list(by_str))
        self.assertEqual(list(by_np), list(by_str))
        self.assertEqual([r.item_id(i) for i in by_index], list(by_str))
        other, _ = r.recommend(196, k=5, indices=True)  # index 196: another user
        self.assertNotEqual(r.user_id(196), "196")
        self.assertNotEqual([r.item_id(i) for i in other], list(by_str))
        np.testing.assert_array_equal(s1, s2)

    def test_items_too(self):
        r = self.r
        items, _ = r.recommend(196, k=6)
        first = items[0]
        self.assertIsInstance(first, str)
        excluded, _ = r.recommend(196, k=5, exclude=[int(first)])
        self.assertNotIn(first, list(excluded))
        self.assertEqual(list(excluded), list(r.recommend(196, k=5, exclude=[first])[0]))
        self.assertEqual(list(r.explain(196, int(first))[0]), list(r.explain("196", first)[0]))
        self.assertAlmostEqual(r.predict(196, int(first)), r.predict("196", first), places=6)
        idx = r.find_item(first)
        self.assertAlmostEqual(r.predict(r.find_user(196), idx, indices=True),
                               r.predict(196, first), places=6)
        self.assertEqual(list(r.similar_items(int(first), k=3)[0]),
                         [r.item_id(i) for i in r.similar_items(idx, k=3, indices=True)[0]])
        history = ["5", 17, np.int32(33)]
        self.assertEqual(list(r.recommend_history(history, k=4)[0]),
                         [r.item_id(i) for i in r.recommend_history(
                             [r.find_item(x) for x in history], k=4, indices=True)[0]])
        batch, _ = r.recommend_batch([196, "22", np.int64(6)], k=3)
        self.assertEqual(list(batch[0]), list(r.recommend(196, k=3)[0]))

    def test_interactions_ids(self):
        d = self.data
        self.assertEqual(d.find_user(196), d.find_user("196"))
        self.assertEqual(d.user_id(d.find_user(np.int64(196))), "196")

    def test_model_without_ids(self):
        """Trained from arrays, a model's ids are its indices: both spellings agree."""
        m = prism.Ranker.train_coo([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], factors=2, iterations=2)
        self.assertFalse(m.has_ids)
        a, _ = m.recommend(2, k=2)
        b, _ = m.recommend(2, k=2, indices=True)
        self.assertEqual(a.tolist(), b.tolist())
        self.assertEqual(a.dtype, np.int32)

    def test_not_an_id(self):
        for bad in (None, 1.5, True, [1], np.float64(2.0)):
            with self.assertRaises(TypeError):
                self.r.recommend(bad)
        with self.assertRaises(TypeError):
            self.r.find_item(None)


class SparseAndDataFrameTest(unittest.TestCase):
    def setUp(self):
        try:
            import scipy.sparse as sp
        except ImportError:  # optional for the bindings
            self.skipTest("scipy is not installed")
        self.sp = sp
        rng = np.random.default_rng(4)
        users, items = rng.integers(0, 40, 400), rng.integers(0, 70, 400)
        values = rng.integers(1, 6, 400).astype(np.float32)
        self.coo = sp.coo_matrix((values, (users, items)), shape=(43, 75))  # empty last rows/cols

    def test_every_sparse_format(self):
        ref = prism.Ranker.train(self.coo.tocsr(), **PARAMS)
        self.assertEqual((ref.num_users, ref.num_items), (43, 75))
        variants = [self.coo, self.coo.tocsc(), self.coo.tolil(), self.coo.todok(),
                    self.coo.tobsr(), self.coo.todia()]
        if hasattr(self.sp, "csr_array"):
            variants += [self.sp.csc_array(self.coo), self.sp.coo_array(self.coo)]
        for m in variants:
            with self.subTest(format=type(m).__name__):
                model = prism.Ranker.train(m, **PARAMS)
                self.assertEqual((model.num_users, model.num_items), (43, 75))
                np.testing.assert_allclose(model.item_factors, ref.item_factors, rtol=1e-3,
                                           atol=1e-4)

    def test_dataframe(self):
        try:
            import pandas as pd
        except ImportError:
            self.skipTest("pandas is not installed")
        df = pd.DataFrame({"user": [196, 186, 196, 22], "item": [242, 302, 377, 377],
                           "value": [3, 3, 1, 1],
                           "timestamp": pd.to_datetime([881250949, 891717742, 878887116, None],
                                                       unit="s")})
        data = prism.Interactions.from_dataframe(df)
        self.assertEqual((len(data), data.num_users, data.num_items), (4, 3, 3))
        self.assertEqual(data.user_id(0), "196")
        stamps = data.timestamps()
        self.assertEqual(stamps[:3].tolist(), [881250949.0, 891717742.0, 878887116.0])
        self.assertTrue(np.isnan(stamps[3]))
        model = prism.Ranker.train(df, factors=2, iterations=2)
        self.assertTrue(model.has_ids)
        self.assertEqual(model.find_user(196), 0)
        numbers = prism.Interactions.from_dataframe(df.assign(timestamp=[1.5, 2, None, 4]))
        self.assertEqual(numbers.timestamps()[0], 1.5)
        with self.assertRaises(ValueError) as ctx:
            prism.Ranker.train(df.rename(columns={"user": "userId"}))
        self.assertIn("user and item", str(ctx.exception))
        with self.assertRaises(TypeError):
            prism.Interactions.from_dataframe(df.assign(user=[1.5, 2.5, 3.5, 4.5]))
        with self.assertRaises(TypeError):
            prism.Interactions(df)

    def test_other_inputs_refused_clearly(self):
        with self.assertRaises(TypeError) as ctx:
            prism.Ranker.train([(0, 1), (1, 2)])
        self.assertIn("DataFrame", str(ctx.exception))
        fake = type("M", (), {"indptr": [0, 1], "indices": [0], "data": [1.0], "shape": (1, 1),
                              "format": "csc"})()
        with self.assertRaises(TypeError) as ctx:
            prism.Ranker.train(fake)
        self.assertIn("tocsr", str(ctx.exception))


class ArgumentsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = prism.Interactions(TSV)
        cls.r = prism.Ranker.train(cls.data, **PARAMS)

    def test_interactions_add(self):
        d = prism.Interactions()
        for user, item, value in ((None, None, 1.0), ("u", None, 1.0), (1.5, "i", 1.0),
                                  ("u", "i", "5"), ("u", "i", None), (True, "i", 1.0)):
            with self.subTest(user=user, item=item, value=value), self.assertRaises(TypeError):
                d.add(user, item, value)
        with self.assertRaises(TypeError):
            d.add("u", "i", 1.0, timestamp="yesterday")
        self.assertEqual(len(d), 0)
        d.add(1, 2, np.float32(3), np.int64(5))
        self.assertEqual((d.user_id(0), d.item_id(0), d[0][2], d.timestamps()[0]),
                         ("1", "2", 3.0, 5.0))
        with self.assertRaises(TypeError):
            d["0"]
        with self.assertRaises(TypeError):
            prism.Interactions.from_arrays("abc", "def")

    def test_lists_are_not_strings(self):
        for kwargs in (dict(exclude="b05"), dict(candidates="b05"), dict(exclude=5)):
            with self.subTest(**kwargs), self.assertRaises(TypeError):
                self.r.recommend("u001", **kwargs)
        with self.assertRaises(TypeError):
            self.r.recommend_batch("u001")
        with self.assertRaises(TypeError):
            self.r.fold_in("b01")

    def test_render_prompt_entries(self):
        item = {"title": "Orchard in August", "features": "literary drama"}
        self.assertEqual(prism.render_prompt([], item),
                         prism.render_prompt([], ("Orchard in August", "literary drama")))
        self.assertEqual(prism.render_prompt([{"title": "A"}], ("B", "x")),
                         prism.render_prompt([("A", "")], ("B", "x")))
        with self.assertRaises(ValueError) as ctx:
            prism.render_prompt([], {"name": "x"})
        self.assertIn("title", str(ctx.exception))
        for history, it in (("abc", ("t", "f")), ([], 5), ([5], ("t", "f")), ({"a": 1}, ("t", "f"))):
            with self.assertRaises(TypeError):
                prism.render_prompt(history, it)
        with self.assertRaises(ValueError):
            prism.render_prompt([("a", "b", "c")], ("t", "f"))

    def test_k_is_clamped(self):
        r, big = self.r, 2**40
        items, scores = r.recommend("u001", k=big)
        seen = sum(1 for u, _, _ in zip(*self.data.to_arrays()) if u == self.data.find_user("u001"))
        self.assertEqual(len(items), r.num_items - seen)  # every eligible item, no more
        self.assertEqual(len(r.recommend("u001", k=big, exclude_seen=False)[0]), r.num_items)
        batch, bscores = r.recommend_batch(["u001", "u002"], k=big)
        self.assertEqual(batch.shape, (2, r.num_items))
        self.assertEqual(list(batch[0][:len(items)]), list(items))


class InteractionFilesTest(unittest.TestCase):
    ROWS = [("196", "242", 3, 881250949), ("186", "302", 3, 891717742), ("22", "377", 1, 878887116)]

    def check(self, data):
        self.assertEqual(len(data), 3)
        self.assertEqual([data.user_id(data[i][0]) for i in range(3)], ["196", "186", "22"])
        self.assertEqual([data[i][2] for i in range(3)], [3.0, 3.0, 1.0])
        self.assertEqual(data.timestamps().tolist(), [881250949.0, 891717742.0, 878887116.0])

    def test_shapes(self):
        csv = "userId,movieId,rating,timestamp\n" + "".join("%s,%s,%s,%s\n" % r for r in self.ROWS)
        iso = "".join("%s|x|%s|%s|%s\n" % (u, i, v, np.datetime64(t, "s")) for u, i, v, t
                      in self.ROWS)
        with tempfile.TemporaryDirectory() as d:
            paths = {}
            for name, text in (("r.csv", csv), ("r.psv", iso)):
                paths[name] = os.path.join(d, name)
                with open(paths[name], "w") as f:
                    f.write(text)
            with gzip.open(os.path.join(d, "r.csv.gz"), "wt") as f:
                f.write(csv)
            self.check(prism.Interactions(paths["r.csv"]))
            self.check(prism.Interactions(os.path.join(d, "r.csv.gz")))
            self.check(prism.Interactions(paths["r.psv"], separator="|", header=False,
                                          columns={"item": 2, "value": 3, "timestamp": 4}))
            self.check(prism.Interactions.from_bytes(gzip.compress(csv.encode())))
            with self.assertRaises(prism.PrismError) as ctx:
                prism.Interactions(paths["r.csv"], separator=";")
            self.assertIn("r.csv:1: expected at least 2 fields", ctx.exception.message)
            with self.assertRaises(prism.PrismError) as ctx:
                prism.Interactions.from_bytes(b"u,i\n\"a,b\n", name="upload.csv")
            self.assertIn("upload.csv:2: a quoted field has no closing quote",
                          ctx.exception.message)
        with self.assertRaises(TypeError):
            prism.Interactions("x.tsv", columns={"rating": 2})
        with self.assertRaises(ValueError):
            prism.Interactions("x.tsv", columns={"user": None})
        with self.assertRaises(TypeError):
            prism.Interactions("x.tsv", header="yes")


if __name__ == "__main__":
    unittest.main()
