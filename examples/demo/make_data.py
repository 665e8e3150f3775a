#!/usr/bin/env python3
"""Generate the demo catalog and its synthetic readers (standard library only).

Writes, next to this script:
  catalog.tsv       one header line, then one book per line:
                    item_id, title, genre, mood, setting, year, pages
  interactions.tsv  the ranker's format, no header: user, item, rating (1-5), timestamp

Everything is invented: titles come from per-genre word pools, so there is no
licensing question. The output is a pure function of --seed.

Planted taste structure (what a matrix-factorisation ranker should recover):
  * every reader has a primary genre and a secondary genre; the secondary is a
    neighbour of the primary (mystery and thriller, fantasy and science fiction,
    ...) seven times out of ten;
  * every reader prefers one mood (quiet, dark, warm, tense, playful);
  * every book has a hidden popularity.
A reader picks books with probability growing with genre weight + mood match +
popularity (Gumbel top-k sampling), rates them 1-5 from the same affinity plus
noise, and reads them in a random order spread over two years.
"""

import argparse
import math
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

GENRES = [
    "literary drama", "mystery", "science fiction", "fantasy",
    "romance", "history", "thriller", "comedy",
]

# Genres a reader of the key genre most often also reads.
NEIGHBOURS = {
    "literary drama": ["romance", "history"],
    "mystery": ["thriller", "history"],
    "science fiction": ["fantasy", "thriller"],
    "fantasy": ["science fiction", "romance"],
    "romance": ["literary drama", "comedy"],
    "history": ["literary drama", "mystery"],
    "thriller": ["mystery", "science fiction"],
    "comedy": ["romance", "fantasy"],
}

MOODS = ["quiet", "dark", "warm", "tense", "playful"]

# Per genre: title patterns, word pools, likely moods, settings.
TITLE_POOLS = {
    "literary drama": {
        "patterns": ["The {a} {n}", "{a} {n}", "{n} in {p}"],
        "a": ["Glass", "Paper", "Winter", "Borrowed", "Quiet", "Salt", "Late", "Small"],
        "n": ["Orchard", "Letters", "Road", "Rooms", "Season", "Garden", "Hours", "Daughters"],
        "p": ["August", "the Valley", "Lisbon", "Low Light"],
        "moods": ["quiet", "quiet", "warm", "dark"],
        "settings": ["countryside", "city", "coast"],
    },
    "mystery": {
        "patterns": ["The {a} {n}", "{n} at {p}", "The {n} of {p}"],
        "a": ["Crooked", "Silent", "Hollow", "Missing", "Ninth", "Locked", "Painted", "Drowned"],
        "n": ["Lantern", "Ledger", "Key", "Witness", "Clock", "Verdict", "Cipher", "Alibi"],
        "p": ["Gull Point", "Ashby Hall", "Marrow Lane", "Fenwick"],
        "moods": ["tense", "dark", "quiet", "playful"],
        "settings": ["village", "city", "manor"],
    },
    "science fiction": {
        "patterns": ["The {a} {n}", "{n} of {p}", "{a} {n}"],
        "a": ["Last", "Iron", "Silent", "Distant", "Seventh", "Hollow", "Bright", "Broken"],
        "n": ["Orbit", "Signal", "Engine", "Colony", "Horizon", "Machine", "Protocol", "Archive"],
        "p": ["Kepler", "the Drift", "Tau Ceti", "New Meridian"],
        "moods": ["tense", "dark", "quiet", "playful"],
        "settings": ["space", "future city", "colony"],
    },
    "fantasy": {
        "patterns": ["The {a} {n}", "{n} of {p}", "The {n} of {p}"],
        "a": ["Ember", "Thorn", "Silver", "Raven", "Sunken", "Hidden", "Winter", "Ash"],
        "n": ["Crown", "Throne", "Dragon", "Forest", "Oath", "Tower", "Blade", "Song"],
        "p": ["Eldmoor", "the North", "Ys", "Varrow"],
        "moods": ["tense", "warm", "dark", "playful"],
        "settings": ["kingdom", "forest", "mountains"],
    },
    "romance": {
        "patterns": ["{a} {n}", "A {n} in {p}", "The {a} {n}"],
        "a": ["Summer", "Sweet", "Second", "Lemon", "Lost", "Golden", "Gentle", "Spring"],
        "n": ["Promise", "Kiss", "Chance", "Harbour", "Heart", "Letter", "Waltz", "Bakery"],
        "p": ["Paris", "Cornwall", "Naples", "Vermont"],
        "moods": ["warm", "warm", "playful", "quiet"],
        "settings": ["coast", "city", "countryside"],
    },
    "history": {
        "patterns": ["The {a} {n}", "{n} of {p}", "The {n} of {p}"],
        "a": ["Long", "Great", "Forgotten", "Iron", "Salt", "First", "Golden", "Northern"],
        "n": ["Empire", "Voyage", "Famine", "Republic", "Dynasty", "Rivers", "Harvest", "Siege"],
        "p": ["Venice", "the Steppe", "Carthage", "the Baltic"],
        "moods": ["quiet", "dark", "tense", "warm"],
        "settings": ["empire", "sea", "city"],
    },
    "thriller": {
        "patterns": ["The {a} {n}", "{a} {n}", "{n} in {p}"],
        "a": ["Zero", "Black", "Final", "Red", "Cold", "Silent", "Deep", "Burning"],
        "n": ["Hour", "Protocol", "Target", "Asset", "Code", "Ransom", "Extraction", "Trigger"],
        "p": ["Berlin", "the Gulf", "Cairo", "Sector Nine"],
        "moods": ["tense", "tense", "dark", "playful"],
        "settings": ["city", "sea", "desert"],
    },
    "comedy": {
        "patterns": ["The {a} {n}", "{n} for {p}", "{a} {n}"],
        "a": ["Accidental", "Awkward", "Reluctant", "Wobbly", "Improbable", "Tiny", "Clumsy", "Grand"],
        "n": ["Butler", "Wedding", "Holiday", "Parrot", "Inheritance", "Uncle", "Picnic", "Detour"],
        "p": ["Beginners", "Aunt Maud", "Everyone", "Tuesday"],
        "moods": ["playful", "playful", "warm", "quiet"],
        "settings": ["village", "city", "seaside"],
    },
}

BOOKS_PER_GENRE = 10
EPOCH = 1700000000  # first timestamp (Nov 2023)


class Item:
    """One catalog entry; `popularity` is hidden (not written to the catalog)."""

    def __init__(self, item_id, title, genre, mood, setting, year, pages, popularity=0.0):
        self.item_id = item_id
        self.title = title
        self.genre = genre
        self.mood = mood
        self.setting = setting
        self.year = year
        self.pages = pages
        self.popularity = popularity


class Taste:
    """A synthetic reader's hidden preferences."""

    def __init__(self, primary, secondary, mood):
        self.primary = primary
        self.secondary = secondary
        self.mood = mood

    def affinity(self, item):
        genre = 2.5 if item.genre == self.primary else 1.5 if item.genre == self.secondary else 0.0
        return genre + (1.0 if item.mood == self.mood else 0.0) + item.popularity


def make_title(rng, pools, taken, uses):
    """A new title whose words appear in at most one other title of the genre."""
    while True:
        pattern = rng.choice(pools["patterns"])
        words = {k: rng.choice(pools[k]) for k in ("a", "n", "p")}
        used = [words[k] for k in ("a", "n", "p") if "{%s}" % k in pattern]
        title = pattern.format(**words)
        key = title[4:] if title.startswith("The ") else title
        if key in taken or any(uses.get(w, 0) >= 2 for w in used):
            continue
        taken.add(key)
        for w in used:
            uses[w] = uses.get(w, 0) + 1
        return title


def make_catalog(rng):
    items, taken = [], set()
    for genre in GENRES:
        pools, uses = TITLE_POOLS[genre], {}
        for _ in range(BOOKS_PER_GENRE):
            items.append(Item(
                item_id="b%02d" % (len(items) + 1),
                title=make_title(rng, pools, taken, uses),
                genre=genre,
                mood=rng.choice(pools["moods"]),
                setting=rng.choice(pools["settings"]),
                year=rng.randint(1952, 2024),
                pages=10 * rng.randint(14, 68),
                popularity=rng.gauss(0.0, 0.6)))
    return items


def random_taste(rng):
    primary = rng.choice(GENRES)
    if rng.random() < 0.7:
        secondary = rng.choice(NEIGHBOURS[primary])
    else:
        secondary = rng.choice([g for g in GENRES if g != primary])
    return Taste(primary, secondary, rng.choice(MOODS))


def pick_items(rng, taste, items, count, temperature=0.7):
    """Gumbel top-k: a sample without replacement with P ~ exp(affinity / T)."""
    keyed = []
    for item in items:
        gumbel = -math.log(-math.log(rng.random() or 1e-12))
        keyed.append((taste.affinity(item) / temperature + gumbel, item.item_id, item))
    keyed.sort(key=lambda k: (-k[0], k[1]))
    return [k[2] for k in keyed[:count]]


def rating(rng, taste, item):
    score = 2.4 + 0.7 * (taste.affinity(item) - item.popularity) + 0.5 * item.popularity
    return max(1, min(5, int(round(score + rng.gauss(0.0, 0.6)))))


def read_history(rng, taste, items, count):
    """Books a reader has read, oldest first, with their ratings and timestamps."""
    chosen = pick_items(rng, taste, items, count)
    rng.shuffle(chosen)
    when = EPOCH + rng.randint(0, 86400 * 60)
    history = []
    for item in chosen:
        when += rng.randint(3600, 86400 * 30)
        history.append((item, rating(rng, taste, item), when))
    return history


def make_users(rng, items, num_users):
    users = []
    for u in range(num_users):
        taste = random_taste(rng)
        history = read_history(rng, taste, items, rng.randint(8, 28))
        users.append(("u%03d" % (u + 1), taste, history))
    return users


def write_catalog(path, items):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("item_id\ttitle\tgenre\tmood\tsetting\tyear\tpages\n")
        for it in items:
            f.write("%s\t%s\t%s\t%s\t%s\t%d\t%d\n" % (
                it.item_id, it.title, it.genre, it.mood, it.setting, it.year, it.pages))


def write_interactions(path, users):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for user_id, _, history in users:
            for item, stars, when in history:
                f.write("%s\t%s\t%d\t%d\n" % (user_id, item.item_id, stars, when))


def load_catalog(path=os.path.join(HERE, "catalog.tsv")):
    """Read catalog.tsv back (popularity is not stored, so it reads as 0)."""
    items = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[:3] != ["item_id", "title", "genre"]:
            raise ValueError("%s: line 1: unexpected header %r" % (path, header))
        for line_no, line in enumerate(f, start=2):
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 7:
                raise ValueError("%s: line %d: expected 7 columns" % (path, line_no))
            items.append(Item(cols[0], cols[1], cols[2], cols[3], cols[4],
                              int(cols[5]), int(cols[6])))
    return items


def generate(seed, num_users):
    rng = random.Random(seed)
    items = make_catalog(rng)
    users = make_users(rng, items, num_users)
    return items, users


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--users", type=int, default=150)
    ap.add_argument("--out-dir", default=HERE)
    args = ap.parse_args(argv)
    items, users = generate(args.seed, args.users)
    write_catalog(os.path.join(args.out_dir, "catalog.tsv"), items)
    write_interactions(os.path.join(args.out_dir, "interactions.tsv"), users)
    n = sum(len(h) for _, _, h in users)
    on_taste = sum(1 for _, t, h in users for it, _, _ in h if it.genre in (t.primary, t.secondary))
    print("%d books, %d readers, %d interactions, %.0f%% in a reader's two genres"
          % (len(items), len(users), n, 100.0 * on_taste / n), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
