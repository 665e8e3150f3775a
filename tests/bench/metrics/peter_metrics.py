"""PETER's explanation metrics, reimplemented in plain Python as the benchmark's peer.

PETER (lileipisces/PETER) is not installed here. This module is a faithful
reimplementation, written from the semantics of its utils.py, bleu.py and rouge.py
(the tensorflow/nmt scripts) as its main.py calls them, and it keeps their costs:
a Counter per text for BLEU, n-gram sets and a dict-filled LCS table for ROUGE,
a list scan for unique sentences and a loop over all pairs for DIV. bench_metrics.py
checks that it reproduces the reference fixtures before it is timed.

    scores = evaluate(references, hypotheses, features, feature_set)
"""
import collections
import math

import numpy as np


# ---- BLEU (corpus level, tensorflow/nmt bleu.py semantics) ----

def _ngram_counts(tokens, max_order):
    counts = collections.Counter()
    for order in range(1, max_order + 1):
        for start in range(len(tokens) - order + 1):
            counts[tuple(tokens[start:start + order])] += 1
    return counts


def corpus_bleu(references, hypotheses, max_order):
    """BLEU of token lists without smoothing, brevity penalty included."""
    matches = [0] * max_order
    possible = [0] * max_order
    ref_len = hyp_len = 0
    for ref, hyp in zip(references, hypotheses):
        ref_len += len(ref)
        hyp_len += len(hyp)
        clipped = _ngram_counts(hyp, max_order) & _ngram_counts(ref, max_order)
        for gram, count in clipped.items():
            matches[len(gram) - 1] += count
        for order in range(1, max_order + 1):
            if len(hyp) - order + 1 > 0:
                possible[order - 1] += len(hyp) - order + 1
    precisions = [matches[i] / possible[i] if possible[i] > 0 else 0.0 for i in range(max_order)]
    if min(precisions) <= 0:
        return 0.0
    geo_mean = math.exp(sum((1.0 / max_order) * math.log(p) for p in precisions))
    ratio = hyp_len / ref_len
    penalty = 1.0 if ratio > 1.0 else math.exp(1 - 1.0 / ratio)
    return geo_mean * penalty


# ---- ROUGE (sentence scores averaged, tensorflow/nmt rouge.py semantics) ----

def _ngram_set(words, n):
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def rouge_n(hyp, ref, n):
    """(f, p, r) of one sentence pair given as texts; words are text.split(" ")."""
    hyp_grams, ref_grams = _ngram_set(hyp.split(" "), n), _ngram_set(ref.split(" "), n)
    overlap = len(hyp_grams & ref_grams)
    p = overlap / len(hyp_grams) if hyp_grams else 0.0
    r = overlap / len(ref_grams) if ref_grams else 0.0
    return 2.0 * ((p * r) / (p + r + 1e-8)), p, r


def _lcs_length(x, y):
    table = {}
    for i in range(len(x) + 1):
        for j in range(len(y) + 1):
            if i == 0 or j == 0:
                table[i, j] = 0
            elif x[i - 1] == y[j - 1]:
                table[i, j] = table[i - 1, j - 1] + 1
            else:
                table[i, j] = max(table[i - 1, j], table[i, j - 1])
    return table[len(x), len(y)]


def rouge_l(hyp, ref):
    """(f, p, r) of ROUGE-L: F with beta = P / R, as in the nmt script (not F1)."""
    hyp_words, ref_words = hyp.split(" "), ref.split(" ")
    lcs = _lcs_length(hyp_words, ref_words)
    r, p = lcs / len(ref_words), lcs / len(hyp_words)
    beta = p / (r + 1e-12)
    f = ((1 + beta ** 2) * r * p) / ((r + (beta ** 2) * p) + 1e-12)
    return f, p, r


def rouge(hypotheses, references):
    out = {}
    for name, fn in (("1", lambda h, r: rouge_n(h, r, 1)), ("2", lambda h, r: rouge_n(h, r, 2)),
                     ("l", rouge_l)):
        scores = [fn(h, r) for h, r in zip(hypotheses, references)]
        f, p, r = (np.mean(column) for column in zip(*scores))
        out.update({f"rouge_{name}_f_score": f, f"rouge_{name}_r_score": r,
                    f"rouge_{name}_p_score": p})
    return out


# ---- USR, FMR, FCR, DIV (PETER utils.py semantics) ----

def unique_sentences(sequences):
    """(share, count) of distinct token sequences, by scanning the distinct ones found so far."""
    distinct = []
    for seq in sequences:
        if not any(len(seq) == len(d) and all(a == b for a, b in zip(seq, d)) for d in distinct):
            distinct.append(seq)
    return len(distinct) / len(sequences), len(distinct)


def detect_features(sequences, feature_set):
    return [{tok for tok in seq if tok in feature_set} for seq in sequences]


def feature_matching_ratio(detected, features):
    return sum(1 for found, f in zip(detected, features) if f in found) / len(detected)


def feature_coverage_ratio(detected, feature_set):
    covered = set()
    for found in detected:
        covered |= found
    return len(covered) / len(feature_set)


def feature_diversity(detected):
    """Mean |A & B| over all unordered pairs of detected sets: the O(N^2) loop."""
    n = len(detected)
    total = 0
    for i in range(n):
        for j in range(i + 1, n):
            total += len(detected[i] & detected[j])
    return total / (n * (n - 1) / 2)


def evaluate(references, hypotheses, features, feature_set):
    """The fifteen figures of PETER's main.py (BLEU and ROUGE x100), tokens = str.split()."""
    ref_tokens = [text.split() for text in references]
    hyp_tokens = [text.split() for text in hypotheses]
    out = {"bleu1": corpus_bleu(ref_tokens, hyp_tokens, 1) * 100,
           "bleu4": corpus_bleu(ref_tokens, hyp_tokens, 4) * 100}
    out["usr"], out["usn"] = unique_sentences(hyp_tokens)
    feature_set = set(feature_set)
    detected = detect_features(hyp_tokens, feature_set)
    out["div"] = feature_diversity(detected)
    out["fcr"] = feature_coverage_ratio(detected, feature_set)
    out["fmr"] = feature_matching_ratio(detected, features)
    joined_refs = [" ".join(t) for t in ref_tokens]
    joined_hyps = [" ".join(t) for t in hyp_tokens]
    out.update({k: v * 100 for k, v in rouge(joined_hyps, joined_refs).items()})
    return out
