"""GPT-2 / RoBERTa / BART byte-level BPE in the standard library.

The encoder of tests/demo/test_demo.py and of the PyTorch peer tests/bench/train_student.py (the
demo's vocabulary itself is learnt by `prism tokenizer-train`, examples/demo/retrain.py).
Pre-tokenization follows the GPT-2 pattern

    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+

with Python's `re`, which has no \\p{..}: letters are approximated by
[^\\W\\d_] (what str.isalpha() accepts, roughly) and numbers by \\d (decimal
digits). On the demo corpus, which is ASCII, this is exactly the GPT-2 split.
Special-token strings inside text (e.g. a literal "<mask>") are not matched
as specials here; the demo corpus has none.
"""

import json
import re

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
MASK = "<mask>"
BOS, PAD, EOS, UNK = 0, 1, 2, 3

PRETOKENIZE = re.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character table."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pretokenize(text):
    """Pre-tokens of `text`, each as its byte-level unicode string."""
    return ["".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))
            for piece in PRETOKENIZE.findall(text)]


def apply_merges(symbols, ranks):
    """Merge the lowest-ranked adjacent pair until none is in `ranks`."""
    symbols = list(symbols)
    while len(symbols) > 1:
        pairs = [(ranks.get((a, b)), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
        pairs = [p for p in pairs if p[0] is not None]
        if not pairs:
            break
        rank = min(pairs)[0]
        merged, i = [], 0
        while i < len(symbols):
            if i + 1 < len(symbols) and ranks.get((symbols[i], symbols[i + 1])) == rank:
                merged.append(symbols[i] + symbols[i + 1])
                i += 2
            else:
                merged.append(symbols[i])
                i += 1
        symbols = merged
    return symbols


class Tokenizer:
    """Encoder/decoder over a vocab.json + merges.txt pair."""

    def __init__(self, vocab_path, merges_path):
        with open(vocab_path, encoding="utf-8") as f:
            self.vocab = json.load(f)
        self.inverse = {i: t for t, i in self.vocab.items()}
        self.ranks = {}
        with open(merges_path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line.startswith("#version") or not line:
                    continue
                a, b = line.split(" ")
                self.ranks[(a, b)] = len(self.ranks)
        self._cache = {}

    def _word_ids(self, word):
        ids = self._cache.get(word)
        if ids is None:
            ids = [self.vocab.get(s, UNK) for s in apply_merges(word, self.ranks)]
            self._cache[word] = ids
        return ids

    def encode(self, text, special=True):
        """Ids as HF BartTokenizer gives them: <s> text </s> when `special`."""
        ids = [i for word in pretokenize(text) for i in self._word_ids(word)]
        return [BOS] + ids + [EOS] if special else ids

    def decode(self, ids, skip_special=True):
        specials = set(range(len(SPECIALS))) | {self.vocab.get(MASK)}
        text = "".join(self.inverse[i] for i in ids if not (skip_special and i in specials))
        return bytes(CHAR_TO_BYTE[c] for c in text).decode("utf-8", errors="replace")
