"""The catalog and the pipeline: rank, evidence, prompt and explanation in one call.

    pipeline = prism.Pipeline("ranker.safetensors", "catalog.tsv", "interactions.tsv", "model")
    for line in pipeline.run(["u001", "u002"], k=3):
        print(line["user"], [item["explanation"] for item in line["items"]])
    frame = pipeline.frame(["u001", "u002"])   # a pandas DataFrame, one row per recommendation

run() returns the lines `prism run` writes, as dicts; frame() the rows `prism.dask.run` returns.
"""
import contextlib
import ctypes
import os

from . import _capi as C
from ._errors import check
from ._handle import Handle
from ._util import utf8
from .bart import generate_params
from .explain import Explainer, _format
from .ranker import Interactions, Ranker

NOT_FOUND = -12  # PRISM_ERR_NOT_FOUND

#: The columns of frame() and of prism.dask.run(), one row per recommendation.
COLUMNS = ["user", "rank", "item", "title", "score", "evidence", "explanation"]


def _text(b):
    return None if b is None else b.decode("utf-8")


class Catalog(Handle):
    """Item id -> (title, features), what a prompt says about an item.

    Catalog(path) reads a catalog TSV (a header naming item_id, title and feature columns);
    Catalog() is empty, to fill with add(). feature_columns ("genre,mood") picks the columns
    joined into the features text (default: the first column after item_id and title).
    Read-only once filled: threads may share it; add() needs exclusive access.
    """

    _free = C.prism_catalog_free

    def __init__(self, path=None, feature_columns=None, feature_separator=", "):
        super().__init__()
        if path is None:
            if feature_columns is not None:
                raise ValueError("feature_columns applies to a catalog file")
            check(C.prism_catalog_create(ctypes.byref(self._ptr)))
            return
        p = C.prism_catalog_params()
        check(C.prism_catalog_params_init(ctypes.byref(p), ctypes.sizeof(p)))
        if feature_columns is not None:
            if not isinstance(feature_columns, (str, bytes)):
                feature_columns = ",".join(feature_columns)
            p.feature_columns = utf8(feature_columns, "feature_columns")
        p.feature_separator = utf8(feature_separator, "feature_separator")
        check(C.prism_catalog_load_tsv(ctypes.byref(self._ptr), os.fsencode(path),
                                       ctypes.byref(p)))

    @classmethod
    def from_items(cls, items):
        """A catalog from {id: (title, features)} or from (id, title, features) tuples."""
        cat = cls()
        rows = ((i, *entry) for i, entry in items.items()) if hasattr(items, "items") else items
        for item, title, features in rows:
            cat.add(item, title, features)
        return cat

    def add(self, item, title, features=""):
        """Add one item (an id listed before raises PRISM_ERR_INVALID_ARGUMENT)."""
        with self._use(exclusive=True) as c:
            check(C.prism_catalog_add(c, utf8(str(item), "item"), utf8(title, "title"),
                                      utf8(features or "", "features")))

    def __len__(self):
        with self._use() as c:
            return C.prism_catalog_count(c)

    def get(self, item, default=None):
        """(title, features) of an item id, or default."""
        entry = C.prism_prompt_item()
        with self._use() as c:
            rc = C.prism_catalog_find(ctypes.byref(entry), c, utf8(str(item), "item"))
            if rc == NOT_FOUND:
                return default
            check(rc)
            return _text(entry.title), _text(entry.features)

    def __getitem__(self, item):
        found = self.get(item)
        if found is None:
            raise KeyError(item)
        return found

    def __contains__(self, item):
        return self.get(item) is not None

    def items(self):
        """(id, title, features) for every item, in the order added."""
        out = []
        with self._use() as c:
            for i in range(C.prism_catalog_count(c)):
                item, entry = ctypes.c_char_p(), C.prism_prompt_item()
                check(C.prism_catalog_get(ctypes.byref(item), ctypes.byref(entry), c, i))
                out.append((_text(item.value), _text(entry.title), _text(entry.features)))
        return out


def _entry(e):
    return {"item": _text(e.item), "title": _text(e.title), "weight": e.weight}


def _read_user(result, u):
    """One user of a result as the line `prism run` writes."""
    pu = C.prism_pipeline_user(struct_size=ctypes.sizeof(C.prism_pipeline_user))
    check(C.prism_pipeline_result_user(ctypes.byref(pu), result, u))
    user = _text(pu.user)
    if pu.status != 0:
        return {"user": user, "error": {"code": C.prism_status_name(pu.status).decode(),
                                        "message": _text(pu.error)}}
    items = []
    for j in range(pu.item_count):
        it = C.prism_pipeline_item(struct_size=ctypes.sizeof(C.prism_pipeline_item))
        check(C.prism_pipeline_result_item(ctypes.byref(it), result, u, j))
        evidence = []
        for k in range(it.evidence_count):
            e = C.prism_pipeline_entry(struct_size=ctypes.sizeof(C.prism_pipeline_entry))
            check(C.prism_pipeline_result_evidence(ctypes.byref(e), result, u, j, k))
            evidence.append(_entry(e))
        items.append({"item": _text(it.item), "title": _text(it.title), "score": it.score,
                      "evidence": evidence, "prompt": _text(it.prompt),
                      "explanation": _text(it.explanation)})
    line = {"user": user, "items": items}
    if pu.missing_count:
        line["missing"] = [_text(C.prism_pipeline_result_missing(result, u, j))
                           for j in range(pu.missing_count)]
    return line


def rows(lines):
    """The frame() rows of run() lines: one per recommendation, rank from 1; users with an
    error have none."""
    out = []
    for line in lines:
        for rank, item in enumerate(line.get("items", ()), start=1):
            out.append({"user": line["user"], "rank": rank, "item": item["item"],
                        "title": item["title"], "score": item["score"],
                        "evidence": item["evidence"], "explanation": item["explanation"]})
    return out


class Pipeline(Handle):
    """Rank, take the evidence, render the prompts and explain, for batches of users.

    Pipeline(ranker, catalog, interactions=None, explainer=None, **format): each input is an
    object or a path — a Ranker or a saved ranker file, a Catalog or a catalog TSV, Interactions
    or an interactions file (the users' histories, ordered by timestamp; None: empty histories),
    an Explainer or a model folder (None: prompts only, no explanations). format: the prompt
    format options of prism.render_prompt (default: the demo student's).

    The pipeline borrows its inputs (closing them first is safe) and uses its explainer, so it
    runs one call at a time and holds the explainer for it: make one Pipeline per thread for
    parallel work (they may share the other inputs and the explainer's Tokenizer and Bart).
    """

    _free = C.prism_pipeline_free
    _exclusive = True

    def __init__(self, ranker, catalog, interactions=None, explainer=None, **format):
        super().__init__()
        self.ranker = ranker if isinstance(ranker, Ranker) else Ranker.load(ranker)
        self.catalog = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
        self.interactions = (interactions if interactions is None or
                             isinstance(interactions, Interactions) else Interactions(interactions))
        self.explainer = (explainer if explainer is None or isinstance(explainer, Explainer)
                          else Explainer(explainer))
        f = _format(format)
        with self._hold(lenders_too=True) as (r, c, h, ex):
            check(C.prism_pipeline_create(ctypes.byref(self._ptr), r, c, h, ex, ctypes.byref(f)))

    def _hold(self, lenders_too=False):
        """Hold the inputs for a call: the ranker, catalog and histories shared (an add() waits),
        the explainer exclusively (it serves one call at a time). An input its owner closed is
        still alive for this pipeline, which borrowed it, and nobody else can use it."""
        inputs = ((self.ranker, False), (self.catalog, False), (self.interactions, False),
                  (self.explainer, True))
        stack = contextlib.ExitStack()
        ptrs = []
        try:
            if lenders_too:
                self._borrow_from(*[x for x, _ in inputs if x is not None])
            for x, exclusive in inputs:
                if x is None:
                    ptrs.append(None)
                    continue
                try:
                    ptrs.append(stack.enter_context(x._use(exclusive)))
                except ValueError:  # closed by its owner: borrowed, so its C object lives on
                    ptrs.append(x._ptr)
        except BaseException:
            stack.close()
            raise
        return _Held(stack, tuple(ptrs))

    @contextlib.contextmanager
    def _result(self, users, k, evidence, filter_args, generate):
        """Run the pipeline for `users`: the C result while the block runs (freed after)."""
        ids = [utf8(u if isinstance(u, (str, bytes)) else str(u), "user") for u in users]
        f, _keep = self.ranker._filter(*filter_args, False)
        g = generate_params(generate)
        p = C.prism_pipeline_params()
        check(C.prism_pipeline_params_init(ctypes.byref(p), ctypes.sizeof(p)))
        p.k, p.evidence = int(k), int(evidence)
        p.filter, p.generate = ctypes.pointer(f), ctypes.pointer(g)
        arr = (ctypes.c_char_p * max(len(ids), 1))(*ids)
        result = ctypes.c_void_p()
        with self._use() as pipeline, self._hold():
            check(C.prism_pipeline_run(ctypes.byref(result), pipeline, arr, len(ids),
                                       ctypes.byref(p)))
        try:
            yield result
        finally:
            C.prism_pipeline_result_free(result)

    def _call(self, users, k, evidence, filter_args, generate):
        with self._result(users, k, evidence, filter_args, generate) as result:
            return [_read_user(result, u) for u in range(len(users))]

    def run(self, users, k=3, evidence=3, exclude_seen=True, exclude=None, candidates=None,
            batch_size=None, **generate):
        """One dict per user id, in order — the line `prism run` writes for it: {"user", "items":
        [{"item", "title", "score", "evidence": [{"item", "title", "weight"}], "prompt",
        "explanation"}]} (plus "missing": the ids the catalog lacks), or {"user", "error"} for a
        user the ranker does not know. Users go through the pipeline batch_size at a time (default
        32 // k, as prism run): each batch's prompts are explained in one batched decode.
        exclude, candidates: item ids. generate: HF generate() keywords (num_beams, ...)."""
        users = [users] if isinstance(users, (str, bytes)) else list(users)
        if isinstance(k, bool) or int(k) < 1:
            raise ValueError(f"k must be at least 1, not {k!r}")
        batch = int(batch_size) if batch_size else max(1, 32 // int(k))
        out = []
        for first in range(0, len(users), batch):
            out += self._call(users[first:first + batch], k, evidence,
                              (exclude_seen, exclude, candidates), generate)
        return out

    def frame(self, users, **kwargs):
        """run() as a table: a pandas DataFrame with the columns COLUMNS (one row per
        recommendation, rank from 1), or a list of row dicts when pandas is not installed."""
        data = rows(self.run(users, **kwargs))
        try:
            import pandas as pd
        except ImportError:
            return data
        return pd.DataFrame(data, columns=COLUMNS)


class _Held:
    """The inputs held for one call (Pipeline._hold): entering gives their C pointers."""

    def __init__(self, stack, ptrs):
        self.stack, self.ptrs = stack, ptrs

    def __enter__(self):
        return self.ptrs

    def __exit__(self, *exc):
        return self.stack.__exit__(*exc)
