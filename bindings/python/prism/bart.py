"""BART model, sessions and generation."""
import ctypes
import json
import os

import numpy as np

from . import _capi as C
from ._errors import check
from ._handle import Handle
from ._util import Callback, unsigned
from ._util import i32 as _i32
from ._util import ptr as _ptr


def as_batch(input_ids, attention_mask=None):
    """A list of rows or a 2-D array → (ids, mask) int32 arrays of shape [batch, length].

    Ids must be integers that fit int32 (OverflowError otherwise, never a wrap)."""
    ids = _i32(input_ids, "input_ids")
    if ids.ndim != 2 or ids.shape[0] == 0 or ids.shape[1] == 0:
        raise ValueError("input_ids must be a non-empty 2-D batch [batch, length]")
    mask = None if attention_mask is None else _i32(attention_mask, "attention_mask")
    if mask is not None and mask.shape != ids.shape:
        raise ValueError("attention_mask must have the shape of input_ids")
    return ids, mask


class GenerateOutput:
    """sequences [n, width] (HF layout), lengths [n], scores [n] or None, stats dict."""

    def __init__(self, sequences, lengths, scores, stats):
        self.sequences, self.lengths, self.scores, self.stats = sequences, lengths, scores, stats


def _read_result(res):
    n = C.prism_generate_result_count(res)
    w = C.prism_generate_result_width(res)
    seqs = np.ctypeslib.as_array(C.prism_generate_result_sequences(res), shape=(n * w,))
    lens = np.ctypeslib.as_array(C.prism_generate_result_lengths(res), shape=(n,))
    sp = C.prism_generate_result_scores(res)
    scores = np.ctypeslib.as_array(sp, shape=(n,)).copy() if sp else None
    st = C.prism_generate_stats(struct_size=ctypes.sizeof(C.prism_generate_stats))
    check(C.prism_generate_result_stats(ctypes.byref(st), res))
    stats = {"encode_ms": st.encode_ms, "decode_ms": st.decode_ms, "steps": st.steps,
             "rows": st.rows}
    return GenerateOutput(seqs.reshape(n, w).copy(), lens.copy(), scores, stats)


def _json_number(value):
    """numpy scalars in generate() keywords: integers stay exact, never a float."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"a generate() setting cannot be a {type(value).__name__}")


def generate_params(params):
    """HF generate() keyword arguments → a prism_generate_params."""
    p = C.prism_generate_params()
    check(C.prism_generate_params_init(ctypes.byref(p), ctypes.sizeof(p)))
    if params:
        text = json.dumps(params, default=_json_number).encode()
        check(C.prism_generate_params_parse(ctypes.byref(p), text, len(text)))
    return p


def _stream_event(fn, event, _payload):
    ev = event.contents
    return fn(ev.step, [ev.tokens[i] for i in range(ev.num_rows)])


def stream_callback(fn):
    """fn(step, tokens: list[int]) as a Callback (False cancels; an exception in fn cancels
    and is re-raised by the Callback's check)."""
    return Callback(C.prism_generate_stream_fn, fn, _stream_event)


PRISM_UNSET = -2**31
PRISM_NO_TOKEN = -1
_EARLY_STOPPING = {0: False, 1: True, 2: "never"}


def params_dict(p):
    """A prism_generate_params as HF keyword arguments (None: unset, or no token)."""
    out = {}
    for name, ctype in p._fields_[1:]:
        value = getattr(p, name)
        if ctype is ctypes.c_double:
            out[name] = None if value != value else value
        elif name == "seed":
            out[name] = value
        elif value == PRISM_UNSET or (name.endswith("token_id") and value == PRISM_NO_TOKEN):
            out[name] = None
        elif name == "early_stopping":
            out[name] = _EARLY_STOPPING[value]
        elif name == "do_sample":
            out[name] = bool(value)
        else:
            out[name] = value
    return out


class Session(Handle):
    """Decoding state of a Bart model (KV cache, scratch): one call at a time.

    A session serves one call at a time: calls from several threads wait for
    each other (make a session per thread to decode in parallel). It borrows
    its model: closing the Bart first is safe, its memory is released when the
    session is closed too. A session grows to what each request needs; the
    optional caps (0: none) bound what it may grow to, and a request beyond a
    cap raises PrismError (PRISM_ERR_LIMIT) naming it.
    """

    _free = C.prism_bart_session_free
    _exclusive = True

    def __init__(self, model, max_batch=0, max_rows=0, max_source_len=0, max_target_len=0):
        super().__init__()
        p = C.prism_bart_session_params()
        check(C.prism_bart_session_params_init(ctypes.byref(p), ctypes.sizeof(p)))
        p.max_batch, p.max_rows = unsigned(max_batch, "max_batch"), unsigned(max_rows, "max_rows")
        p.max_source_len = unsigned(max_source_len, "max_source_len")
        p.max_target_len = unsigned(max_target_len, "max_target_len")
        with model._use() as m:
            self._borrow_from(model)
            check(C.prism_bart_session_create(ctypes.byref(self._ptr), m, ctypes.byref(p)))
        self.model = model

    def encode(self, input_ids, attention_mask=None):
        """Run the encoder; returns the last hidden state [batch, length, d_model]."""
        ids, mask = as_batch(input_ids, attention_mask)
        out = np.empty((ids.shape[0], ids.shape[1], self.model.info["d_model"]), np.float32)
        with self._use() as s:
            check(C.prism_bart_session_encode(s, _ptr(ids, ctypes.c_int32),
                                              _ptr(mask, ctypes.c_int32), ids.shape[0],
                                              ids.shape[1], _ptr(out, ctypes.c_float)))
        return out

    def forward(self, decoder_input_ids):
        """Teacher-forced logits [batch, tgt_len, vocab] over the last encoded batch."""
        dec = _i32(decoder_input_ids, "decoder_input_ids")
        if dec.ndim != 2:
            raise ValueError("decoder_input_ids must be a 2-D batch [batch, length]")
        out = np.empty((dec.shape[0], dec.shape[1], self.model.info["vocab_size"]), np.float32)
        with self._use() as s:
            check(C.prism_bart_session_forward(s, _ptr(dec, ctypes.c_int32), dec.shape[1],
                                               _ptr(out, ctypes.c_float)))
        return out

    def generate(self, input_ids, attention_mask=None, stream=None, **params):
        """HF-style generate(); params use HF names (num_beams=4, max_length=32, ...).

        stream(step, tokens) sees every decoder step; returning False cancels
        (PrismError PRISM_ERR_CANCELLED); an exception it raises cancels and is
        re-raised (KeyboardInterrupt too)."""
        ids, mask = as_batch(input_ids, attention_mask)
        p = generate_params(params)
        cb = stream_callback(stream)
        res = ctypes.c_void_p()
        try:
            with self._use() as s:
                rc = C.prism_generate_run(ctypes.byref(res), s, _ptr(ids, ctypes.c_int32),
                                          _ptr(mask, ctypes.c_int32), ids.shape[0], ids.shape[1],
                                          ctypes.byref(p), cb.c_fn, None)
            cb.check(rc)
            return _read_result(res)
        finally:
            C.prism_generate_result_free(res)


class Bart(Handle):
    """A BART checkpoint loaded from a HuggingFace folder (immutable, shareable by threads).

    Sessions and explainers made from it borrow it: close() then only marks it
    closed, and its weights are released once they are closed too."""

    _free = C.prism_bart_free

    #: `weights` values and their load flags (PRISM_BART_LOAD_*): reduced precision, opt-in.
    WEIGHTS = {"f32": 0, "bf16": 0x1, "int8": 0x2}

    def __init__(self, model_dir, max_file_size=0, weights="f32"):
        """weights: "f32" (the checkpoint as is), "bf16" or "int8" (copies made at load;
        see docs/performance.md for their precision)."""
        super().__init__()
        if weights not in self.WEIGHTS:
            raise ValueError("weights must be one of %s, not %r" % (sorted(self.WEIGHTS), weights))
        p = C.prism_bart_load_params()
        check(C.prism_bart_load_params_init(ctypes.byref(p), ctypes.sizeof(p)))
        p.max_file_size = unsigned(max_file_size, "max_file_size", 64)
        p.flags = self.WEIGHTS[weights]
        check(C.prism_bart_load(ctypes.byref(self._ptr), os.fsencode(model_dir), ctypes.byref(p)))
        info = C.prism_bart_info(struct_size=ctypes.sizeof(C.prism_bart_info))
        with self._use() as m:
            check(C.prism_bart_get_info(ctypes.byref(info), m))
        self.info = {name: getattr(info, name) for name, _ in info._fields_[1:]}
        self.info["activation_function"] = info.activation_function.decode()

    def session(self, **caps):
        """A new Session; optional caps: max_batch, max_rows, max_source_len, max_target_len."""
        return Session(self, **caps)

    def generation_config(self, **params):
        """The settings a generate() call with these HF keywords runs with: the model's
        defaults (generation_config.json, then config.json, then HF's) under `params`."""
        request = generate_params(params)
        out = C.prism_generate_params()
        check(C.prism_generate_params_init(ctypes.byref(out), ctypes.sizeof(out)))
        with self._use() as m:
            check(C.prism_generate_params_from_model(ctypes.byref(out), m, ctypes.byref(request)))
        return params_dict(out)

    def generate(self, input_ids, attention_mask=None, stream=None, **params):
        """One-shot generate on a session of its own (it grows to what the request needs)."""
        with self.session() as s:
            return s.generate(input_ids, attention_mask, stream=stream, **params)
