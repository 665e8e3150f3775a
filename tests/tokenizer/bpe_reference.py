"""A reference implementation of HuggingFace tokenizers' BpeTrainer, in Python.

Written from the rules of the Rust source (tokenizers/src/models/bpe/trainer.rs
and word.rs, pre_tokenizers/byte_level.rs), independently of libprism's C code,
to check that libprism's trainer writes the same vocab.json and merges.txt.
It is a reimplementation, not HF itself.

    python3 bpe_reference.py OUT_DIR [--vocab-size N] [--min-frequency N]
        [--special-tokens LIST] [--limit-alphabet N] [--corpus-alphabet]
        (--input FILE | --jsonl FILE --fields A,B)...

The rules, as HF applies them:
- Words: each text is split by the GPT-2 pattern
  's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
  and each piece's UTF-8 bytes are mapped to GPT-2's printable characters.
  A plain-text file gives one text per line, line ending included.
- Vocabulary: special tokens (a repeat is skipped), then the alphabet sorted by
  code point (all 256 byte characters, or only those seen; limit_alphabet drops
  the rarest), then merged tokens.
- Pair counts: every adjacent pair weighted by its word's count. Merging (a, b)
  in a word scans left to right; each match subtracts the word's count from
  (left neighbour, a) and (b, right neighbour) and adds it to (left, ab) and
  (ab, right). The pair (a, b) itself is never decremented.
- Queue: entries (count, pair, words). Pop the highest count, then the smallest
  pair (left id, right id) -- HF's Ord for Merge -- then (our rule, HF leaves
  it to hash order) the oldest entry. If its count differs from the current
  count, push it back with the current count. Otherwise merge it in its words
  only, then push one entry per pair that gained words in this merge, with the
  current count, if positive.
- Stop when the vocabulary has vocab_size entries, the queue is empty, or the
  best count is < 1 or < min_frequency.
- Output: vocab.json by id, compact; merges.txt with "#version: 0.2" and each
  pair once, at its last rank.
"""
import argparse
import heapq
import json
import os
import sys
import unicodedata

BART_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]

# Unicode White_Space: the regex class \s.
WHITE_SPACE = set(map(chr, [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029,
                            0x202F, 0x205F, 0x3000] + list(range(0x2000, 0x200B))))


def bytes_to_unicode():
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_CHAR = bytes_to_unicode()


def char_class(c):
    if c in WHITE_SPACE:
        return "S"
    cat = unicodedata.category(c)
    if cat[0] == "L":
        return "L"
    if cat[0] == "N":
        return "N"
    return "O"


def pieces(text):
    """The GPT-2 pre-tokenizer's matches, leftmost-first, alternatives in order."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i] == "'":
            for c in ("s", "t", "re", "ve", "m", "ll", "d"):
                if text.startswith(c, i + 1):
                    out.append(text[i:i + 1 + len(c)])
                    i += 1 + len(c)
                    break
            else:
                c = None
            if c is not None:
                continue
        cls = char_class(text[i])
        start = i
        if text[i] == " " and i + 1 < n and char_class(text[i + 1]) != "S":
            cls = char_class(text[i + 1])
            i += 1
        if cls != "S":
            while i < n and char_class(text[i]) == cls:
                i += 1
            out.append(text[start:i])
            continue
        j = i
        while j < n and char_class(text[j]) == "S":
            j += 1
        end = j if j == n or j - i == 1 else j - 1  # \s+(?!\S), else \s+
        out.append(text[i:end])
        i = end
    return out


def words_of(text):
    return ["".join(BYTE_CHAR[b] for b in p.encode("utf-8")) for p in pieces(text)]


def texts_of_file(path, fields=None):
    with open(path, "rb") as f:
        data = f.read().decode("utf-8")
    lines = _split_keep_nl(data)
    if not fields:
        return lines
    texts = []
    for line in lines:
        if line.strip():
            obj = json.loads(line)
            texts += [obj[k] for k in fields]
    return texts


def _split_keep_nl(data):
    # Lines end at "\n" only (a lone "\r" stays inside its line), as in HF and libprism.
    parts = data.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def count_words(texts):
    counts = {}
    for text in texts:
        for w in words_of(text):
            counts[w] = counts.get(w, 0) + 1
    return counts


def train(word_counts, vocab_size=30000, min_frequency=2, special_tokens=BART_SPECIALS,
          limit_alphabet=None, corpus_alphabet=False):
    """Returns (id_to_token, merges as (left, right) strings in file order)."""
    id_to_tok, tok_to_id = [], {}

    def add(tok):
        tok_to_id[tok] = len(id_to_tok)
        id_to_tok.append(tok)

    for s in special_tokens:
        if s not in tok_to_id:
            add(s)
    seen = {}
    for w, c in word_counts.items():
        for ch in w:
            seen[ch] = seen.get(ch, 0) + c
    if not corpus_alphabet:
        for ch in BYTE_CHAR.values():
            seen[ch] = float("inf")
    kept = list(seen.items())
    if limit_alphabet is not None and len(kept) > limit_alphabet:
        # Rarest first; ties: larger code point first (libprism's rule, HF's is hash order).
        kept.sort(key=lambda kv: (kv[1], -ord(kv[0])))
        kept = kept[len(kept) - limit_alphabet:]
    for ch, _ in sorted(kept, key=lambda kv: ord(kv[0])):
        if ch not in tok_to_id:
            add(ch)
    if len(id_to_tok) > vocab_size:
        raise ValueError("vocab_size below specials + alphabet")

    words = [[tok_to_id[ch] for ch in w if ch in tok_to_id] for w in word_counts]
    counts = list(word_counts.values())
    pair_counts, where = {}, {}
    for i, w in enumerate(words):
        for p in zip(w, w[1:]):
            pair_counts[p] = pair_counts.get(p, 0) + counts[i]
            where.setdefault(p, set()).add(i)
    heap, seq = [], 0

    def push(count, pair, pos):
        nonlocal seq
        heapq.heappush(heap, (-count, pair, seq, pos))
        seq += 1

    for p, pos in where.items():
        if pair_counts[p] > 0:
            push(pair_counts[p], p, pos)
    merges = []
    while len(id_to_tok) < vocab_size and heap:
        neg, pair, _, pos = heapq.heappop(heap)
        if -neg != pair_counts[pair]:
            push(pair_counts[pair], pair, pos)
            continue
        if -neg < 1 or min_frequency > -neg:
            break
        new_tok = id_to_tok[pair[0]] + id_to_tok[pair[1]]
        if new_tok not in tok_to_id:
            add(new_tok)
        new_id = tok_to_id[new_tok]
        merges.append(pair)
        where = {}
        for i in pos:
            for (p, change) in merge_word(words, i, pair, new_id):
                pair_counts[p] = pair_counts.get(p, 0) + change * counts[i]
                if change > 0:
                    where.setdefault(p, set()).add(i)
        for p, ws in where.items():
            if pair_counts[p] > 0:
                push(pair_counts[p], p, ws)
    last = {p: r for r, p in enumerate(merges)}
    out = [(id_to_tok[p[0]], id_to_tok[p[1]]) for r, p in enumerate(merges) if last[p] == r]
    return id_to_tok, out


def merge_word(words, i, pair, new_id):
    """HF Word::merge on words[i]; returns the (pair, +1/-1) changes."""
    a, b = pair
    w, out, changes, r = words[i], [], [], 0
    while r < len(w):
        if w[r] == a and r + 1 < len(w) and w[r + 1] == b:
            if out:
                changes += [((out[-1], a), -1), ((out[-1], new_id), 1)]
            if r + 2 < len(w):
                changes += [((b, w[r + 2]), -1), ((new_id, w[r + 2]), 1)]
            out.append(new_id)
            r += 2
        else:
            out.append(w[r])
            r += 1
    words[i] = out
    return changes


def write(out_dir, id_to_tok, merges):
    vocab = "{" + ",".join(json.dumps(t, ensure_ascii=False) + ":" + str(i)
                           for i, t in enumerate(id_to_tok)) + "}"
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8", newline="") as f:
        f.write(vocab)
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8", newline="") as f:
        f.write("#version: 0.2\n" + "".join("%s %s\n" % m for m in merges))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--input", action="append", default=[])
    ap.add_argument("--jsonl", action="append", default=[])
    ap.add_argument("--fields", default="source,target")
    ap.add_argument("--vocab-size", type=int, default=30000)
    ap.add_argument("--min-frequency", type=int, default=2)
    ap.add_argument("--special-tokens", default=",".join(BART_SPECIALS))
    ap.add_argument("--limit-alphabet", type=int)
    ap.add_argument("--corpus-alphabet", action="store_true")
    a = ap.parse_args(argv)
    texts = []
    for path in a.input:
        texts += texts_of_file(path)
    for path in a.jsonl:
        texts += texts_of_file(path, a.fields.split(","))
    specials = [s for s in a.special_tokens.split(",") if s]
    id_to_tok, merges = train(count_words(texts), a.vocab_size, a.min_frequency, specials,
                              a.limit_alphabet, a.corpus_alphabet)
    os.makedirs(a.out_dir, exist_ok=True)
    write(a.out_dir, id_to_tok, merges)
    return 0


if __name__ == "__main__":
    sys.exit(main())
