"""Python bindings for libprism: ranker, BPE tokenizer and BART explanation model.

    import prism
    ranker = prism.Ranker.train("interactions.tsv", factors=32, seed=7)
    items, scores = ranker.recommend("u001", k=5)
    explainer = prism.Explainer("model")
    print(explainer.explain([prism.render_prompt(history, item, evidence)]))
"""
import ctypes

from . import _capi
from ._errors import PrismError, check
from .bart import Bart, Session
from .explain import Explainer, render_prompt
from .ranker import Interactions, Ranker, metrics
from .tokenizer import Tokenizer

__all__ = ["PrismError", "check", "Bart", "Session", "Tokenizer", "Interactions", "Ranker", "metrics",
           "Explainer", "render_prompt", "version", "version_number", "set_num_threads",
           "get_num_threads", "cpu_features", "set_log_handler", "get_limits", "set_limits"]


def version():
    """The library's version string, e.g. "0.1.0"."""
    return _capi.prism_version_string().decode()


def version_number():
    """MAJOR * 10000 + MINOR * 100 + PATCH."""
    return _capi.prism_version_number()


def set_num_threads(n=0):
    """Worker threads for libprism and OpenBLAS (process-wide); 0 = all CPUs. Returns the count."""
    return _capi.prism_set_num_threads(int(n))


def get_num_threads():
    return _capi.prism_get_num_threads()


def get_limits():
    """The process-wide safety limits as a dict (0 = no cap)."""
    lim = _capi.prism_limits()
    check(_capi.prism_limits_get(ctypes.byref(lim), ctypes.sizeof(lim)))
    return {name: getattr(lim, name) for name, _ in lim._fields_[1:]}


def set_limits(max_file_bytes=0, max_text_bytes=0, max_batch=0, max_new_tokens=0):
    """Set the process-wide safety limits (PRISM_ERR_LIMIT beyond them); 0 = no cap."""
    lim = _capi.prism_limits(ctypes.sizeof(_capi.prism_limits), max_file_bytes, max_text_bytes,
                             max_batch, max_new_tokens)
    check(_capi.prism_limits_set(ctypes.byref(lim)))


def cpu_features():
    """The CPU features the kernels dispatch on, e.g. ["avx2", "avx512"]."""
    return _capi.prism_cpu_features().decode().split()


_log_callback = None  # kept referenced while C may call it


def set_log_handler(handler, level=2):
    """Route library log messages to handler(level, message); None silences them."""
    global _log_callback
    if handler is None:
        _capi.prism_log_set(_capi.prism_log_fn(), None)
        _log_callback = None
        return
    cb = _capi.prism_log_fn(lambda lvl, msg, _payload: handler(lvl, msg.decode("utf-8", "replace")))
    _capi.prism_log_set(cb, None)
    _capi.prism_log_set_level(int(level))
    _log_callback = cb
