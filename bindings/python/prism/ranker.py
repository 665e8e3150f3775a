"""Interaction data and the matrix-factorization ranker.

Ids and indices: every user and item argument is an *id* (a str, or an int meaning its decimal
string: 196 and "196" are the same MovieLens user) unless the call says `indices=True`, in which
case every user and item argument and result of that call is a dense index in [0, count).
Results are str ids when the model keeps an id map, int32 indices when it has none (a model
trained from index arrays, whose ids are its indices).
"""
import ctypes
import math
import numbers
import operator
import os

import numpy as np

from . import _capi as C
from ._errors import check
from ._handle import Handle
from ._util import Callback, c_int, f32, i32, integer, int_array, ptr, unsigned, utf8

_ALGORITHMS = {"als": C.PRISM_RANKER_ALS, "bpr": C.PRISM_RANKER_BPR, "mf": C.PRISM_RANKER_MF}
_ALGORITHM_NAMES = {v: k for k, v in _ALGORITHMS.items()}
_INT_PARAMS = ("factors", "iterations", "cg_steps")
_REAL_PARAMS = ("regularization", "alpha", "learning_rate", "rating_min", "rating_max")
_PARAM_NAMES = _INT_PARAMS + _REAL_PARAMS + ("seed",)
_COLUMNS = ("user", "item", "value", "timestamp")
P_i32, P_f32 = ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_float)


def _id(value, what):
    """An id as the library stores it: a str (UTF-8), or an int (numpy integers too) as its
    decimal string. Anything else (None, float, bool) is a TypeError."""
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    elif isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be an id (str or int), not bool")
    else:
        try:
            data = str(operator.index(value)).encode()
        except TypeError:
            raise TypeError(f"{what} must be an id (str or int), not "
                            f"{type(value).__name__}") from None
    if b"\0" in data:
        raise ValueError(f"{what} contains a NUL character")
    return data


def _real(value, what):
    """A real number (int, float, numpy number): never a str, None or bool."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)):
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    return float(value)


def _timestamp(value, what="timestamp"):
    """Seconds since the epoch from a number or a datetime-like (None: no timestamp)."""
    if value is None:
        return math.nan
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return math.nan
        return float(value.astype("datetime64[ns]").astype(np.int64)) / 1e9
    if hasattr(value, "timestamp") and not isinstance(value, (numbers.Real, np.number)):
        return float(value.timestamp())
    return _real(value, what)


def _sequence(values, what):
    """A list of ids or indices: a str (or bytes, or a mapping) is refused, not iterated."""
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{what} must be a list of ids or indices, not "
                        f"{type(values).__name__}")
    return values


def _load_params(separator, header, columns):
    p = C.prism_interactions_load_params()
    check(C.prism_interactions_load_params_init(ctypes.byref(p), ctypes.sizeof(p)))
    if separator is not None:
        p.separator = utf8(separator, "separator")
    if header is not None:
        if not isinstance(header, bool):
            raise TypeError("header must be True, False or None (detect)")
        p.header = (C.PRISM_INTERACTIONS_HEADER_PRESENT if header
                    else C.PRISM_INTERACTIONS_HEADER_NONE)
    for name, col in (columns or {}).items():
        if name not in _COLUMNS:
            raise TypeError(f"unknown column {name!r} (known: {', '.join(_COLUMNS)})")
        if col is None and name in ("user", "item"):
            raise ValueError(f"the {name} column cannot be None")
        setattr(p, name + "_column",
                C.PRISM_INTERACTIONS_NO_COLUMN if col is None else c_int(col, f"{name} column"))
    return p


def _is_dataframe(data):
    return type(data).__module__.split(".")[0] == "pandas" and hasattr(data, "columns")


def _is_sparse(data):
    return type(data).__module__.startswith("scipy.sparse") and hasattr(data, "tocsr")


def _dataframe_timestamps(column):
    """A DataFrame column of numbers or datetimes as float seconds (NaN for none)."""
    import pandas as pd
    if pd.api.types.is_datetime64_any_dtype(column):
        if getattr(column.dt, "tz", None) is not None:
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = column.to_numpy(dtype="datetime64[ns]")
        out = ns.astype(np.int64).astype(np.float64) / 1e9
        out[np.isnat(ns)] = np.nan
        return out
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        raise TypeError(f"the timestamp column must hold numbers (seconds) or datetimes, not "
                        f"{column.dtype}")
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


class Interactions(Handle):
    """(user, item, value[, timestamp]) interactions with string id maps, in insertion order.

    Readable from many threads at once; add() waits for the readers and runs alone.
    """

    _free = C.prism_interactions_free

    def __init__(self, path=None, *, separator=None, header=None, columns=None, _load=None):
        """An empty set, or an interactions file: TSV or CSV, gzip or not (see docs/formats.md).

        separator: 1 to 8 characters (None: detected from the first line); header: True,
        False or None (detected: a first line naming the user and item columns); columns:
        {"user": 0, "item": 1, "value": 2, "timestamp": 3} picks columns by position (None
        for value or timestamp: not read)."""
        super().__init__()
        if _load is not None:
            check(_load(ctypes.byref(self._ptr)))
            return
        if path is None:
            if separator is not None or header is not None or columns is not None:
                raise TypeError("separator, header and columns need a path")
            check(C.prism_interactions_create(ctypes.byref(self._ptr)))
            return
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise TypeError(f"Interactions(path) takes a file path, not {type(path).__name__} "
                            "(see Interactions.from_dataframe, .from_arrays and .from_bytes)")
        p = _load_params(separator, header, columns)
        check(C.prism_interactions_load(ctypes.byref(self._ptr), os.fsencode(path),
                                        ctypes.byref(p)))

    @classmethod
    def from_bytes(cls, data, name=None, *, separator=None, header=None, columns=None):
        """A set from the contents of an interactions file (bytes, gzip or not); name stands
        for the file in error messages."""
        data = utf8(data, "data")
        name = None if name is None else utf8(name, "name")
        p = _load_params(separator, header, columns)
        return cls(_load=lambda out: C.prism_interactions_load_memory(
            out, data, len(data), name, ctypes.byref(p)))

    @classmethod
    def from_arrays(cls, users, items, values=None, timestamps=None):
        """A set from parallel sequences of ids (str, or int meaning its decimal string)."""
        users, items = _sequence(users, "users"), _sequence(items, "items")
        n = len(users)
        values = [1.0] * n if values is None else values
        stamps = [None] * n if timestamps is None else timestamps
        if not n == len(items) == len(values) == len(stamps):
            raise ValueError("users, items, values and timestamps must have the same length")
        data = cls()
        for u, i, v, t in zip(users, items, values, stamps):
            data.add(u, i, v, t)
        return data

    @classmethod
    def from_dataframe(cls, df):
        """A set from a pandas DataFrame with columns named user and item, and optionally value
        and timestamp (numbers of seconds, or datetimes; NaN/NaT: none)."""
        missing = [c for c in ("user", "item") if c not in df.columns]
        if missing:
            raise ValueError(
                "a DataFrame of interactions needs columns named user and item (optionally "
                f"value and timestamp); it has {list(df.columns)} (rename them first, e.g. "
                "df.rename(columns={'userId': 'user', 'movieId': 'item', 'rating': 'value'}))")
        n = len(df)
        values = (df["value"].to_numpy(dtype=np.float64) if "value" in df.columns
                  else np.ones(n))
        stamps = (_dataframe_timestamps(df["timestamp"]) if "timestamp" in df.columns
                  else np.full(n, np.nan))
        data = cls()
        with data._use(exclusive=True) as d:
            for u, i, v, t in zip(df["user"].tolist(), df["item"].tolist(), values.tolist(),
                                  stamps.tolist()):
                check(C.prism_interactions_add_timed(d, _id(u, "user"), _id(i, "item"), v, t))
        return data

    def add(self, user, item, value=1.0, timestamp=None):
        """Append one interaction: ids are str or int (an int is its decimal string), value a
        finite number, timestamp seconds since the epoch or a datetime (None: none)."""
        u, i = _id(user, "user"), _id(item, "item")
        v, t = _real(value, "value"), _timestamp(timestamp)
        with self._use(exclusive=True) as d:
            check(C.prism_interactions_add_timed(d, u, i, v, t))

    def __len__(self):
        with self._use() as d:
            return C.prism_interactions_count(d)

    @property
    def num_users(self):
        with self._use() as d:
            return C.prism_interactions_num_users(d)

    @property
    def num_items(self):
        with self._use() as d:
            return C.prism_interactions_num_items(d)

    def __getitem__(self, i):
        """The i-th interaction as (user index, item index, value)."""
        i = integer(i, "interaction index")
        u, it, v = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_float()
        with self._use() as d:
            n = C.prism_interactions_count(d)
            if i < 0:
                i += n
            if not 0 <= i < n:
                raise IndexError("interaction index out of range")
            check(C.prism_interactions_get(ctypes.byref(u), ctypes.byref(it), ctypes.byref(v),
                                           d, i))
        return u.value, it.value, v.value

    def to_arrays(self):
        """(users int32, items int32, values float32) index arrays in insertion order."""
        rows = [self[i] for i in range(len(self))]
        return (np.array([r[0] for r in rows], np.int32), np.array([r[1] for r in rows], np.int32),
                np.array([r[2] for r in rows], np.float32))

    def timestamps(self):
        """Seconds since the epoch per interaction (float64), NaN where there is none."""
        with self._use() as d:
            return np.array([C.prism_interactions_timestamp(d, i)
                             for i in range(C.prism_interactions_count(d))], np.float64)

    def user_id(self, index):
        """The id of a user index, or None when out of range."""
        index = c_int(index, "user index")
        with self._use() as d:
            s = C.prism_interactions_user_id(d, index)
        return None if s is None else s.decode()

    def item_id(self, index):
        index = c_int(index, "item index")
        with self._use() as d:
            s = C.prism_interactions_item_id(d, index)
        return None if s is None else s.decode()

    def find_user(self, user):
        """The index of a user id (an int is its decimal string); PrismError
        PRISM_ERR_NOT_FOUND when unknown."""
        out, key = ctypes.c_int32(), _id(user, "user")
        with self._use() as d:
            check(C.prism_interactions_find_user(ctypes.byref(out), d, key))
        return out.value

    def find_item(self, item):
        out, key = ctypes.c_int32(), _id(item, "item")
        with self._use() as d:
            check(C.prism_interactions_find_item(ctypes.byref(out), d, key))
        return out.value


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
    rec = i32(_sequence(recommended, "recommended"), "recommended").reshape(-1)
    rel = i32(_sequence(relevant, "relevant"), "relevant").reshape(-1)
    m = _metrics()
    check(C.prism_ranker_metrics_list(ctypes.byref(m), ptr(rec, ctypes.c_int32), rec.size,
                                      ptr(rel, ctypes.c_int32), rel.size, c_int(k, "k")))
    return _metrics_dict(m)


def _count(value, limit, name):
    """A k or n for C: an integer; no result is longer than limit, so a larger value asks for
    the same (and sizes no more memory). k <= 0 is left for the library to report."""
    v = integer(value, name)
    return min(v, limit) if v > 0 else c_int(v, name)


def _buffers(k):
    """Item, score and count outputs for k results; a bad k is left for the library to report."""
    k = max(k, 0)
    return np.empty(k, np.int32), np.empty(k, np.float32), ctypes.c_size_t()


def _progress_call(fn, iteration, total, loss, _payload):
    return fn(iteration, total, loss)


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
        if value is None:
            continue
        if name in _INT_PARAMS:
            value = c_int(value, name)
        elif name == "seed":
            value = unsigned(value, name, 64)
        else:
            value = _real(value, name)
        setattr(p, name, value)
    p.progress = progress.c_fn
    return p


class Ranker(Handle):
    """A trained model; read-only, so any number of threads may query it at once.

    Users and items are ids (a str, or an int meaning its decimal string) unless a call says
    indices=True: then every user and item it takes and returns is a dense index in
    [0, count). Results are str ids when the model keeps an id map (trained from
    Interactions, a file or a DataFrame), int32 indices when it has none (trained from
    arrays or a matrix: its ids are its indices).
    """

    _free = C.prism_ranker_free

    def __init__(self, _train=None, _progress=None):
        super().__init__()
        if _train is None:
            raise TypeError("use Ranker.train(), Ranker.train_coo(), Ranker.train_csr() or "
                            "Ranker.load()")
        rc = _train(ctypes.byref(self._ptr))
        (_progress.check if _progress else check)(rc)
        with self._use() as r:  # a model is immutable: read its shape once
            self._shape = (C.prism_ranker_num_users(r), C.prism_ranker_num_items(r),
                           C.prism_ranker_num_factors(r), C.prism_ranker_algorithm_of(r),
                           C.prism_ranker_item_id(r, 0) is not None)

    @classmethod
    def _fit(cls, algorithm, progress, params, call):
        prog = Callback(C.prism_ranker_progress_fn, progress, _progress_call)
        p = _train_params(algorithm, prog, params)
        return cls(_train=lambda out: call(out, ctypes.byref(p)), _progress=prog)

    @classmethod
    def train(cls, data, algorithm="als", progress=None, **params):
        """Train on Interactions, an interactions file path, a pandas DataFrame (columns user,
        item[, value][, timestamp]), a scipy sparse matrix of any format (users x items), or a
        (users, items[, values]) tuple of index arrays. Keyword parameters: factors,
        iterations, regularization, alpha, learning_rate, cg_steps, seed, rating_min,
        rating_max (unset or 0: the algorithm's default). progress(iteration, total, loss)
        returning False cancels (PrismError PRISM_ERR_CANCELLED); an exception it raises
        cancels and is re-raised."""
        if _is_sparse(data):
            csr = data.tocsr()
            return cls.train_csr(csr.indptr, csr.indices, csr.data, num_items=csr.shape[1],
                                 num_users=csr.shape[0], algorithm=algorithm, progress=progress,
                                 **params)
        if hasattr(data, "indptr") and hasattr(data, "indices") and hasattr(data, "shape"):
            fmt = getattr(data, "format", "csr")
            if fmt != "csr":
                raise TypeError(f"a sparse matrix in {fmt!r} format: convert it with .tocsr()")
            return cls.train_csr(data.indptr, data.indices, data.data, num_items=data.shape[1],
                                 num_users=data.shape[0], algorithm=algorithm, progress=progress,
                                 **params)
        if _is_dataframe(data):
            data = Interactions.from_dataframe(data)
        elif isinstance(data, tuple):
            return cls.train_coo(*data, algorithm=algorithm, progress=progress, **params)
        elif isinstance(data, (str, bytes, os.PathLike)):
            data = Interactions(data)
        elif not isinstance(data, Interactions):
            raise TypeError("Ranker.train takes Interactions, a file path, a pandas DataFrame, a "
                            "scipy sparse matrix or a (users, items[, values]) tuple of index "
                            f"arrays, not {type(data).__name__}")
        with data._use() as d:
            return cls._fit(algorithm, progress, params,
                            lambda out, p: C.prism_ranker_train(out, d, p))

    @classmethod
    def train_coo(cls, users, items, values=None, num_users=None, num_items=None,
                  algorithm="als", progress=None, **params):
        """Train on parallel index arrays (values None: all 1); counts default to max + 1."""
        u = i32(users, "users").reshape(-1)
        it = i32(items, "items").reshape(-1)
        v = None if values is None else f32(values).reshape(-1)
        if u.size != it.size or (v is not None and v.size != u.size):
            raise ValueError("users, items and values must have the same length")
        nu = (int(u.max()) + 1 if u.size else 0) if num_users is None else num_users
        ni = (int(it.max()) + 1 if it.size else 0) if num_items is None else num_items
        nu, ni = c_int(nu, "num_users"), c_int(ni, "num_items")
        return cls._fit(algorithm, progress, params, lambda out, p: C.prism_ranker_train_coo(
            out, nu, ni, u.size, ptr(u, ctypes.c_int32), ptr(it, ctypes.c_int32),
            ptr(v, ctypes.c_float), p))

    @classmethod
    def train_csr(cls, indptr, indices, values=None, num_items=None, algorithm="als",
                  progress=None, num_users=None, **params):
        """Train on a CSR matrix: row u holds indices[indptr[u]:indptr[u+1]]."""
        ip = int_array(indptr, "indptr", np.int64).reshape(-1)
        ix = i32(indices, "indices").reshape(-1)
        v = None if values is None else f32(values).reshape(-1)
        if ip.size == 0:
            raise ValueError("indptr must have num_users + 1 entries")
        if num_users is not None and c_int(num_users, "num_users") != ip.size - 1:
            raise ValueError(f"indptr has {ip.size} entries, not num_users + 1 = "
                             f"{num_users + 1}")
        ni = (int(ix.max()) + 1 if ix.size else 0) if num_items is None else num_items
        ni, nu = c_int(ni, "num_items"), c_int(ip.size - 1, "num_users")
        if v is not None and v.size != ix.size:
            raise ValueError("values must have one entry per index")
        return cls._fit(algorithm, progress, params, lambda out, p: C.prism_ranker_train_csr(
            out, nu, ni, ptr(ip, ctypes.c_int64), ptr(ix, ctypes.c_int32),
            ptr(v, ctypes.c_float), p))

    @classmethod
    def load(cls, path):
        """A model saved by save(); shapes, counts and id maps are validated."""
        path = os.fsencode(path)
        return cls(_train=lambda out: C.prism_ranker_load(out, path))

    def save(self, path):
        """Write the model atomically (on failure the file at path is untouched). A symbolic
        link to a regular file is written through (the file it names is replaced, the link
        stays); directories, FIFOs and devices are refused. A new file gets 0666 less the
        umask; a replaced file keeps its mode."""
        path = os.fsencode(path)
        with self._use() as r:
            check(C.prism_ranker_save(r, path))

    # ---- inspection
    def _get(self, field):
        with self._use():  # ValueError once closed
            return self._shape[field]

    @property
    def algorithm(self):
        return _ALGORITHM_NAMES[self._get(3)]

    @property
    def num_users(self):
        return self._get(0)

    @property
    def num_items(self):
        return self._get(1)

    @property
    def num_factors(self):
        return self._get(2)

    @property
    def has_ids(self):
        """True when the model keeps string ids (trained from Interactions, a file or a
        DataFrame); without them its ids are its indices."""
        return self._get(4)

    def user_id(self, index):
        """The id of a user index (None when out of range or the model has no id map)."""
        index = c_int(index, "user index")
        with self._use() as r:
            s = C.prism_ranker_user_id(r, index)
        return None if s is None else s.decode()

    def item_id(self, index):
        index = c_int(index, "item index")
        with self._use() as r:
            s = C.prism_ranker_item_id(r, index)
        return None if s is None else s.decode()

    def find_user(self, user):
        """The index of a user id (an int is its decimal string; without an id map the ids are
        the indices); PrismError PRISM_ERR_NOT_FOUND when unknown."""
        out, key = ctypes.c_int32(), _id(user, "user")
        with self._use() as r:
            check(C.prism_ranker_find_user(ctypes.byref(out), r, key))
        return out.value

    def find_item(self, item):
        out, key = ctypes.c_int32(), _id(item, "item")
        with self._use() as r:
            check(C.prism_ranker_find_item(ctypes.byref(out), r, key))
        return out.value

    def _factors(self, fn, rows):
        with self._use() as r:
            return np.ctypeslib.as_array(fn(r), shape=(rows, self._shape[2])).copy()

    @property
    def user_factors(self):
        """A copy of the user factors [num_users, num_factors] (float32)."""
        return self._factors(C.prism_ranker_user_factors, self.num_users)

    @property
    def item_factors(self):
        """A copy of the item factors [num_items, num_factors] (float32)."""
        return self._factors(C.prism_ranker_item_factors, self.num_items)

    # ---- ids and indices
    def _user(self, user, indices):
        return c_int(user, "user index") if indices else self.find_user(user)

    def _item(self, item, indices):
        return c_int(item, "item index") if indices else self.find_item(item)

    def _items(self, items, what, indices):
        if items is None:
            return None
        items = _sequence(items, what)
        if indices:
            return i32(items, what).reshape(-1)
        return np.array([self.find_item(x) for x in items], np.int32)

    def _out_items(self, idx, indices):
        if indices or not self.has_ids:
            return idx
        with self._use() as r:
            ids = [C.prism_ranker_item_id(r, int(i)) if i >= 0 else None for i in idx.reshape(-1)]
        return np.array([None if s is None else s.decode() for s in ids],
                        dtype=object).reshape(idx.shape)

    def _filter(self, exclude_seen, exclude, candidates, indices):
        """A prism_ranker_filter and the arrays it points into (keep them alive for the call)."""
        f = C.prism_ranker_filter()
        check(C.prism_ranker_filter_init(ctypes.byref(f), ctypes.sizeof(f)))
        f.exclude_seen = 1 if exclude_seen else 0
        ex = self._items(exclude, "exclude", indices)
        cand = self._items(candidates, "candidates", indices)
        if ex is not None:
            f.exclude, f.exclude_count = ptr(ex, ctypes.c_int32), ex.size
        if cand is not None:
            f.candidates, f.candidate_count = ptr(cand, ctypes.c_int32), cand.size
        return f, (ex, cand)

    # ---- recommendation
    def recommend(self, user, k=10, *, exclude_seen=True, exclude=None, candidates=None,
                  indices=False):
        """The best min(k, eligible) items for user, best first: (items, scores) arrays.

        user, exclude and candidates are ids (indices with indices=True)."""
        u = self._user(user, indices)
        f, _keep = self._filter(exclude_seen, exclude, candidates, indices)
        k = _count(k, self.num_items, "k")
        items, scores, n = _buffers(k)
        with self._use() as r:
            check(C.prism_ranker_recommend(ptr(items, ctypes.c_int32), ptr(scores, ctypes.c_float),
                                           ctypes.byref(n), r, u, k, ctypes.byref(f)))
        return self._out_items(items[:n.value], indices), scores[:n.value]

    def recommend_batch(self, users, k=10, *, exclude_seen=True, exclude=None, candidates=None,
                        indices=False):
        """recommend() for many users at once: (items [n, w], scores [n, w]) with
        w = min(k, num_items); a row with fewer eligible items is padded with -1 (None for
        str ids) and NaN scores."""
        users = _sequence(users, "users")
        u = (i32(users, "users").reshape(-1) if indices
             else np.array([self.find_user(x) for x in users], np.int32))
        f, _keep = self._filter(exclude_seen, exclude, candidates, indices)
        c_k = _count(k, self.num_items, "k")
        width = max(c_k, 0)
        items = np.full((u.size, width), -1, np.int32)
        scores = np.full((u.size, width), np.nan, np.float32)
        counts = np.zeros(u.size, np.uintp)
        if u.size:
            with self._use() as r:
                check(C.prism_ranker_recommend_batch(
                    ptr(items, ctypes.c_int32), ptr(scores, ctypes.c_float),
                    counts.ctypes.data_as(ctypes.POINTER(ctypes.c_size_t)), r,
                    ptr(u, ctypes.c_int32), u.size, c_k, ctypes.byref(f)))
        for row, n in enumerate(counts):
            items[row, n:], scores[row, n:] = -1, np.nan
        return self._out_items(items, indices), scores

    def _history(self, history, values, indices):
        h = self._items(history, "history", indices)
        v = None if values is None else f32(values).reshape(-1)
        if v is not None and v.size != h.size:
            raise ValueError("values must have one entry per history item")
        return h, v

    def recommend_history(self, history, k=10, *, values=None, exclude_seen=True, exclude=None,
                          candidates=None, indices=False):
        """Recommend for a user given only by a history of items (fold in, then rank)."""
        h, v = self._history(history, values, indices)
        f, _keep = self._filter(exclude_seen, exclude, candidates, indices)
        k = _count(k, self.num_items, "k")
        items, scores, n = _buffers(k)
        with self._use() as r:
            check(C.prism_ranker_recommend_history(
                ptr(items, ctypes.c_int32), ptr(scores, ctypes.c_float), ctypes.byref(n), r,
                ptr(h, ctypes.c_int32), ptr(v, ctypes.c_float), h.size, k, ctypes.byref(f)))
        return self._out_items(items[:n.value], indices), scores[:n.value]

    def fold_in(self, history, values=None, *, indices=False):
        """(factors [num_factors], bias) of a user with this history; bias is None except MF."""
        h, v = self._history(history, values, indices)
        out, bias = np.empty(self.num_factors, np.float32), ctypes.c_float()
        with self._use() as r:
            check(C.prism_ranker_fold_in(ptr(out, ctypes.c_float), ctypes.byref(bias), r,
                                         ptr(h, ctypes.c_int32), ptr(v, ctypes.c_float), h.size))
        return out, (bias.value if self.algorithm == "mf" else None)

    def _ranked(self, call, k, name, indices):
        """call(r, items, scores, count, k) with buffers for min(k, num_items) results."""
        k = _count(k, self.num_items, name)
        items, scores, n = _buffers(k)
        with self._use() as r:
            check(call(r, ptr(items, ctypes.c_int32), ptr(scores, ctypes.c_float),
                       ctypes.byref(n), k))
        return self._out_items(items[:n.value], indices), scores[:n.value]

    def similar_items(self, item, k=10, *, indices=False):
        """The k items most cosine-similar to item (itself excluded): (items, scores)."""
        i = self._item(item, indices)
        return self._ranked(lambda r, it, sc, cnt, kk: C.prism_ranker_similar_items(
            it, sc, cnt, r, i, kk), k, "k", indices)

    def explain(self, user, item, n=3, *, indices=False):
        """The n history items of user that contribute most to item's score:
        (items, contributions), largest first."""
        u, i = self._user(user, indices), self._item(item, indices)
        return self._ranked(lambda r, it, sc, cnt, nn: C.prism_ranker_explain(
            it, sc, cnt, r, u, i, nn), n, "n", indices)

    def predict(self, user, item, *, indices=False):
        """The score of (user, item); for MF the rating clipped to the rating range."""
        u, i = self._user(user, indices), self._item(item, indices)
        out = ctypes.c_float()
        with self._use() as r:
            check(C.prism_ranker_predict(ctypes.byref(out), r, u, i))
        return out.value

    # ---- evaluation
    def _test_set(self, test):
        if isinstance(test, Interactions):
            return test
        if _is_dataframe(test):
            return Interactions.from_dataframe(test)
        if isinstance(test, (str, bytes, os.PathLike)):
            return Interactions(test)
        raise TypeError("the test set must be Interactions, a file path or a pandas DataFrame, "
                        f"not {type(test).__name__}")

    def evaluate(self, test, k=10, *, exclude_seen=True, exclude=None, candidates=None,
                 indices=False):
        """Ranking metrics over the test users known to the model (test: Interactions, a file
        path or a DataFrame): dict precision, recall, ndcg, map, users, skipped_users."""
        test = self._test_set(test)
        f, _keep = self._filter(exclude_seen, exclude, candidates, indices)
        m, skipped = _metrics(), ctypes.c_size_t()
        k = c_int(k, "k")
        with self._use() as r, test._use() as t:
            check(C.prism_ranker_evaluate(ctypes.byref(m), ctypes.byref(skipped), r, t, k,
                                          ctypes.byref(f)))
        return dict(_metrics_dict(m), skipped_users=skipped.value)

    def evaluate_ratings(self, test):
        """RMSE and MAE of predict() over the known test pairs: dict rmse, mae, pairs."""
        test = self._test_set(test)
        rmse, mae, pairs = ctypes.c_double(), ctypes.c_double(), ctypes.c_size_t()
        with self._use() as r, test._use() as t:
            check(C.prism_ranker_evaluate_ratings(ctypes.byref(rmse), ctypes.byref(mae),
                                                  ctypes.byref(pairs), r, t))
        return {"rmse": rmse.value, "mae": mae.value, "pairs": pairs.value}
