"""Learning a byte-level BPE vocabulary (HuggingFace BpeTrainer semantics).

    import pathlib, prism
    stats = prism.train_tokenizer([pathlib.Path("corpus.txt")], "student/", vocab_size=8000)
    tok = prism.Tokenizer("student/")
"""
import ctypes
import os

from . import _capi as C
from ._errors import check
from ._handle import Handle
from ._util import Callback, c_int, utf8

BART_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_BATCH = 4096  # texts per feed call
_STAGES = {C.PRISM_TOKENIZER_TRAINER_WORDS: "words", C.PRISM_TOKENIZER_TRAINER_MERGES: "merges"}


def _progress_call(fn, stage, done, total, _payload):
    return fn(_STAGES.get(stage, str(stage)), done, total)


class TokenizerTrainer(Handle):
    """Counts words of texts and files, then learns vocab.json + merges.txt.

    vocab_size counts special tokens, alphabet and merges; pairs seen fewer than
    min_frequency times are never merged; special_tokens take ids 0.. in order
    (default: BART's <s> <pad> </s> <unk> <mask>); limit_alphabet keeps the most
    frequent byte symbols only; corpus_alphabet=True keeps only the bytes the
    texts contain instead of all 256. One thread at a time: calls are serialised.
    """

    _free = C.prism_tokenizer_trainer_free
    _exclusive = True

    def __init__(self, vocab_size=30000, min_frequency=2, special_tokens=BART_SPECIAL_TOKENS,
                 limit_alphabet=None, corpus_alphabet=False):
        super().__init__()
        p = C.prism_tokenizer_trainer_params()
        check(C.prism_tokenizer_trainer_params_init(ctypes.byref(p), ctypes.sizeof(p)))
        p.vocab_size = c_int(vocab_size, "vocab_size")
        p.min_frequency = c_int(min_frequency, "min_frequency")
        p.limit_alphabet = (C.PRISM_UNSET if limit_alphabet is None
                            else c_int(limit_alphabet, "limit_alphabet"))
        p.corpus_alphabet = 1 if corpus_alphabet else 0
        specials = [utf8(s, "special token") for s in special_tokens]
        array = (ctypes.c_char_p * (len(specials) + 1))(*specials)  # +1: never a NULL pointer
        p.special_tokens = array
        p.n_special_tokens = len(specials)
        check(C.prism_tokenizer_trainer_create(ctypes.byref(self._ptr), ctypes.byref(p)))

    def feed(self, texts):
        """Count the words of an iterable of str (or UTF-8 bytes), each pre-tokenized whole."""
        batch = []
        for text in texts:
            batch.append(utf8(text))
            if len(batch) == _BATCH:
                self._feed(batch)
                batch = []
        if batch:
            self._feed(batch)

    def _feed(self, batch):
        arr = (ctypes.c_char_p * len(batch))(*batch)
        lens = (ctypes.c_size_t * len(batch))(*map(len, batch))
        with self._use() as t:
            check(C.prism_tokenizer_trainer_feed(t, arr, lens, len(batch)))

    def feed_file(self, path, fields=None):
        """Count a file: plain text (each line with its ending is a text), or JSON Lines whose
        `fields` (e.g. ["source", "target"]) are the texts."""
        names = [utf8(f, "field") for f in (fields or ())]
        arr = (ctypes.c_char_p * (len(names) + 1))(*names)
        with self._use() as t:
            check(C.prism_tokenizer_trainer_feed_file(t, os.fsencode(path), arr, len(names)))

    def train(self, out_dir, progress=None):
        """Learn merges and write out_dir/vocab.json and out_dir/merges.txt (out_dir is created
        when missing). progress(stage, done, total), stage "words" or "merges", returning False
        cancels. Returns the stats as a dict."""
        os.makedirs(out_dir, exist_ok=True)
        stats = C.prism_tokenizer_trainer_stats(ctypes.sizeof(C.prism_tokenizer_trainer_stats))
        prog = Callback(C.prism_tokenizer_trainer_progress_fn, progress, _progress_call)
        with self._use() as t:
            rc = C.prism_tokenizer_trainer_train(ctypes.byref(stats), t, os.fsencode(out_dir),
                                                 prog.c_fn, None)
        prog.check(rc)
        return {name: getattr(stats, name) for name, _ in stats._fields_[1:]}


def train_tokenizer(texts_or_files, out_dir, vocab_size=30000, min_frequency=2,
                    special_tokens=BART_SPECIAL_TOKENS, limit_alphabet=None,
                    corpus_alphabet=False, fields=None, progress=None):
    """Train a byte-level BPE vocabulary and write out_dir/vocab.json + merges.txt.

    texts_or_files is an iterable whose str (or bytes) items are texts and whose os.PathLike
    items (pathlib.Path) are files; a single Path is accepted too. Files are plain text, one text
    per line, or JSON Lines when `fields` names the string fields to read. Returns the stats.
    """
    if isinstance(texts_or_files, os.PathLike):
        texts_or_files = [texts_or_files]
    elif isinstance(texts_or_files, (str, bytes)):
        raise TypeError("texts_or_files must be an iterable of texts or of pathlib.Path files, "
                        "not a single string")
    with TokenizerTrainer(vocab_size, min_frequency, special_tokens, limit_alphabet,
                          corpus_alphabet) as trainer:
        texts = []
        for item in texts_or_files:
            if isinstance(item, os.PathLike):
                trainer.feed(texts)
                texts = []
                trainer.feed_file(item, fields)
            else:
                texts.append(item)
                if len(texts) == _BATCH:
                    trainer.feed(texts)
                    texts = []
        trainer.feed(texts)
        return trainer.train(out_dir, progress)
