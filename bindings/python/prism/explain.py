"""Prompts for the explanation model, and text-to-text explanation."""
import ctypes
import os
from collections.abc import Mapping

from . import _capi as C
from ._errors import check
from ._handle import Handle
from ._util import sized, unsigned, utf8
from .bart import Bart, generate_params, stream_callback
from .tokenizer import Tokenizer

_FORMAT_FIELDS = {"template": "template_text", "entry_template": "entry_template",
                  "separator": "separator", "empty_list": "empty_list",
                  "empty_value": "empty_value", "max_history": "max_history",
                  "max_evidence": "max_evidence", "max_value_bytes": "max_value_bytes"}


def _entry(entry, what):
    """(title, features) of one entry: a 2-item tuple or list, or a mapping with a "title"
    (and optionally "features")."""
    if isinstance(entry, Mapping):
        if "title" not in entry:
            raise ValueError(f"{what} must have a \"title\" (a mapping with title and "
                             f"features, or a (title, features) pair)")
        title, features = entry["title"], entry.get("features", "")
    elif isinstance(entry, (tuple, list)):
        if len(entry) != 2:
            raise ValueError(f"{what} must be a (title, features) pair, not {len(entry)} values")
        title, features = entry
    else:
        raise TypeError(f"{what} must be a (title, features) pair or a mapping with a title, "
                        f"not {type(entry).__name__}")
    return utf8(title, f"{what} title"), utf8(features, f"{what} features")


def _items(entries, what):
    """Entries → a prism_prompt_item array (the bytes stay referenced by it)."""
    if isinstance(entries, (str, bytes, Mapping)):
        raise TypeError(f"{what} must be a list of (title, features) pairs, "
                        f"not a {type(entries).__name__}")
    entries = list(entries)
    arr = (C.prism_prompt_item * max(len(entries), 1))()
    for i, entry in enumerate(entries):
        arr[i].title, arr[i].features = _entry(entry, f"{what}[{i}]")
    return arr, len(entries)


def _format(options):
    unknown = set(options) - set(_FORMAT_FIELDS)
    if unknown:
        raise TypeError(f"unknown prompt format options: {', '.join(sorted(unknown))}")
    f = C.prism_prompt_format()
    check(C.prism_prompt_format_init(ctypes.byref(f), ctypes.sizeof(f)))
    for name, value in options.items():
        if value is not None:
            field = _FORMAT_FIELDS[name]
            setattr(f, field, unsigned(value, name) if name.startswith("max_")
                    else utf8(value, name))
    return f


def render_prompt(history, item, evidence=(), **format):
    """The prompt line for one recommendation.

    history (oldest first) and evidence (strongest first) are lists of entries,
    item one entry; an entry is a (title, features) pair or a mapping with
    "title" and "features". Format options (defaults: the demo student's
    format): template, entry_template, separator, empty_list, empty_value,
    max_history, max_evidence, max_value_bytes (0 = no limit).
    """
    (h, n_history), (e, n_evidence) = _items(history, "history"), _items(evidence, "evidence")
    it = (C.prism_prompt_item * 1)()
    it[0].title, it[0].features = _entry(item, "item")
    f = _format(format)
    out = {"buf": ctypes.create_string_buffer(256)}
    n = ctypes.c_size_t()

    def call(capacity):
        if capacity > len(out["buf"]):
            out["buf"] = ctypes.create_string_buffer(capacity)
        rc = C.prism_prompt_render(out["buf"], capacity, ctypes.byref(n), ctypes.byref(f), h,
                                   n_history, it, e, n_evidence)
        return rc, n.value + 1

    length = sized(call, len(out["buf"])) - 1
    return out["buf"].raw[:length].decode("utf-8")


class Explainer(Handle):
    """Prompts in, explanations out, over a tokenizer and a BART model.

    Owns one decoding session, so it runs one call at a time: calls from
    several threads wait for each other (make one Explainer per thread to
    decode in parallel; they may share a Tokenizer and Bart). An explainer made
    from a Tokenizer and a Bart borrows them: closing those first is safe.
    """

    _free = C.prism_explainer_free
    _exclusive = True

    def __init__(self, model_dir=None, tokenizer=None, model=None, max_source_tokens=0,
                 max_batch=0, skip_special=True, clean_up=False):
        """Explainer(model_dir) loads the folder's tokenizer and model;
        Explainer(tokenizer=..., model=...) borrows loaded ones (kept alive by the explainer)."""
        super().__init__()
        p = C.prism_explainer_params()
        check(C.prism_explainer_params_init(ctypes.byref(p), ctypes.sizeof(p)))
        p.max_source_tokens = unsigned(max_source_tokens, "max_source_tokens")
        p.max_batch = unsigned(max_batch, "max_batch")
        p.decode_flags = ((C.PRISM_TOKENIZER_SKIP_SPECIAL if skip_special else 0)
                          | (C.PRISM_TOKENIZER_CLEAN_UP_SPACES if clean_up else 0))
        if model_dir is not None:
            if tokenizer is not None or model is not None:
                raise ValueError("give either model_dir or tokenizer and model")
            check(C.prism_explainer_load(ctypes.byref(self._ptr), os.fsencode(model_dir),
                                         ctypes.byref(p)))
            self._tokenizer = None
        else:
            if tokenizer is None or model is None:
                raise ValueError("Explainer needs a model folder, or a tokenizer and a model")
            if not isinstance(tokenizer, Tokenizer) or not isinstance(model, Bart):
                raise TypeError("Explainer(tokenizer=, model=) takes a prism.Tokenizer and a "
                                "prism.Bart")
            with tokenizer._use() as t, model._use() as m:
                self._borrow_from(tokenizer, model)
                check(C.prism_explainer_create(ctypes.byref(self._ptr), t, m, ctypes.byref(p)))
            self._tokenizer = tokenizer

    @property
    def tokenizer(self):
        """The Tokenizer the explainer uses. When the explainer loaded its own, this is a view
        that keeps the explainer's memory alive until it is closed too."""
        if self._tokenizer is not None:
            return self._tokenizer
        with self._use(exclusive=False) as ex:
            return Tokenizer._view(C.prism_explainer_tokenizer(ex), self)

    def explain(self, prompts, stream=None, **params):
        """Explanations of prompts (a str or a list of str), decoded together.

        Returns n_prompts x num_return_sequences strings, prompt i's first.
        params are HF generate() names (num_beams, max_length, ...); none given
        means the model's generation_config. stream(step, tokens) sees every
        decoder step; returning False cancels (PrismError PRISM_ERR_CANCELLED);
        an exception it raises cancels and is re-raised (KeyboardInterrupt too).
        """
        if isinstance(prompts, (str, bytes)):
            prompts = [prompts]
        data = [utf8(t, "prompt") for t in prompts]
        if not data:
            return []
        if any(b"\0" in d for d in data):
            raise ValueError("a prompt contains a NUL character")
        arr = (ctypes.c_char_p * len(data))(*data)
        p = generate_params(params)
        cb = stream_callback(stream)
        batch = ctypes.c_void_p()
        try:
            with self._use() as ex:
                rc = C.prism_explainer_run(ctypes.byref(batch), ex, arr, len(data),
                                           ctypes.byref(p), cb.c_fn, None)
            cb.check(rc)
            return [_batch_text(batch, i) for i in range(C.prism_text_batch_count(batch))]
        finally:
            C.prism_text_batch_free(batch)


def _batch_text(batch, i):
    n = ctypes.c_size_t()
    p = C.prism_text_batch_get(batch, i, ctypes.byref(n))
    return ctypes.string_at(p, n.value).decode("utf-8", "replace")
