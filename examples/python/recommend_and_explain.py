#!/usr/bin/env python3
"""Rank and explain with libprism from Python.

Trains an ALS ranker on the demo interactions, recommends a few books to a few
readers, and has the demo student model explain each recommendation from the
reader's history and the ranker's evidence.

    PRISM_LIB_PATH=build/lib python3 examples/python/recommend_and_explain.py [users...]
"""
import argparse
import os
import sys

import prism

DEMO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demo")


def read_catalog(path):
    """item id -> (title, genre) from the demo catalog."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = [dict(zip(header, line.rstrip("\n").split("\t"))) for line in f if line.strip()]
    return {r["item_id"]: (r["title"], r["genre"]) for r in rows}


def histories(data):
    """user id -> item ids in the order read (the demo file is oldest first per reader)."""
    out = {}
    for i in range(len(data)):
        user, item, _ = data[i]
        out.setdefault(data.user_id(user), []).append(data.item_id(item))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("users", nargs="*", default=["u001", "u002", "u003"])
    ap.add_argument("--data", default=DEMO, help="folder with catalog.tsv and interactions.tsv")
    ap.add_argument("--model", default=os.path.join(DEMO, "model"))
    ap.add_argument("-k", type=int, default=3, help="recommendations per reader")
    args = ap.parse_args(argv)

    catalog = read_catalog(os.path.join(args.data, "catalog.tsv"))
    data = prism.Interactions(os.path.join(args.data, "interactions.tsv"))
    ranker = prism.Ranker.train(data, factors=32, iterations=15, seed=1)
    read = histories(data)
    print(f"libprism {prism.version()}: trained {ranker.algorithm} on {len(data)} interactions "
          f"({ranker.num_users} readers, {ranker.num_items} books)")

    jobs = []  # (user, item, score, prompt)
    for user in args.users:
        items, scores = ranker.recommend(user, k=args.k)
        for item, score in zip(items, scores):
            evidence, _ = ranker.explain(user, item, n=3)
            prompt = prism.render_prompt([catalog[i] for i in read[user]], catalog[item],
                                         [catalog[i] for i in evidence])
            jobs.append((user, item, float(score), prompt))

    with prism.Explainer(args.model) as explainer:
        texts = explainer.explain([job[3] for job in jobs])  # one batched decode
    for (user, item, score, _), text in zip(jobs, texts):
        print(f"{user}  {item}  {catalog[item][0]} ({catalog[item][1]})  score {score:.3f}")
        print(f"    {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
