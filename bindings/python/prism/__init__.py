"""Python bindings for libprism: ranker, BPE tokenizer and BART explanation model.

    import prism
    ranker = prism.Ranker.train("interactions.tsv", factors=32, seed=7)
    items, scores = ranker.recommend("u001", k=5)
    explainer = prism.Explainer("model")
    print(explainer.explain([prism.render_prompt(history, item, evidence)]))
    print(prism.metrics.evaluate(references, explanations)["bleu4"])
    pipeline = prism.Pipeline(ranker, "catalog.tsv", "interactions.tsv", "model")
    print(pipeline.run(["u001"], k=3)[0]["items"][0]["explanation"])
    prism.Trainer(model="model", output_dir="out").train(prism.Pairs.load("pairs.jsonl"))
    requests = prism.TeacherRequests(); requests.add(history, item, evidence)  # teacher prompts

The rules every class follows (docs/python.md): users and items are ids (str, or an int meaning
its decimal string) unless a call says indices=True; an object that borrows another keeps it
alive (closing the lender is safe); Session and Explainer run one call at a time, the other
classes run calls concurrently, and close() waits for the calls in flight; integers are never
narrowed on their way to C (OverflowError).
"""
import ctypes

from . import _capi, _util, metrics
from ._errors import PrismError, check
from .bart import Bart, Session
from .explain import Explainer, render_prompt
from .pipeline import Catalog, Pipeline
from .ranker import Interactions, Ranker
from .tokenizer import Tokenizer, unicode_version
from .tokenizer_trainer import TokenizerTrainer, train_tokenizer
from .teacher import TeacherImport, TeacherRequests
from .train import Pairs, Trainer

__all__ = ["PrismError", "check", "Bart", "Session", "Tokenizer", "TokenizerTrainer", "train_tokenizer", "Interactions", "Ranker", "metrics",
           "Explainer", "render_prompt", "Catalog", "Pipeline", "Pairs", "Trainer", "TeacherRequests",
           "TeacherImport", "version", "version_number", "set_num_threads",
           "get_num_threads", "cpu_features", "set_log_handler", "get_limits", "set_limits",
           "reset_limits", "unicode_version"]


def version():
    """The library's version string, e.g. "0.1.0"."""
    return _capi.prism_version_string().decode()


def version_number():
    """MAJOR * 10000 + MINOR * 100 + PATCH."""
    return _capi.prism_version_number()


def set_num_threads(n=0):
    """Worker threads for libprism and OpenBLAS (process-wide); 0 = all CPUs. Returns the count."""
    return _capi.prism_set_num_threads(_util.c_int(n, "n"))


def get_num_threads():
    return _capi.prism_get_num_threads()


_LIMIT_NAMES = [name for name, _ in _capi.prism_limits._fields_[1:]]


def get_limits():
    """The process-wide safety limits as a dict (0 = no cap)."""
    lim = _capi.prism_limits()
    check(_capi.prism_limits_get(ctypes.byref(lim), ctypes.sizeof(lim)))
    return {name: getattr(lim, name) for name in _LIMIT_NAMES}


def set_limits(**limits):
    """Change process-wide safety limits by name (PRISM_ERR_LIMIT beyond them; 0 = no cap).

    Names not given keep their value. The bindings start with the safe caps of
    prism_limits_init_safe (see reset_limits); set_limits(max_beams=0) lifts one.
    """
    unknown = set(limits) - set(_LIMIT_NAMES)
    if unknown:
        raise TypeError(f"unknown limits: {', '.join(sorted(unknown))} "
                        f"(known: {', '.join(_LIMIT_NAMES)})")
    lim = _capi.prism_limits()
    check(_capi.prism_limits_get(ctypes.byref(lim), ctypes.sizeof(lim)))
    for name, value in limits.items():
        setattr(lim, name, _util.unsigned(value, name, 64 if name.endswith("bytes") or
                                          name == "max_decoder_tokens" else 32))
    check(_capi.prism_limits_set(ctypes.byref(lim)))


def reset_limits(safe=True):
    """Back to the safe caps for untrusted requests (safe=True, the bindings' default) or to
    no caps at all (safe=False)."""
    lim = _capi.prism_limits()
    init = _capi.prism_limits_init_safe if safe else _capi.prism_limits_init
    check(init(ctypes.byref(lim), ctypes.sizeof(lim)))
    check(_capi.prism_limits_set(ctypes.byref(lim)))


reset_limits(safe=True)


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
    level = _util.c_int(level, "level")
    _capi.prism_log_set(cb, None)
    _capi.prism_log_set_level(level)
    _log_callback = cb
