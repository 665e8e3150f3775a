"""Explanation quality: the text metrics of PETER, PEPLER and POD, and faithfulness.

    import prism.metrics
    scores = prism.metrics.evaluate(references, hypotheses, features, feature_set)
    scores["bleu4"], scores["rouge_l_f_score"], scores["usr"], scores["div"]

    faith = prism.metrics.faithfulness(explanations, items, grounded, catalog="catalog.tsv")
    faith["hallucination_rate"], faith["samples"][0]["titles"]

Definitions and pitfalls (tokenisation, ROUGE-L F is not F1, corpus BLEU) are in
docs/metrics.md. A figure that is undefined for the input is None. `ranking` is the
ranking-list metric (precision/recall/NDCG/MAP at k) of the ranker module; calling the module,
prism.metrics(recommended, relevant, k), still means that, as before this module existed.
"""
import ctypes
import math
import os
import sys
import types

from . import _capi as C
from ._errors import check
from ._handle import Handle
from ._util import utf8
from .ranker import metrics as ranking

__all__ = ["TextMetrics", "evaluate", "Faithfulness", "faithfulness", "ranking", "FIGURES"]

TOKENIZE = {"whitespace": C.PRISM_METRICS_TOKENIZE_WHITESPACE,
            "pepler": C.PRISM_METRICS_TOKENIZE_PEPLER}

# The keys of evaluate()'s dict besides "count": the fifteen figures of PETER's tables.
FIGURES = ("bleu1", "bleu4", "rouge_1_f_score", "rouge_1_r_score", "rouge_1_p_score",
           "rouge_2_f_score", "rouge_2_r_score", "rouge_2_p_score", "rouge_l_f_score",
           "rouge_l_r_score", "rouge_l_p_score", "usr", "usn", "fmr", "fcr", "div")


def _strings(values, what):
    """A C array of UTF-8 strings, kept alive by the returned tuple's first element."""
    encoded = [utf8(v, what) for v in values]
    return encoded, (ctypes.c_char_p * max(len(encoded), 1))(*encoded)


def _defined(x):
    return None if isinstance(x, float) and math.isnan(x) else x


class TextMetrics(Handle):
    """A streaming accumulator of the text metrics: add() pairs, then result().

    Memory holds counts, not texts. One object may be shared by threads (calls are serialised).
    """

    _free = C.prism_metrics_free
    _exclusive = True

    def __init__(self, feature_set=None, tokenize="whitespace", lowercase=False):
        super().__init__()
        if tokenize not in TOKENIZE:
            raise ValueError(f"tokenize must be one of {sorted(TOKENIZE)}, not {tokenize!r}")
        p = C.prism_metrics_params()
        check(C.prism_metrics_params_init(ctypes.byref(p), ctypes.sizeof(p)))
        p.tokenize = TOKENIZE[tokenize]
        p.lowercase = int(bool(lowercase))
        if feature_set is not None:
            keep, array = _strings(list(feature_set), "feature")
            p.feature_set, p.feature_set_count = array, len(keep)
        check(C.prism_metrics_create(ctypes.byref(self._ptr), ctypes.byref(p)))

    def add(self, reference, hypothesis, feature=None):
        """Score one pair; `feature` is its ground-truth feature (or None)."""
        ref, hyp = utf8(reference, "reference"), utf8(hypothesis, "hypothesis")
        fea = None if feature is None else utf8(feature, "feature")
        with self._use() as m:
            check(C.prism_metrics_add(m, ref, hyp, fea))

    def result(self):
        """The figures over the pairs added so far, a dict (see FIGURES), plus "count"."""
        r = C.prism_metrics_result(struct_size=ctypes.sizeof(C.prism_metrics_result))
        with self._use() as m:
            check(C.prism_metrics_finish(ctypes.byref(r), m))
        out = {name: _defined(getattr(r, name)) for name in FIGURES}
        out["count"] = r.count
        return out


def evaluate(references, hypotheses, features=None, feature_set=None, tokenize="whitespace",
             lowercase=False):
    """PETER's figures over (reference, hypothesis) pairs, as a dict.

    BLEU and ROUGE are x100; usr, fmr, fcr are shares; div a mean count. `features` (optional)
    holds each pair's ground-truth feature (or None); `feature_set` the feature vocabulary,
    without which fmr, fcr and div are None. `tokenize` is "whitespace" (str.split(), PETER) or
    "pepler" (PEPLER's punctuation post-processing first); `lowercase` applies str.lower() first.
    Accepts any iterables; they must be of equal length.
    """
    metrics = TextMetrics(feature_set, tokenize, lowercase)
    try:
        refs, hyps = iter(references), iter(hypotheses)
        feats = iter(features) if features is not None else None
        done = object()
        for i, ref in enumerate(refs):
            hyp = next(hyps, done)
            fea = next(feats, done) if feats is not None else None
            if hyp is done or fea is done:
                raise ValueError(f"references has more items than hypotheses or features "
                                 f"(pair {i})")
            metrics.add(ref, hyp, fea)
        if next(hyps, done) is not done or (feats is not None and next(feats, done) is not done):
            raise ValueError("hypotheses or features has more items than references")
        return metrics.result()
    finally:
        metrics.close()


class Faithfulness(Handle):
    """Which catalog titles explanations name, against the titles their prompts showed.

    Give the titles as a list, or `catalog`, a TSV file whose header names a "title" column.
    Titles match caselessly on word boundaries, longest first (docs/metrics.md#faithfulness).
    """

    _free = C.prism_faithfulness_free
    _exclusive = True  # add() changes the totals: one call at a time

    def __init__(self, titles=None, catalog=None):
        super().__init__()
        if (titles is None) == (catalog is None):
            raise ValueError("give exactly one of titles and catalog")
        if catalog is not None:
            check(C.prism_faithfulness_load_catalog(ctypes.byref(self._ptr),
                                                    os.fsencode(catalog)))
        else:
            keep, array = _strings(list(titles), "title")
            check(C.prism_faithfulness_create(ctypes.byref(self._ptr), array, len(keep)))

    @property
    def titles(self):
        """The distinct catalog titles (first spelling), in catalog order."""
        with self._use() as f:
            n = C.prism_faithfulness_title_count(f)
            return [C.prism_faithfulness_title(f, i).decode() for i in range(n)]

    def add(self, explanation, item, grounded=()):
        """Check one explanation; `item` is the recommended title, `grounded` the titles shown.

        Returns {"titles": [names in order of first mention], "titles_named", "titles_grounded",
        "names_item", "hallucinated"}.
        """
        keep, array = _strings(list(grounded), "grounded title")
        text, it = utf8(explanation, "explanation"), utf8(item, "item")
        sample = C.prism_faithfulness_sample(struct_size=ctypes.sizeof(C.prism_faithfulness_sample))
        capacity = 16
        with self._use() as f:
            while True:
                titles = (ctypes.c_size_t * capacity)()
                rc = C.prism_faithfulness_add(ctypes.byref(sample), titles, capacity, f,
                                              text, it, array, len(keep))
                if rc != -6 or sample.titles_named <= capacity:  # PRISM_ERR_BUFFER_TOO_SMALL
                    break
                capacity = sample.titles_named
            check(rc)
            names = [C.prism_faithfulness_title(f, titles[i]).decode()
                     for i in range(sample.titles_named)]
        return {"titles": names, "titles_named": sample.titles_named,
                "titles_grounded": sample.titles_grounded, "names_item": bool(sample.names_item),
                "hallucinated": bool(sample.hallucinated)}

    def result(self):
        """Totals and rates over the explanations added (grounded_share None if nothing named)."""
        r = C.prism_faithfulness_result(struct_size=ctypes.sizeof(C.prism_faithfulness_result))
        with self._use() as f:
            check(C.prism_faithfulness_finish(ctypes.byref(r), f))
        return {name: _defined(getattr(r, name)) for name, _ in r._fields_[1:]}


def faithfulness(explanations, items, grounded, titles=None, catalog=None):
    """Faithfulness of explanations: per sample and on average, as a dict.

    `items[i]` is the title recommended to explanation i and `grounded[i]` the titles its prompt
    showed (history and evidence). The dict holds the totals and rates of Faithfulness.result()
    and "samples", one Faithfulness.add() dict per explanation.
    """
    explanations, items, grounded = list(explanations), list(items), list(grounded)
    if not len(explanations) == len(items) == len(grounded):
        raise ValueError("explanations, items and grounded must have the same length")
    with Faithfulness(titles, catalog) as f:
        samples = [f.add(e, it, g) for e, it, g in zip(explanations, items, grounded)]
        out = f.result()
    out["samples"] = samples
    return out


class _Module(types.ModuleType):
    """prism.metrics(...) was the ranking-list metric before this module; it still is."""

    def __call__(self, recommended, relevant, k):
        return ranking(recommended, relevant, k)


sys.modules[__name__].__class__ = _Module
