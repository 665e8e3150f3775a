"""Training a BART with HuggingFace Trainer semantics (libprism <prism/train.h>).

    pairs = prism.Pairs.load("train.jsonl", tokenizer=prism.Tokenizer("model"))
    with prism.Trainer(model="model", learning_rate=1e-4, epochs=3, output_dir="out") as t:
        t.train(pairs, progress=lambda p: print(p["step"], p["loss"]))
"""
import ctypes
import json
import os

from . import _capi as C
from ._errors import check
from ._handle import Handle
from ._util import Callback, unsigned, utf8
from ._util import i32 as _i32
from ._util import ptr as _ptr
from .bart import Bart

_PARAM_NAMES = [name for name, _ in C.prism_train_params._fields_[1:]]
_SCHEDULES = {"linear": C.PRISM_TRAIN_LINEAR, "cosine": C.PRISM_TRAIN_COSINE,
              "constant": C.PRISM_TRAIN_CONSTANT}


def _pairs_params(batches, max_source_len, max_target_len, truncate):
    p = C.prism_pairs_params()
    check(C.prism_pairs_params_init(ctypes.byref(p), ctypes.sizeof(p)))
    p.format = C.PRISM_PAIRS_BATCHES if batches else C.PRISM_PAIRS_PAIRS
    p.max_source_len = unsigned(max_source_len, "max_source_len")
    p.max_target_len = unsigned(max_target_len, "max_target_len")
    p.truncate = 1 if truncate else 0
    return p


class Pairs(Handle):
    """Training data: (source, target) pairs of token ids or text, or ready micro-batches.

    Pairs(batches=True) holds micro-batches used in order (add_batch); otherwise
    pairs (add, add_text). max_source_len / max_target_len (0: none) cap the
    lengths: longer sequences are cut (truncate=True, keeping their last token)
    or refused. One call at a time: calls from several threads wait for each other.
    """

    _free = C.prism_pairs_free
    _exclusive = True

    def __init__(self, batches=False, max_source_len=0, max_target_len=0, truncate=False,
                 _loader=None):
        super().__init__()
        p = _pairs_params(batches, max_source_len, max_target_len, truncate)
        if _loader is None:
            check(C.prism_pairs_create(ctypes.byref(self._ptr), ctypes.byref(p)))
        else:
            check(_loader(ctypes.byref(self._ptr), ctypes.byref(p)))

    @classmethod
    def load(cls, path, tokenizer=None, **options):
        """Read a JSON Lines file: {"source", "target"} text (needs tokenizer) or
        {"input_ids", "labels"} ids per line; with batches=True one micro-batch per line."""
        path = os.fsencode(path)
        return cls._read(tokenizer, options,
                         lambda out, tok, p: C.prism_pairs_load(out, path, tok, p))

    @classmethod
    def parse(cls, text, tokenizer=None, what="pairs", **options):
        """The same from a str or bytes of JSON Lines."""
        data, name = utf8(text), utf8(what, "what")
        return cls._read(tokenizer, options,
                         lambda out, tok, p: C.prism_pairs_parse(out, data, len(data), name, tok,
                                                                 p))

    @classmethod
    def _read(cls, tokenizer, options, call):
        if tokenizer is None:
            return cls(**options, _loader=lambda out, p: call(out, None, p))
        with tokenizer._use() as tok:  # the tokenizer is only used during the call
            return cls(**options, _loader=lambda out, p: call(out, tok, p))

    def add(self, source, target, tokenizer=None):
        """One pair: token id sequences, or strs encoded by `tokenizer` with <s> ... </s>."""
        if isinstance(source, str) or isinstance(target, str):
            if tokenizer is None:
                raise ValueError("text pairs need a tokenizer")
            return self.add_text(tokenizer, source, target)
        src, tgt = _i32(source, "source").ravel(), _i32(target, "target").ravel()
        with self._use() as p:
            check(C.prism_pairs_add(p, _ptr(src, ctypes.c_int32), src.size,
                                    _ptr(tgt, ctypes.c_int32), tgt.size))

    def add_text(self, tokenizer, source, target):
        src, tgt = utf8(source, "source"), utf8(target, "target")
        with self._use() as p, tokenizer._use() as tok:
            check(C.prism_pairs_add_text(p, tok, src, len(src), tgt, len(tgt)))

    def add_batch(self, input_ids, labels, attention_mask=None):
        """One micro-batch: input_ids [rows, src] padded with pad_token_id, labels [rows, tgt]
        with -100 where nothing is learnt."""
        ids, lab = _i32(input_ids, "input_ids"), _i32(labels, "labels")
        mask = None if attention_mask is None else _i32(attention_mask, "attention_mask")
        if ids.ndim != 2 or lab.ndim != 2 or ids.shape[0] != lab.shape[0]:
            raise ValueError("input_ids and labels must be 2-D with the same number of rows")
        if mask is not None and mask.shape != ids.shape:
            raise ValueError("attention_mask must have the shape of input_ids")
        with self._use() as p:
            check(C.prism_pairs_add_batch(p, _ptr(ids, ctypes.c_int32), _ptr(mask, ctypes.c_int32),
                                          ids.shape[0], ids.shape[1], _ptr(lab, ctypes.c_int32),
                                          lab.shape[1]))

    def __len__(self):
        with self._use() as p:
            return C.prism_pairs_count(p)

    @property
    def truncated(self):
        """How many pairs had a side cut by truncate=True."""
        with self._use() as p:
            return C.prism_pairs_truncated(p)


def _progress_call(fn, progress, _payload):
    p = progress.contents
    info = {name: getattr(p, name) for name, _ in p._fields_[1:]}
    info["evaluated"], info["best"] = bool(p.evaluated), bool(p.best)
    info["checkpoint"] = p.checkpoint.decode() if p.checkpoint else None
    info["eval_text"] = None
    if p.eval_text:
        text = p.eval_text.contents
        info["eval_text"] = {name: getattr(text, name) for name, _ in text._fields_[1:]}
    for key in ("eval_loss", "eval_accuracy", "eval_exact_match", "eval_metric"):
        if info[key] != info[key]:
            info[key] = None
    return fn(info)


_STRINGS = {"output_dir", "tokenizer_dir", "best_metric"}
_UNSIGNED = {name for name, ctype in C.prism_train_params._fields_ if ctype is ctypes.c_uint32}
_REALS = {name for name, ctype in C.prism_train_params._fields_ if ctype is ctypes.c_double}


def _train_params(params, keep):
    """prism_train_params from keyword arguments (None: the default)."""
    unknown = set(params) - set(_PARAM_NAMES)
    if unknown:
        raise TypeError(f"unknown training parameters: {', '.join(sorted(unknown))} "
                        f"(known: {', '.join(_PARAM_NAMES)})")
    p = C.prism_train_params()
    check(C.prism_train_params_init(ctypes.byref(p), ctypes.sizeof(p)))
    for name, value in params.items():
        if value is None:
            continue
        if name == "schedule":
            if value not in _SCHEDULES:
                raise ValueError(f"schedule must be one of {sorted(_SCHEDULES)}, not {value!r}")
            value = _SCHEDULES[value]
        elif name in _STRINGS:
            value = os.fsencode(value)
            keep.append(value)  # C reads the string during the call
        elif name == "group_by_length":
            value = 1 if value else 0
        elif name == "seed":
            value = unsigned(value, name, 64)
        elif name in _UNSIGNED:
            value = unsigned(value, name)
        elif name in _REALS:
            value = float(value)
        setattr(p, name, value)
    return p


class Trainer(Handle):
    """Trains a BART: fine-tuning `model` (a Bart, or a model folder), or a new model from
    `config` (a config.json path, dict or JSON text) initialised as HF's _init_weights does.

    Keyword parameters are prism_train_params fields with HF TrainingArguments defaults:
    learning_rate, weight_decay, adam_beta1, adam_beta2, adam_epsilon, max_grad_norm,
    label_smoothing, dropout, attention_dropout, activation_dropout, schedule ("linear",
    "cosine", "constant"), warmup_steps, batch_size, grad_accum, epochs, max_steps,
    eval_every, eval_batch_size, patience, save_every, group_by_length, seed, output_dir,
    tokenizer_dir, eval_generate (decode the first N evaluation pairs greedily at each evaluation
    and score them: exact match, BLEU, ROUGE, USR), best_metric ("loss", "accuracy", or with
    eval_generate "exact_match", "bleu4", "rouge_l_f", ...: what picks the best checkpoint and
    drives patience). One call at a time: calls from several threads wait for each other.
    """

    _free = C.prism_trainer_free
    _exclusive = True

    def __init__(self, model=None, config=None, generation_config=None, _create=None, **params):
        super().__init__()
        keep = []
        p = _train_params(params, keep)
        if _create is not None:
            check(_create(ctypes.byref(self._ptr), ctypes.byref(p)))
        elif model is not None and config is None:
            if not isinstance(model, Bart):
                model = Bart(model)  # freed when this returns: the trainer keeps its own copy
            with model._use() as m:
                check(C.prism_trainer_create(ctypes.byref(self._ptr), m, ctypes.byref(p)))
        elif config is not None and model is None:
            text = _json_text(config)
            gen = _json_text(generation_config) if generation_config is not None else None
            check(C.prism_trainer_create_from_config(ctypes.byref(self._ptr), text, len(text),
                                                     gen, len(gen) if gen else 0,
                                                     ctypes.byref(p)))
        else:
            raise ValueError("give model (a Bart or a folder) or config (config.json), not both")

    @classmethod
    def resume(cls, checkpoint_dir, output_dir=None, tokenizer_dir=None):
        """Continue from a checkpoint folder a trainer wrote (its settings included)."""
        path = os.fsencode(checkpoint_dir)
        return cls(_create=lambda out, p: C.prism_trainer_resume(out, path, p),
                   output_dir=output_dir, tokenizer_dir=tokenizer_dir)

    def train(self, train, eval=None, progress=None):
        """Train until the budget is spent, early stopping, or progress(dict) returns False
        (PrismError PRISM_ERR_CANCELLED). The dict has step, total_steps, epoch, loss,
        learning_rate, grad_norm, tokens_per_second, evaluated, best, eval_loss,
        eval_accuracy, checkpoint, and with eval_generate eval_generated, eval_exact_match,
        eval_text (the dict of prism.metrics.evaluate's figures: bleu1, bleu4, rouge_l_f_score,
        ...) and eval_metric (best_metric's value). An exception in progress stops training and
        is raised."""
        prog = Callback(C.prism_train_progress_fn, progress, _progress_call)
        with self._use() as t, train._use() as tr:
            if eval is None:
                rc = C.prism_trainer_train(t, tr, None, prog.c_fn, None)
            else:
                with eval._use() as ev:
                    rc = C.prism_trainer_train(t, tr, ev, prog.c_fn, None)
        prog.check(rc)
        return self.state

    def evaluate(self, pairs):
        """(mean loss, token accuracy) over `pairs`, dropout off."""
        loss, acc = ctypes.c_double(), ctypes.c_double()
        with self._use() as t, pairs._use() as ev:
            check(C.prism_trainer_evaluate(ctypes.byref(loss), ctypes.byref(acc), t, ev))
        return loss.value, acc.value

    def save(self, directory):
        """Write a checkpoint folder (HF model files and the training state)."""
        with self._use() as t:
            check(C.prism_trainer_save(t, os.fsencode(directory)))

    @property
    def model(self):
        """The model being trained: a Bart view that keeps this trainer alive; its weights move
        on as training does (use it between train() calls)."""
        with self._use() as t:
            model = Bart._view(C.prism_trainer_model(t), self)
        info = C.prism_bart_info(struct_size=ctypes.sizeof(C.prism_bart_info))
        with model._use() as m:
            check(C.prism_bart_get_info(ctypes.byref(info), m))
        model.info = {name: getattr(info, name) for name, _ in info._fields_[1:]}
        model.info["activation_function"] = info.activation_function.decode()
        return model

    @property
    def state(self):
        """step, total_steps, epoch, best_eval_loss (the loss of the best evaluation; None before
        any), best_step, stopped_early, best_metric (best_metric's best value; None before any)."""
        s = C.prism_train_state(struct_size=ctypes.sizeof(C.prism_train_state))
        with self._use() as t:
            check(C.prism_trainer_get_state(t, ctypes.byref(s)))
        out = {name: getattr(s, name) for name, _ in s._fields_[1:]}
        out["stopped_early"] = bool(s.stopped_early)
        for key in ("best_eval_loss", "best_metric"):
            if out[key] != out[key]:
                out[key] = None
        return out


def _json_text(value):
    """config as bytes of JSON: a dict, JSON text, or a path to a file."""
    if isinstance(value, dict):
        return json.dumps(value).encode()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str) and value.lstrip().startswith("{"):
        return value.encode()
    with open(value, "rb") as f:
        return f.read()
