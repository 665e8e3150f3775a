"""Byte-level BPE tokenizer (HuggingFace BartTokenizer ids)."""
import ctypes
import os

import numpy as np

from . import _capi as C
from ._errors import check
from ._handle import Handle
from ._util import c_int, i32, ptr, sized, utf8

_SPECIALS = {"bos": C.PRISM_TOKENIZER_BOS, "eos": C.PRISM_TOKENIZER_EOS,
             "pad": C.PRISM_TOKENIZER_PAD, "unk": C.PRISM_TOKENIZER_UNK,
             "mask": C.PRISM_TOKENIZER_MASK}


def _encode_flags(special, replace_invalid):
    return ((0 if special else C.PRISM_TOKENIZER_NO_SPECIAL)
            | (C.PRISM_TOKENIZER_REPLACE_INVALID if replace_invalid else 0))


def _special_id(which):
    return property(lambda self: self._special(which),
                    doc=f"The id of the {which} token, or None when the vocabulary has none.")


class Tokenizer(Handle):
    """A loaded vocabulary: read-only, any number of threads may use it at once.

    Explainers made from it borrow it: close() then only marks it closed, and
    its memory is released once they are closed too.

    Tokenizer(path) takes a model folder (vocab.json + merges.txt, else
    tokenizer.json) or a tokenizer.json file; the classmethods load explicit
    files or in-memory contents.
    """

    _free = C.prism_tokenizer_free

    def __init__(self, path=None, add_prefix_space=False, _loader=None):
        super().__init__()
        if _loader is None:
            if path is None:
                raise ValueError("Tokenizer needs a folder or a tokenizer.json path")
            path = os.fspath(path)
            fn = C.prism_tokenizer_load if os.path.isdir(path) else C.prism_tokenizer_load_json
            _loader = lambda out, p: fn(out, path.encode(), p)  # noqa: E731
        params = C.prism_tokenizer_params()
        check(C.prism_tokenizer_params_init(ctypes.byref(params), ctypes.sizeof(params)))
        params.add_prefix_space = 1 if add_prefix_space else 0
        check(_loader(ctypes.byref(self._ptr), ctypes.byref(params)))

    @classmethod
    def from_files(cls, vocab_path, merges_path, add_prefix_space=False):
        """Load explicit vocab.json and merges.txt files."""
        v, m = os.fsencode(vocab_path), os.fsencode(merges_path)
        return cls(add_prefix_space=add_prefix_space,
                   _loader=lambda out, p: C.prism_tokenizer_load_files(out, v, m, p))

    @classmethod
    def from_json(cls, path, add_prefix_space=False):
        """Load a HuggingFace tokenizer.json (a ByteLevel BPE model)."""
        path = os.fsencode(path)
        return cls(add_prefix_space=add_prefix_space,
                   _loader=lambda out, p: C.prism_tokenizer_load_json(out, path, p))

    @classmethod
    def from_memory(cls, vocab_json, merges_txt, add_prefix_space=False):
        """Load vocab.json and merges.txt contents (str or bytes; copied by the library)."""
        v, m = utf8(vocab_json, "vocab_json"), utf8(merges_txt, "merges_txt")
        return cls(add_prefix_space=add_prefix_space,
                   _loader=lambda out, p: C.prism_tokenizer_load_memory(out, v, len(v), m,
                                                                        len(m), p))

    @classmethod
    def from_json_memory(cls, tokenizer_json, add_prefix_space=False):
        """Load tokenizer.json contents (str or bytes)."""
        j = utf8(tokenizer_json, "tokenizer_json")
        return cls(add_prefix_space=add_prefix_space,
                   _loader=lambda out, p: C.prism_tokenizer_load_json_memory(out, j, len(j), p))

    def _ids(self, run, guess):
        """Fill an int32 array through a sized encode call run(tokenizer, buf, capacity, n_ptr)."""
        out = {"buf": np.empty(guess, np.int32)}
        n = ctypes.c_size_t()
        with self._use() as tok:
            def call(capacity):
                if capacity > out["buf"].size:
                    out["buf"] = np.empty(capacity, np.int32)
                return run(tok, ptr(out["buf"], ctypes.c_int32), capacity, ctypes.byref(n)), n.value

            count = sized(call, guess)
        return out["buf"][:count].tolist()

    def encode(self, text, special=True, replace_invalid=False):
        """Ids of text (str or UTF-8 bytes): "<s> text </s>" unless special=False."""
        t = utf8(text)
        flags = _encode_flags(special, replace_invalid)
        return self._ids(lambda tok, b, cap, n: C.prism_tokenizer_encode(b, cap, n, tok, t, len(t),
                                                                         flags), len(t) + 2)

    def encode_pair(self, text_a, text_b, special=True, replace_invalid=False):
        """Ids of a pair: "<s> a </s></s> b </s>" (or "a b" with special=False)."""
        a, b = utf8(text_a, "text_a"), utf8(text_b, "text_b")
        flags = _encode_flags(special, replace_invalid)
        return self._ids(lambda tok, buf, cap, n: C.prism_tokenizer_encode_pair(
            buf, cap, n, tok, a, len(a), b, len(b), flags), len(a) + len(b) + 4)

    def encode_batch(self, texts, special=True, replace_invalid=False, parallel=False):
        """A list of id lists, one per text, encoded in one library call.

        parallel=True spreads a large batch over the library's worker threads
        (set_num_threads); the ids are the same.
        """
        if isinstance(texts, (str, bytes)):
            raise TypeError("encode_batch takes a list of texts; use encode() for one text")
        data = [utf8(t) for t in texts]
        if not data:
            return []
        ptrs = (ctypes.c_char_p * len(data))(*data)
        lens = (ctypes.c_size_t * len(data))(*(len(d) for d in data))
        offsets = (ctypes.c_size_t * (len(data) + 1))()
        flags = _encode_flags(special, replace_invalid) | (C.PRISM_TOKENIZER_PARALLEL if parallel
                                                            else 0)
        ids = self._ids(lambda tok, buf, cap, n: C.prism_tokenizer_encode_batch(
            buf, cap, n, offsets, tok, ptrs, lens, len(data), flags),
            sum(lens) + 2 * len(data))
        return [ids[offsets[i]:offsets[i + 1]] for i in range(len(data))]

    def decode(self, ids, skip_special=False, clean_up=False):
        """The text of ids (HF decode with skip_special_tokens / clean_up_tokenization_spaces).

        Ids must be integers: a float raises TypeError, one beyond int32 OverflowError."""
        arr = i32(ids, "ids").reshape(-1)
        flags = ((C.PRISM_TOKENIZER_SKIP_SPECIAL if skip_special else 0)
                 | (C.PRISM_TOKENIZER_CLEAN_UP_SPACES if clean_up else 0))
        out = {"buf": ctypes.create_string_buffer(16 * arr.size + 1)}
        n = ctypes.c_size_t()

        with self._use() as tok:
            def call(capacity):
                if capacity > len(out["buf"]):
                    out["buf"] = ctypes.create_string_buffer(capacity)
                rc = C.prism_tokenizer_decode(out["buf"], capacity, ctypes.byref(n), tok,
                                              ptr(arr, ctypes.c_int32), arr.size, flags)
                return rc, n.value + 1  # the NUL needs a byte too

            length = sized(call, len(out["buf"])) - 1
        return out["buf"].raw[:length].decode("utf-8")

    def token_to_id(self, token):
        """The id of a token in its vocabulary spelling ("Ġworld"), or None when absent."""
        t = utf8(token, "token")
        out = ctypes.c_int32()
        with self._use() as tok:
            rc = C.prism_tokenizer_token_to_id(ctypes.byref(out), tok, t, len(t))
        if rc == -12:  # PRISM_ERR_NOT_FOUND: absence is an answer, not a failure
            return None
        check(rc)
        return out.value

    def id_to_token(self, token_id):
        """The vocabulary spelling of an id; PrismError PRISM_ERR_OUT_OF_RANGE if none."""
        p, n = ctypes.c_void_p(), ctypes.c_size_t()
        token_id = c_int(token_id, "token_id")
        with self._use() as tok:
            check(C.prism_tokenizer_id_to_token(ctypes.byref(p), ctypes.byref(n), tok, token_id))
            return ctypes.string_at(p, n.value).decode("utf-8")

    @property
    def vocab_size(self):
        """One more than the largest id (50265 for BART)."""
        with self._use() as tok:
            return C.prism_tokenizer_vocab_size(tok)

    def __len__(self):
        return self.vocab_size

    def _special(self, which):
        with self._use() as tok:
            sid = C.prism_tokenizer_special_id(tok, _SPECIALS[which])
        return None if sid < 0 else sid

    bos_token_id = _special_id("bos")
    eos_token_id = _special_id("eos")
    pad_token_id = _special_id("pad")
    unk_token_id = _special_id("unk")
    mask_token_id = _special_id("mask")


def unicode_version():
    """The Unicode version of the character tables encoding uses (the system utf8proc's)."""
    return C.prism_tokenizer_unicode_version().decode()
