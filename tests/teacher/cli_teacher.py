#!/usr/bin/env python3
"""Black-box checks of `prism teacher-prompts` and `prism teacher-import`, with the demo's
oracle (examples/demo/oracle.py) answering as the teacher.

usage: cli_teacher.py PRISM DEMO_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(args, stdin=""):
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=300)


def lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main():
    prism, demo = sys.argv[1], sys.argv[2]
    catalog = os.path.join(demo, "catalog.tsv")
    sys.path.insert(0, demo)
    sys.dont_write_bytecode = True
    import pairs  # noqa: E402  (the demo's situations and their oracle texts)
    examples = pairs.make_examples(77, 40)
    situations = pairs.make_situations(77, 40)

    with tempfile.TemporaryDirectory() as tmp:
        path = lambda name: os.path.join(tmp, name)  # noqa: E731
        # stdin: situations (entries as [title, features] or as catalog ids), plus bad lines.
        text = "\n".join(json.dumps({"history": h, "item": i, "evidence": e})
                         for h, i, e in situations)
        bad = ["not json", json.dumps({"history": [], "item": "b999"}),
               json.dumps({"item": "b01"}), json.dumps({"history": [["x"]], "item": ["T", "f"]}),
               json.dumps({"item": ["T", "f"], "colour": 1})]
        r = run([prism, "teacher-prompts"], text + "\n" + "\n".join(bad) + "\n")
        out = lines(r.stdout)
        check(r.returncode == 0 and len(out) == 45, "one line per input line")
        check([o["source"] for o in out[:40]] == [p for _, p, _ in examples],
              "the student's prompts are the demo's prompt.py prompts, byte for byte")
        check(all("solely on the user's interaction history" in o["prompt"] for o in out[:40]),
              "the teacher's prompt carries the faithfulness constraint")
        check([o["id"] for o in out[:3]] == ["1", "2", "3"], "ids default to the request number")
        errors = [o.get("error", {}) for o in out[40:]]
        check(errors[0].get("message", "").startswith("line 41: invalid JSON"),
              "a bad line gets an error line naming it")
        check("needs --catalog" in errors[1].get("message", "") and
              errors[1]["message"].startswith("line 42"), "an item id without --catalog")
        check(errors[2].get("code") == "PRISM_ERR_INVALID_ARGUMENT" and
              "line 43" in errors[2].get("message", ""), "b01 without a catalog is refused")
        check("line 44: history[0]" in errors[3].get("message", ""), "a malformed entry")
        check("colour" in errors[4].get("message", ""), "an unknown key")
        r = run([prism, "teacher-prompts", "--catalog", catalog],
                json.dumps({"id": 7, "history": ["b01", ["Winter Hours", "literary drama"]],
                            "item": "b02"}) + "\n" + json.dumps({"item": "b999"}) + "\n")
        out2 = lines(r.stdout)
        check(out2[0].get("id") == "7" and out2[0]["history"][0][0] and
              out2[0]["item"][0] != "b02", "item ids resolve through --catalog")
        check("no item \"b999\"" in out2[1].get("error", {}).get("message", ""),
              "an id the catalog lacks")

        # The oracle answers the requests; teacher-import makes the pairs.
        requests = "\n".join(json.dumps(o) for o in out[:40]) + "\n"
        with open(path("requests.jsonl"), "w") as f:
            f.write(requests)
        oracle = run([sys.executable, os.path.join(demo, "oracle.py")], requests)
        answers = lines(oracle.stdout)
        check(oracle.returncode == 0 and [a["id"] for a in answers] == [o["id"] for o in out[:40]],
              "oracle.py answers each request under its id")
        # Spoil some answers: a failure, an empty text, an unknown id, a duplicate, and one
        # that names a title its prompt did not show.
        answers[3] = {"id": answers[3]["id"], "error": "timeout"}
        answers[5]["explanation"] = "   "
        answers.append({"id": "nope", "explanation": "x"})
        answers.append(dict(answers[0]))
        shown = {t for t, _ in out[8]["history"] + out[8]["evidence"]} | {out[8]["item"][0]}
        titles = [line.split("\t")[1] for line in open(catalog, encoding="utf-8").readlines()[1:]]
        other = next(t for t in titles if t not in shown)
        answers[8]["explanation"] = "Unlike %s, this one is for you." % other
        with open(path("answers.jsonl"), "w") as f:
            f.write("\n".join(json.dumps(a) for a in answers) + "\n")
        r = run([prism, "teacher-import", "--requests", path("requests.jsonl"), "--answers",
                 path("answers.jsonl"), "--catalog", catalog, "--drop-hallucinated", "--out",
                 path("pairs.jsonl"), "--rejected", path("rejected.jsonl")])
        stats = json.loads(r.stdout) if r.returncode == 0 else {}
        check(stats.get("requests") == 40 and stats.get("answers") == 42 and
              stats.get("pairs") == 37 and stats.get("unanswered") == 3, "counts: " + r.stdout)
        check(stats.get("dropped_by_reason") == {"failed": 1, "empty": 1, "unknown_id": 1,
                                                 "duplicate": 1, "hallucinated": 1},
              "every dropped answer counted by reason")
        got = lines(open(path("pairs.jsonl")).read())
        want = [(p, t) for k, (_, p, t) in enumerate(examples) if k not in (3, 5, 8)]
        check([(g["source"], g["target"]) for g in got] == want,
              "pairs: the student's prompt -> the oracle's text, in request order")
        rejected = lines(open(path("rejected.jsonl")).read())
        check([x["reason"] for x in rejected] == ["failed", "empty", "hallucinated", "unknown_id",
                                                 "duplicate"] and rejected[2]["line"] == 9,
              "--rejected lists each dropped answer with its reason and line")
        # Without the filter the answer is kept but still counted; answers from stdin.
        r = run([prism, "teacher-import", "--requests", path("requests.jsonl"), "--catalog",
                 catalog, "--out", path("pairs2.jsonl")],
                open(path("answers.jsonl")).read())
        stats = json.loads(r.stdout) if r.returncode == 0 else {}
        check(stats.get("pairs") == 38 and stats.get("hallucinated") == 1 and
              stats["dropped_by_reason"]["hallucinated"] == 0, "no filter: kept and counted")
        # prism train reads the pairs (the id key is ignored).
        r = run([prism, "train", "--init", os.path.join(demo, "model"), "--train",
                 path("pairs.jsonl"), "--out", path("run"), "--steps", "1", "--batch-size", "4",
                 "--quiet", "--threads", "1"])
        check(r.returncode == 0, "prism train reads the imported pairs")
        # A malformed answer stops the import with its line; nothing is written.
        with open(path("broken.jsonl"), "w") as f:
            f.write(json.dumps(answers[0]) + "\n" + json.dumps({"id": "1", "text": "x"}) + "\n")
        r = run([prism, "teacher-import", "--requests", path("requests.jsonl"), "--answers",
                 path("broken.jsonl"), "--out", path("none.jsonl")])
        check(r.returncode == 1 and "broken.jsonl line 2" in r.stderr and
              not os.path.exists(path("none.jsonl")), "a malformed answer line: " + r.stderr)
        with open(path("requests_bad.jsonl"), "w") as f:
            f.write(requests + "{\"error\": {\"code\": \"PRISM_ERR_FORMAT\"}}\n")
        r = run([prism, "teacher-import", "--requests", path("requests_bad.jsonl"), "--answers",
                 path("answers.jsonl"), "--out", path("none.jsonl")])
        check(r.returncode == 1 and "line 41: an error line" in r.stderr,
              "an error line among the requests is named")

        # From a ranker: (user, item) pairs of its recommendations, sampled.
        r = run([prism, "rank", "train", "--interactions", os.path.join(demo, "interactions.tsv"),
                 "--out", path("ranker.safetensors"), "--factors", "8", "--iterations", "5"])
        check(r.returncode == 0, "a ranker to sample from")
        args = [prism, "teacher-prompts", "--ranker", path("ranker.safetensors"), "--catalog",
                catalog, "--interactions", os.path.join(demo, "interactions.tsv"), "--k", "2",
                "--users", "u001,u002,u003,u004,u005", "--sample", "6", "--seed", "3"]
        a, b = run(args), run(args)
        got = lines(a.stdout)
        check(a.returncode == 0 and len(got) == 6 and a.stdout == b.stdout,
              "--sample keeps 6 of 10, the same ones for the same seed")
        check(all(g["id"] == "%s/%s" % (g["user"], g["item_id"]) for g in got) and
              all(g["source"].startswith("history: ") for g in got), "ids are user/item")
        r = run(args[:-4])
        check(len(lines(r.stdout)) == 10, "without --sample every recommendation")
        r = run([prism, "teacher-prompts", "--users", "u001"])
        check(r.returncode == 1 and "go with --ranker" in r.stderr, "--users needs --ranker")
        with open(path("template.txt"), "w") as f:
            f.write("Why {item}? Known: {history}\n")
        r = run([prism, "teacher-prompts", "--template", path("template.txt")],
                json.dumps({"history": [["A", "b"]], "item": ["X", "y"]}) + "\n")
        check(lines(r.stdout)[0].get("prompt") == "Why X? Known: A (b)", "--template")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
