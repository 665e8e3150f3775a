#!/usr/bin/env python3
"""The rule-based oracle: the reference explanation the demo student learns.

It stands in for the paper's teacher LLM. Its input is exactly what the prompt
shows (see prompt.py / PROMPT.md): the reader's history, the recommended item
and the evidence (the history items that drove the recommendation), each as
(title, genre). Every choice it makes depends only on those fields, so a
student that reads the prompt can in principle reproduce it word for word.

Rules, first match wins (G = the item's genre, E = the evidence):
  1. no evidence                  -> "popular with similar readers"
  2. at most 2 history items      -> "you have only just started with ..."
  3. every E has genre G:
       G is at least half of the shown history -> "you clearly love <G plural>"
       one evidence item                       -> "because you enjoyed E ..."
       two or three                            -> "... with the same <G quality>"
  4. some E have genre G          -> "like <same>, with the <quality> of <other>"
  5. no E has genre G:
       all E share one genre      -> "for a change from <their genre>"
       otherwise                  -> "readers who liked E often pick up ..."
Genre wording (phrase, plural, quality) comes from GENRE_WORDS; a genre it does
not know is worded generically.

As a program it reads JSON Lines on stdin,
  {"history": [[title, genre], ...], "item": [title, genre], "evidence": [[title, genre], ...]}
and writes {"prompt": ..., "explanation": ...} per line, with the line's "id"
first when it has one: so it answers the requests of `prism teacher-prompts`
as a teacher LLM would, ready for `prism teacher-import`.
"""

import json
import sys

import prompt

# genre -> (singular phrase, plural, what readers like about it)
GENRE_WORDS = {
    "literary drama": ("quiet literary drama", "literary dramas", "emotional depth"),
    "mystery": ("twisty mystery", "mysteries", "clever puzzles"),
    "science fiction": ("science fiction adventure", "science fiction", "big ideas"),
    "fantasy": ("sweeping fantasy", "fantasy novels", "rich world-building"),
    "romance": ("warm romance", "romances", "tender relationships"),
    "history": ("vivid narrative history", "history books", "real-world detail"),
    "thriller": ("tense thriller", "thrillers", "relentless pace"),
    "comedy": ("comic novel", "comedies", "light touch"),
}


def words(genre):
    return GENRE_WORDS.get(genre, ("%s book" % genre, "%s books" % genre, "style"))


def with_article(phrase):
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def title_list(entries):
    titles = [e.title for e in entries]
    if len(titles) == 1:
        return titles[0]
    return ", ".join(titles[:-1]) + " and " + titles[-1]


def _same_genre(f, genre):
    phrase, plural, quality = words(genre)
    ev = title_list(f.evidence)
    share = sum(1 for h in f.history if h.genre == genre)
    if 2 * share >= len(f.history):
        return "You clearly love %s: %s. %s is another %s for your shelf." % (
            plural, ev, f.item.title, phrase)
    if len(f.evidence) == 1:
        return "Because you enjoyed %s, you may like %s: another %s." % (ev, f.item.title, phrase)
    return "Because you enjoyed %s, you may like %s, another %s with the same %s." % (
        ev, f.item.title, phrase, quality)


def _mixed(f, genre):
    same = [e for e in f.evidence if e.genre == genre]
    other = [e for e in f.evidence if e.genre != genre]
    return "%s is %s like %s, with the %s you liked in %s." % (
        f.item.title, with_article(words(genre)[0]), title_list(same),
        words(other[0].genre)[2], title_list(other))


def _different(f, genre):
    phrase, _, quality = words(genre)
    ev = title_list(f.evidence)
    genres = {e.genre for e in f.evidence}
    if len(genres) == 1:
        return "For a change from %s such as %s, try %s: %s with plenty of %s." % (
            words(f.evidence[0].genre)[1], ev, f.item.title, with_article(phrase), quality)
    return "Readers who liked %s often pick up %s next, %s known for its %s." % (
        ev, f.item.title, with_article(phrase), quality)


def explain_fields(f):
    """The reference explanation for prompt.Fields `f`."""
    genre = f.item.genre
    if not f.evidence:
        return "%s is %s that readers with similar taste enjoyed." % (
            f.item.title, with_article("popular " + words(genre)[0]))
    if len(f.history) <= 2:
        return "You have only just started with %s; %s is %s to try next." % (
            title_list(f.history or f.evidence), f.item.title, with_article(words(genre)[0]))
    matches = sum(1 for e in f.evidence if e.genre == genre)
    if matches == len(f.evidence):
        return _same_genre(f, genre)
    if matches:
        return _mixed(f, genre)
    return _different(f, genre)


def explain(history, item, evidence):
    """history, evidence: sequences of (title, genre); item: (title, genre)."""
    return explain_fields(prompt.fields(history, item, evidence))


def _pairs(value, line_no, name):
    if not isinstance(value, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p)
            for p in value):
        raise ValueError("line %d: %s must be a list of [title, genre]" % (line_no, name))
    return [tuple(p) for p in value]


def main():
    for line_no, line in enumerate(sys.stdin, start=1):
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("line %d: expected a JSON object" % line_no)
            history = _pairs(obj.get("history", []), line_no, "history")
            evidence = _pairs(obj.get("evidence", []), line_no, "evidence")
            item = _pairs([obj.get("item")], line_no, "item")[0]
        except ValueError as exc:
            print(json.dumps({"error": str(exc)}))
            continue
        f = prompt.fields(history, item, evidence)
        answer = {"id": obj["id"]} if "id" in obj else {}
        answer.update(prompt=prompt.render(f), explanation=explain_fields(f))
        print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
