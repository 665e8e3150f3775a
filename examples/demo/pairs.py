"""(prompt, reference explanation) pairs for training the demo student.

Each pair is one synthetic situation the demo meets at serving time: a reader
with a hidden taste (make_data.Taste) has read 1-14 books of the catalog; the
ranker recommends an unread book (drawn from the same taste seven times in ten,
uniformly otherwise, so cross-genre cases are common); the evidence is the 0-3
history books most similar to it (same genre counts 2, same mood 1, same setting
0.5; ties go to the more recent read) — the role the ranker's explain() plays in
the C demo. The oracle writes the target. Everything is a pure function of the
seed and the catalog.

As a program it writes `count` situations from `seed` as JSON Lines, the input
of `prism teacher-prompts` (and of oracle.py):

    python3 examples/demo/pairs.py --seed 1234 --count 9600 > situations.jsonl

one {"id", "history": [[title, genre], ...], "item": [title, genre],
"evidence": [[title, genre], ...]} per line, history oldest first.
"""

import argparse
import json
import random
import sys

import make_data
import oracle
import prompt

EVIDENCE_COUNTS = [0, 1, 1, 2, 2, 2, 3, 3, 3, 3]


def similarity(a, b):
    return (2.0 * (a.genre == b.genre) + 1.0 * (a.mood == b.mood)
            + 0.5 * (a.setting == b.setting))


def select_evidence(history, item, count):
    """The `count` history items most similar to `item`, most similar first."""
    ranked = sorted(range(len(history)),
                    key=lambda i: (-similarity(history[i], item), -i))
    return [history[i] for i in ranked[:count]]


def _candidate(rng, taste, items, read):
    unread = [it for it in items if it.item_id not in read]
    if rng.random() < 0.7:
        return make_data.pick_items(rng, taste, unread, 1)[0]
    return rng.choice(unread)


def make_situation(rng, items):
    """One situation as (title, genre) pairs: (history oldest first, item, evidence)."""
    taste = make_data.random_taste(rng)
    history = [h[0] for h in make_data.read_history(rng, taste, items, rng.randint(1, 14))]
    item = _candidate(rng, taste, items, {h.item_id for h in history})
    evidence = select_evidence(history, item, rng.choice(EVIDENCE_COUNTS))
    return ([(h.title, h.genre) for h in history], (item.title, item.genre),
            [(e.title, e.genre) for e in evidence])


def make_example(rng, items):
    """One situation: (prompt.Fields, the prompt text, the oracle's explanation)."""
    f = prompt.fields(*make_situation(rng, items))
    return f, prompt.render(f), oracle.explain_fields(f)


def make_pair(rng, items):
    return make_example(rng, items)[1:]


def make_examples(seed, count, items=None):
    """`count` (fields, prompt, explanation) triples; the same draws as make_pairs."""
    rng = random.Random(seed)
    items = items if items is not None else make_data.load_catalog()
    return [make_example(rng, items) for _ in range(count)]


def make_pairs(seed, count, items=None):
    """`count` pairs from catalog.tsv (or `items`); duplicates are kept."""
    return [example[1:] for example in make_examples(seed, count, items)]


def make_situations(seed, count, items=None):
    """`count` situations; the same draws as make_pairs."""
    rng = random.Random(seed)
    items = items if items is not None else make_data.load_catalog()
    return [make_situation(rng, items) for _ in range(count)]


def main(argv=None):
    ap = argparse.ArgumentParser(description="situations for prism teacher-prompts, as JSON Lines")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--count", type=int, default=9600)
    args = ap.parse_args(argv)
    for i, (history, item, evidence) in enumerate(make_situations(args.seed, args.count), 1):
        sys.stdout.write(json.dumps({"id": "%d-%d" % (args.seed, i), "history": history,
                                     "item": item, "evidence": evidence}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
