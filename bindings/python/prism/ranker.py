"""Interaction data and the matrix-factorization ranker."""
import ctypes
import os

import numpy as np

from . import _capi as C
from ._errors import check
from ._handle import Handle
from ._util import f32, i32, ptr

_ALGORITHMS = {"als": C.PRISM_RANKER_ALS, "bpr": C.PRISM_RANKER_BPR, "mf": C.PRISM_RANKER_MF}
_ALGORITHM_NAMES = {v: k for k, v in _ALGORITHMS.items()}
_PARAM_NAMES = ("factors", "iterations", "regularization", "alpha", "learning_rate", "cg_steps",
                "seed", "rating_min", "rating_max")
P_i32, P_f32 = ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_float)
_INT_MIN, _INT_MAX = -2**31, 2**31 - 1


def _c_int(value, name):
    """value as a C int (int and int32_t alike here); OverflowError rather than a silent wrap."""
    v = int(value)
    if not _INT_MIN <= v <= _INT_MAX:
        raise OverflowError(f"{name} = {v} does not fit a 32-bit C int")
    return v


def _count(value, limit, name):
    """A k or n for C: no result is longer than limit, so a larger value asks for the same."""
    v = int(value)
    return min(v, limit) if v > 0 else _c_int(v, name)


def _lookup(find, obj, key):
    """An index from an int, or from a string id through find (PRISM_ERR_NOT_FOUND if unknown)."""
    if isinstance(key, (str, bytes)):
        out = ctypes.c_int32()
        check(find(ctypes.byref(out), obj, key.encode() if isinstance(key, str) else key))
        return out.value
    return _c_int(key, "index")


class Interactions(Handle):
    """(user, item, value) triples with string id maps, in insertion order.

    Readable from many threads; add() needs exclusive access.
    """

    _free = C.prism_interactions_free

    def __init__(self, path=None):
        """An empty set, or the user<TAB>item[<TAB>value[<TAB>timestamp]] lines of a TSV file."""
        super().__init__()
        if path is None:
            check(C.prism_interactions_create(ctypes.byref(self._ptr)))
        else:
            check(C.prism_interactions_load_tsv(ctypes.byref(self._ptr), os.fsencode(path)))

    @classmethod
    def from_arrays(cls, users, items, values=None):
        """A set from parallel sequences of ids (any values; str() gives the id)."""
        data = cls()
        values = np.ones(len(users), np.float32) if values is None else values
        if not len(users) == len(items) == len(values):
            raise ValueError("users, items and values must have the same length")
        for u, i, v in zip(users, items, values):
            data.add(u, i, v)
        return data

    def add(self, user, item, value=1.0):
        """Append one interaction (ids: strings without tabs or newlines; value finite)."""
        check(C.prism_interactions_add(self.ptr, str(user).encode(), str(item).encode(),
                                       float(value)))

    def __len__(self):
        return C.prism_interactions_count(self.ptr)

    @property
    def num_users(self):
        return C.prism_interactions_num_users(self.ptr)

    @property
    def num_items(self):
        return C.prism_interactions_num_items(self.ptr)

    def __getitem__(self, i):
        """The i-th interaction as (user index, item index, value)."""
        if i < 0:
            i += len(self)
        u, it, v = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_float()
        if not 0 <= i < len(self):
            raise IndexError("interaction index out of range")
        check(C.prism_interactions_get(ctypes.byref(u), ctypes.byref(it), ctypes.byref(v),
                                       self.ptr, i))
        return u.value, it.value, v.value

    def to_arrays(self):
        """(users int32, items int32, values float32) index arrays in insertion order."""
        rows = [self[i] for i in range(len(self))]
        return (np.array([r[0] for r in rows], np.int32), np.array([r[1] for r in rows], np.int32),
                np.array([r[2] for r in rows], np.float32))

    def user_id(self, user):
        s = C.prism_interactions_user_id(self.ptr, _c_int(user, "user"))
        return None if s is None else s.decode()

    def item_id(self, item):
        s = C.prism_interactions_item_id(self.ptr, _c_int(item, "item"))
        return None if s is None else s.decode()

    def find_user(self, user_id):
        """The index of a user id; PrismError PRISM_ERR_NOT_FOUND when unknown."""
        return _lookup(C.prism_interactions_find_user, self.ptr, str(user_id))

    def find_item(self, item_id):
        return _lookup(C.prism_interactions_find_item, self.ptr, str(item_id))


def _metrics():
    """An output struct sized for this layout (the library fills what struct_size covers)."""
    m = C.prism_ranker_metrics()
    m.struct_size = ctypes.sizeof(m)
    return m


def _metrics_dict(m):
    return {"precision": m.precision, "recall": m.recall, "ndcg": m.ndcg, "map": m.map,
            "users": m.users}


def metrics(recommended, relevant, k):
    """precision/recall/ndcg/map@k of one ranked list of item indices against a relevant set."""
    rec, rel = i32(recommended).reshape(-1), i32(relevant).reshape(-1)
    m = _metrics()
    check(C.prism_ranker_metrics_list(ctypes.byref(m), ptr(rec, ctypes.c_int32), rec.size,
                                      ptr(rel, ctypes.c_int32), rel.size, _c_int(k, "k")))
    return _metrics_dict(m)


def _buffers(k):
    """Item, score and count outputs for k results; a bad k is left for the library to report."""
    k = max(k, 0)
    return np.empty(k, np.int32), np.empty(k, np.float32), ctypes.c_size_t()


class _Progress:
    """A C progress callback around fn(iteration, total, loss) -> False cancels.

    An exception raised by fn cancels training and is re-raised once the library returns: it
    cannot cross the C frames in between.
    """

    def __init__(self, fn):
        self.error = None
        self.c_fn = C.prism_ranker_progress_fn(self._call) if fn else C.prism_ranker_progress_fn()
        self.fn = fn

    def _call(self, iteration, total, loss, _payload):
        try:
            return 0 if self.fn(iteration, total, loss) is False else 1
        except BaseException as exc:  # noqa: B036 — KeyboardInterrupt must cancel too
            self.error = exc
            return 0

    def check(self, rc):
        if self.error is not None:
            raise self.error
        return check(rc)


def _train_params(algorithm, progress, params):
    unknown = set(params) - set(_PARAM_NAMES)
    if unknown:
        raise TypeError(f"unknown ranker parameters: {', '.join(sorted(unknown))}")
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"algorithm must be one of {sorted(_ALGORITHMS)}, not {algorithm!r}")
    p = C.prism_ranker_params()
    check(C.prism_ranker_params_init(ctypes.byref(p), ctypes.sizeof(p)))
    p.algorithm = _ALGORITHMS[algorithm]
    for name, value in params.items():
        if value is not None:
            setattr(p, name, value)
    p.progress = progress.c_fn
    return p


class Ranker(Handle):
    """A trained model; read-only, so any number of threads may query it at once.

    Users and items are dense indices [0, count). A model trained from
    Interactions or a TSV keeps their string ids: methods then accept ids as
    str as well as int indices, and return str ids unless as_ids=False.
    """

    _free = C.prism_ranker_free

    def __init__(self, _train=None, _progress=None):
        super().__init__()
        if _train is None:
            raise TypeError("use Ranker.train(), Ranker.train_coo(), Ranker.train_csr() or "
                            "Ranker.load()")
        rc = _train(ctypes.byref(self._ptr))
        (_progress.check if _progress else check)(rc)

    @classmethod
    def _fit(cls, algorithm, progress, params, call):
        prog = _Progress(progress)
        p = _train_params(algorithm, prog, params)
        return cls(_train=lambda out: call(out, ctypes.byref(p)), _progress=prog)

    @classmethod
    def train(cls, data, algorithm="als", progress=None, **params):
        """Train on Interactions, a TSV path, a (users, items[, values]) tuple of index arrays, or
        a CSR matrix (an object with indptr, indices, data and shape, e.g.
        scipy.sparse.csr_matrix). Keyword parameters: factors, iterations,
        regularization, alpha, learning_rate, cg_steps, seed, rating_min, rating_max (unset or
        0: the algorithm's default). progress(iteration, total, loss) returning False cancels
        (PrismError PRISM_ERR_CANCELLED)."""
        if hasattr(data, "indptr") and hasattr(data, "indices"):
            return cls.train_csr(data.indptr, data.indices, data.data, data.shape[1],
                                 algorithm=algorithm, progress=progress, **params)
        if isinstance(data, tuple):
            return cls.train_coo(*data, algorithm=algorithm, progress=progress, **params)
        if not isinstance(data, Interactions):
            data = Interactions(data)
        return cls._fit(algorithm, progress, params,
                        lambda out, p: C.prism_ranker_train(out, data.ptr, p))

    @classmethod
    def train_coo(cls, users, items, values=None, num_users=None, num_items=None,
                  algorithm="als", progress=None, **params):
        """Train on parallel index arrays (values None: all 1); counts default to max + 1."""
        u, it = i32(users).reshape(-1), i32(items).reshape(-1)
        v = None if values is None else f32(values).reshape(-1)
        if u.size != it.size or (v is not None and v.size != u.size):
            raise ValueError("users, items and values must have the same length")
        nu = int(u.max()) + 1 if num_users is None and u.size else int(num_users or 0)
        ni = int(it.max()) + 1 if num_items is None and it.size else int(num_items or 0)
        return cls._fit(algorithm, progress, params, lambda out, p: C.prism_ranker_train_coo(
            out, nu, ni, u.size, ptr(u, ctypes.c_int32), ptr(it, ctypes.c_int32),
            ptr(v, ctypes.c_float), p))

    @classmethod
    def train_csr(cls, indptr, indices, values=None, num_items=None, algorithm="als",
                  progress=None, **params):
        """Train on a CSR matrix: row u holds indices[indptr[u]:indptr[u+1]]."""
        ip = np.ascontiguousarray(indptr, dtype=np.int64).reshape(-1)
        ix = i32(indices).reshape(-1)
        v = None if values is None else f32(values).reshape(-1)
        if ip.size == 0:
            raise ValueError("indptr must have num_users + 1 entries")
        ni = int(ix.max()) + 1 if num_items is None and ix.size else int(num_items or 0)
        return cls._fit(algorithm, progress, params, lambda out, p: C.prism_ranker_train_csr(
            out, ip.size - 1, ni, ptr(ip, ctypes.c_int64), ptr(ix, ctypes.c_int32),
            ptr(v, ctypes.c_float), p))

    @classmethod
    def load(cls, path):
        """A model saved by save(); shapes, counts and id maps are validated."""
        path = os.fsencode(path)
        return cls(_train=lambda out: C.prism_ranker_load(out, path))

    def save(self, path):
        """Write the model atomically (on failure the file at path is untouched)."""
        check(C.prism_ranker_save(self.ptr, os.fsencode(path)))

    # ---- inspection
    @property
    def algorithm(self):
        return _ALGORITHM_NAMES[C.prism_ranker_algorithm_of(self.ptr)]

    @property
    def num_users(self):
        return C.prism_ranker_num_users(self.ptr)

    @property
    def num_items(self):
        return C.prism_ranker_num_items(self.ptr)

    @property
    def num_factors(self):
        return C.prism_ranker_num_factors(self.ptr)

    @property
    def has_ids(self):
        """True when the model keeps string ids (trained from Interactions or a TSV)."""
        return self.num_items > 0 and C.prism_ranker_item_id(self.ptr, 0) is not None

    def user_id(self, user):
        s = C.prism_ranker_user_id(self.ptr, _c_int(user, "user"))
        return None if s is None else s.decode()

    def item_id(self, item):
        s = C.prism_ranker_item_id(self.ptr, _c_int(item, "item"))
        return None if s is None else s.decode()

    def find_user(self, user_id):
        """Index of a user (str id, or an int index passed through)."""
        return _lookup(C.prism_ranker_find_user, self.ptr, user_id)

    def find_item(self, item_id):
        return _lookup(C.prism_ranker_find_item, self.ptr, item_id)

    def _factors(self, fn, rows):
        p = fn(self.ptr)
        return np.ctypeslib.as_array(p, shape=(rows, self.num_factors)).copy()

    @property
    def user_factors(self):
        """A copy of the user factors [num_users, num_factors] (float32)."""
        return self._factors(C.prism_ranker_user_factors, self.num_users)

    @property
    def item_factors(self):
        """A copy of the item factors [num_items, num_factors] (float32)."""
        return self._factors(C.prism_ranker_item_factors, self.num_items)

    # ---- recommendation
    def _items(self, items):
        return i32([self.find_item(x) for x in items]) if items is not None else None

    def _out_items(self, idx, as_ids):
        if not (as_ids and self.has_ids):
            return idx
        return np.array([self.item_id(i) if i >= 0 else None for i in idx.reshape(-1)],
                        dtype=object).reshape(idx.shape)

    def _filter(self, exclude_seen, exclude, candidates):
        """A prism_ranker_filter and the arrays it points into (keep them alive for the call)."""
        f = C.prism_ranker_filter()
        check(C.prism_ranker_filter_init(ctypes.byref(f), ctypes.sizeof(f)))
        f.exclude_seen = 1 if exclude_seen else 0
        ex, cand = self._items(exclude), self._items(candidates)
        if ex is not None:
            f.exclude, f.exclude_count = ptr(ex, ctypes.c_int32), ex.size
        if cand is not None:
            f.candidates, f.candidate_count = ptr(cand, ctypes.c_int32), cand.size
        return f, (ex, cand)

    def recommend(self, user, k=10, exclude_seen=True, exclude=None, candidates=None,
                  as_ids=True):
        """The best min(k, eligible) items for user, best first: (items, scores) arrays.

        exclude / candidates are item ids or indices; items are str ids when the
        model has them and as_ids, int32 indices otherwise."""
        f, _keep = self._filter(exclude_seen, exclude, candidates)
        k = _count(k, self.num_items, "k")
        items, scores, n = _buffers(k)
        check(C.prism_ranker_recommend(ptr(items, ctypes.c_int32), ptr(scores, ctypes.c_float),
                                       ctypes.byref(n), self.ptr, self.find_user(user), k,
                                       ctypes.byref(f)))
        return self._out_items(items[:n.value], as_ids), scores[:n.value]

    def recommend_batch(self, users, k=10, exclude_seen=True, exclude=None, candidates=None,
                        as_ids=True):
        """recommend() for many users at once: (items [n, k], scores [n, k]); a row with fewer
        than k eligible items is padded with -1 (None for str ids) and NaN scores."""
        u = i32([self.find_user(x) for x in users])
        f, _keep = self._filter(exclude_seen, exclude, candidates)
        c_k = _count(k, self.num_items, "k")  # the C rows: no list is longer than num_items
        width = max(int(k), 0)
        items = np.full((u.size, width), -1, np.int32)
        scores = np.full((u.size, width), np.nan, np.float32)
        rows_i = np.empty((u.size, max(c_k, 0)), np.int32)
        rows_s = np.empty((u.size, max(c_k, 0)), np.float32)
        counts = np.zeros(u.size, np.uintp)
        if u.size:
            check(C.prism_ranker_recommend_batch(
                ptr(rows_i, ctypes.c_int32), ptr(rows_s, ctypes.c_float),
                counts.ctypes.data_as(ctypes.POINTER(ctypes.c_size_t)), self.ptr,
                ptr(u, ctypes.c_int32), u.size, c_k, ctypes.byref(f)))
        for row, n in enumerate(counts):
            items[row, :n], scores[row, :n] = rows_i[row, :n], rows_s[row, :n]
        return self._out_items(items, as_ids), scores

    def _history(self, history, values):
        h = self._items(history)
        v = None if values is None else f32(values).reshape(-1)
        if v is not None and v.size != h.size:
            raise ValueError("values must have one entry per history item")
        return h, v

    def recommend_history(self, history, k=10, values=None, exclude_seen=True, exclude=None,
                          candidates=None, as_ids=True):
        """Recommend for a user given only by a history (fold in, then rank)."""
        h, v = self._history(history, values)
        f, _keep = self._filter(exclude_seen, exclude, candidates)
        k = _count(k, self.num_items, "k")
        items, scores, n = _buffers(k)
        check(C.prism_ranker_recommend_history(
            ptr(items, ctypes.c_int32), ptr(scores, ctypes.c_float), ctypes.byref(n), self.ptr,
            ptr(h, ctypes.c_int32), ptr(v, ctypes.c_float), h.size, k, ctypes.byref(f)))
        return self._out_items(items[:n.value], as_ids), scores[:n.value]

    def fold_in(self, history, values=None):
        """(factors [num_factors], bias) of a user with this history; bias is None except MF."""
        h, v = self._history(history, values)
        out, bias = np.empty(self.num_factors, np.float32), ctypes.c_float()
        check(C.prism_ranker_fold_in(ptr(out, ctypes.c_float), ctypes.byref(bias), self.ptr,
                                     ptr(h, ctypes.c_int32), ptr(v, ctypes.c_float), h.size))
        return out, (bias.value if self.algorithm == "mf" else None)

    def _ranked(self, call, k, as_ids):
        """call(items, scores, count, k) with buffers for min(k, num_items) results."""
        k = _count(k, self.num_items, "k")
        items, scores, n = _buffers(k)
        check(call(ptr(items, ctypes.c_int32), ptr(scores, ctypes.c_float), ctypes.byref(n), k))
        return self._out_items(items[:n.value], as_ids), scores[:n.value]

    def similar_items(self, item, k=10, as_ids=True):
        """The k items most cosine-similar to item (itself excluded): (items, scores)."""
        i = self.find_item(item)
        return self._ranked(lambda it, sc, cnt, kk: C.prism_ranker_similar_items(
            it, sc, cnt, self.ptr, i, kk), k, as_ids)

    def explain(self, user, item, n=3, as_ids=True):
        """The n history items of user that contribute most to item's score:
        (items, contributions), largest first."""
        u, i = self.find_user(user), self.find_item(item)
        return self._ranked(lambda it, sc, cnt, nn: C.prism_ranker_explain(
            it, sc, cnt, self.ptr, u, i, nn), n, as_ids)

    def predict(self, user, item):
        """The score of (user, item); for MF the rating clipped to the rating range."""
        out = ctypes.c_float()
        check(C.prism_ranker_predict(ctypes.byref(out), self.ptr, self.find_user(user),
                                     self.find_item(item)))
        return out.value

    # ---- evaluation
    def evaluate(self, test, k=10, exclude_seen=True, exclude=None, candidates=None):
        """Ranking metrics over the test users known to the model (test: Interactions or a TSV
        path): dict precision, recall, ndcg, map, users, skipped_users."""
        test = test if isinstance(test, Interactions) else Interactions(test)
        f, _keep = self._filter(exclude_seen, exclude, candidates)
        m, skipped = _metrics(), ctypes.c_size_t()
        check(C.prism_ranker_evaluate(ctypes.byref(m), ctypes.byref(skipped), self.ptr, test.ptr,
                                      _c_int(k, "k"), ctypes.byref(f)))
        return dict(_metrics_dict(m), skipped_users=skipped.value)

    def evaluate_ratings(self, test):
        """RMSE and MAE of predict() over the known test pairs: dict rmse, mae, pairs."""
        test = test if isinstance(test, Interactions) else Interactions(test)
        rmse, mae, pairs = ctypes.c_double(), ctypes.c_double(), ctypes.c_size_t()
        check(C.prism_ranker_evaluate_ratings(ctypes.byref(rmse), ctypes.byref(mae),
                                              ctypes.byref(pairs), self.ptr, test.ptr))
        return {"rmse": rmse.value, "mae": mae.value, "pairs": pairs.value}
