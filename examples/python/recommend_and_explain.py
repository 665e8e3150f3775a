#!/usr/bin/env python3
"""Rank and explain with libprism from Python.

Trains an ALS ranker on the demo interactions, then one prism.Pipeline call recommends a few
books to a few readers and has the demo student model explain each recommendation from the
reader's history and the ranker's evidence (docs/pipeline.md).

    PRISM_LIB_PATH=build/lib python3 examples/python/recommend_and_explain.py [users...]
"""
import argparse
import os
import sys

import prism

DEMO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demo")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("users", nargs="*", default=["u001", "u002", "u003"])
    ap.add_argument("--data", default=DEMO, help="folder with catalog.tsv and interactions.tsv")
    ap.add_argument("--model", default=os.path.join(DEMO, "model"))
    ap.add_argument("-k", type=int, default=3, help="recommendations per reader")
    args = ap.parse_args(argv)

    data = prism.Interactions(os.path.join(args.data, "interactions.tsv"))
    ranker = prism.Ranker.train(data, factors=32, iterations=15, seed=1)
    print(f"libprism {prism.version()}: trained {ranker.algorithm} on {len(data)} interactions "
          f"({ranker.num_users} readers, {ranker.num_items} books)")

    # The catalog gives titles and genres; the interactions are the readers' histories.
    pipeline = prism.Pipeline(ranker, os.path.join(args.data, "catalog.tsv"), data, args.model)
    status = 0
    for line in pipeline.run(args.users, k=args.k):  # every prompt explained in one batch
        if "error" in line:
            print(f"{line['user']}: {line['error']['message']}", file=sys.stderr)
            status = 1
            continue
        for item in line["items"]:
            because = ", ".join(e["title"] or f"{e['item']} (not in the catalog)"
                                for e in item["evidence"])
            print(f"{line['user']}  {item['item']}  {item['title']}  score {item['score']:.3f}"
                  f"  (because of {because})")
            print(f"    {item['explanation']}")
    return status


if __name__ == "__main__":
    sys.exit(main())
