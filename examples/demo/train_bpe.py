#!/usr/bin/env python3
"""Learn the demo's byte-level BPE vocabulary (standard library only).

The corpus is the catalog (titles and genres) plus the prompts and oracle
explanations of `--pairs` training pairs (pairs.make_pairs with --seed). Words
are split with the GPT-2 pre-tokenizer (see bpe.py for the \\p{L}/\\p{N}
approximation) and merges are learned the classic way: repeatedly merge the most
frequent adjacent pair, ties broken by the smaller pair in string order, until
the vocabulary has --vocab-size entries or no pair occurs --min-frequency times.

Output, in the GPT-2/RoBERTa format that HF BartTokenizer and libprism read:
  vocab.json   <s>=0 <pad>=1 </s>=2 <unk>=3, the 256 byte symbols in byte order,
               one entry per new merged symbol in merge order, <mask> last
  merges.txt   "#version: 0.2", then one "left right" merge per line
"""

import argparse
import collections
import os
import sys

import bpe
import make_data
import pairs

HERE = os.path.dirname(os.path.abspath(__file__))


def corpus(seed, count):
    items = make_data.load_catalog()
    texts = [it.title for it in items] + sorted({it.genre for it in items})
    for prompt_text, target in pairs.make_pairs(seed, count, items):
        texts += [prompt_text, target]
    return texts


def word_counts(texts):
    counts = collections.Counter()
    for text in texts:
        counts.update(bpe.pretokenize(text))
    return {tuple(w): c for w, c in counts.items()}


def pair_counts(words):
    counts = collections.Counter()
    for word, c in words.items():
        for pair in zip(word, word[1:]):
            counts[pair] += c
    return counts


def merge_word(word, pair):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def learn(words, vocab_size, min_frequency):
    vocab = {s: i for i, s in enumerate(bpe.SPECIALS)}
    for b in range(256):
        vocab[bpe.BYTE_TO_CHAR[b]] = len(vocab)
    merges = []
    while len(vocab) < vocab_size - 1:  # one slot for <mask>
        counts = pair_counts(words)
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        if counts[best] < min_frequency:
            break
        merges.append(best)
        vocab.setdefault(best[0] + best[1], len(vocab))
        words = {merge_word(w, best) if best[0] in w else w: c for w, c in words.items()}
    vocab[bpe.MASK] = len(vocab)
    return vocab, merges


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--pairs", type=int, default=4000)
    ap.add_argument("--vocab-size", type=int, default=1500)
    ap.add_argument("--min-frequency", type=int, default=2)
    ap.add_argument("--out-dir", default=os.path.join(HERE, "model"))
    args = ap.parse_args(argv)
    words = word_counts(corpus(args.seed, args.pairs))
    vocab, merges = learn(words, args.vocab_size, args.min_frequency)
    os.makedirs(args.out_dir, exist_ok=True)
    bpe.write_vocab(os.path.join(args.out_dir, "vocab.json"),
                    os.path.join(args.out_dir, "merges.txt"), vocab, merges)
    print("%d words, %d merges, vocabulary of %d" % (len(words), len(merges), len(vocab)),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
