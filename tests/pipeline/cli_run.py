#!/usr/bin/env python3
"""`prism run` as a black box on the demo data.

usage: cli_run.py PRISM DEMO_DIR

- a run over all users writes one JSON line per user in order, and the same bytes whatever
  --batch is;
- a run killed with SIGKILL once some lines are out, then resumed with --resume, writes the same
  bytes as an uninterrupted run; so does a resume over a partial last line;
- unknown users are reported per user and the run goes on;
- items missing from the catalog are reported, never prompted as raw ids;
- histories follow the interactions' timestamps, not file order;
- a model folder whose vocabulary cannot encode the catalog fails at start, before any output;
- a target that is not a regular file is never written, nor a file --resume cannot read back.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL " + what)
    else:
        print("ok   " + what)


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=300, **kw)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def lines(path):
    return [json.loads(x) for x in read(path).decode().splitlines()]


def complete_lines(path):
    try:
        return read(path).count(b"\n")
    except FileNotFoundError:
        return 0


def main():
    prism, demo = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="prism-run-")
    try:
        ranker = os.path.join(tmp, "ranker.safetensors")
        r = run(prism, "rank", "train", "--interactions", demo + "/interactions.tsv", "--out",
                ranker, "--factors", "16", "--iterations", "15", "--regularization", "0.1",
                "--seed", "7", "--threads", "1")
        check(r.returncode == 0, "the ranker trains")
        base = [prism, "run", "--ranker", ranker, "--catalog", demo + "/catalog.tsv",
                "--interactions", demo + "/interactions.tsv", "--model", demo + "/model",
                "--threads", "1"]

        full = os.path.join(tmp, "full.jsonl")
        r = run(*base, "--out", full)
        check(r.returncode == 0, f"prism run exits 0 ({r.stderr.strip()})")
        out = lines(full)
        check(len(out) == 150 and out[0]["user"] == "u001" and out[-1]["user"] == "u150",
              "one line per user, in the ranker's order")
        item = out[0]["items"][0]
        check(sorted(out[0]) == ["items", "user"] and len(out[0]["items"]) == 3,
              "a line is {user, items} with k items")
        check(sorted(item) == ["evidence", "explanation", "item", "prompt", "score", "title"],
              "an item has item, title, score, evidence, prompt, explanation")
        check(sorted(item["evidence"][0]) == ["item", "title", "weight"] and len(item["evidence"]) == 3,
              "evidence entries have item, title, weight")
        check(f"| item: {item['title']} (" in item["prompt"] and item["explanation"],
              "the prompt names the item and an explanation follows")
        check("users/s" in r.stderr and "explanations/s" in r.stderr,
              "progress on stderr reports users/s")

        for batch in ("1", "7"):
            other = os.path.join(tmp, f"batch{batch}.jsonl")
            r = run(*base, "--out", other, "--batch", batch)
            check(r.returncode == 0 and read(other) == read(full),
                  f"--batch {batch} writes the same bytes")

        # A real kill once some lines are out, then --resume.
        killed = os.path.join(tmp, "killed.jsonl")
        proc = subprocess.Popen([*base, "--out", killed, "--batch", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while complete_lines(killed) < 10 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        n = complete_lines(killed)
        check(proc.returncode == -signal.SIGKILL and 10 <= n < 150,
              f"the run was killed part way ({n} lines out)")
        r = run(*base, "--out", killed, "--batch", "1", "--resume")
        check(r.returncode == 0 and f"{n} users already written" in r.stderr,
              f"--resume skips the {n} users written ({r.stderr.strip()[:200]})")
        check(read(killed) == read(full), "killed and resumed equals uninterrupted, byte for byte")

        # A partial last line (a kill in the middle of a write) is dropped, then rewritten.
        partial = os.path.join(tmp, "partial.jsonl")
        data = read(full)
        cut = data.index(b"\n", len(data) // 3) + 40
        with open(partial, "wb") as f:
            f.write(data[:cut])
        r = run(*base, "--out", partial, "--resume")
        check(r.returncode == 0 and "dropping a partial last line" in r.stderr,
              "--resume drops a partial last line")
        check(read(partial) == data, "and the result equals the uninterrupted run")
        r = run(*base, "--out", partial, "--resume")
        check(r.returncode == 0 and read(partial) == data and "150 users already written" in
              r.stderr, "resuming a finished run changes nothing")

        # Unknown users are reported and the others go on; @file lists.
        users = os.path.join(tmp, "users.txt")
        with open(users, "w") as f:
            f.write("u002\nnobody\n\nu010\nu002\n")
        some = os.path.join(tmp, "some.jsonl")
        r = run(*base, "--out", some, "--users", "@" + users)
        got = lines(some)
        check(r.returncode == 0 and [x["user"] for x in got] == ["u002", "nobody", "u010"],
              "@file users in order, blank lines and repeats skipped")
        check(got[1]["error"]["code"] == "PRISM_ERR_NOT_FOUND" and "nobody" in r.stderr,
              "an unknown user gets an error line and a message; the run goes on")
        check(got[0] == out[1] and got[2] == out[9], "the known users' lines equal the full run's")
        r = run(*base, "--out", some, "--users", "u003,nobody2", "--k", "2")
        got = lines(some)
        check(len(got) == 2 and len(got[0]["items"]) == 2 and "error" in got[1],
              "a comma-separated list and --k")

        # Items the catalog lacks: reported, never prompted by id.
        catalog = os.path.join(tmp, "catalog.tsv")
        with open(demo + "/catalog.tsv", encoding="utf-8") as f:
            rows = f.read().splitlines()
        drop = {item["item"]} | {e["item"] for e in item["evidence"]}
        with open(catalog, "w", encoding="utf-8") as f:
            f.write("\n".join(x for x in rows if x.split("\t")[0] not in drop) + "\n")
        gaps = os.path.join(tmp, "gaps.jsonl")
        r = run(*[catalog if x == demo + "/catalog.tsv" else x for x in base], "--out", gaps,
                "--users", "u001")
        line = lines(gaps)[0]
        top = line["items"][0]
        check(r.returncode == 0 and sorted(line["missing"]) == sorted(drop),
              f"the missing items are listed ({line.get('missing')})")
        check(top["item"] == item["item"] and top["title"] is None and top["prompt"] is None and
              top["explanation"] is None, "a recommended item the catalog lacks has no prompt")
        prompts = " ".join(x["prompt"] or "" for x in line["items"])
        check(not any(d in prompts for d in drop), "no missing id appears in a prompt")
        check(all(e["title"] is None for e in top["evidence"]), "missing evidence has no title")

        # Histories by timestamp: the same interactions in reverse file order give the same run.
        rev = os.path.join(tmp, "reversed.tsv")
        with open(demo + "/interactions.tsv", encoding="utf-8") as f:
            rows = f.read().splitlines()
        with open(rev, "w", encoding="utf-8") as f:
            f.write("\n".join(reversed(rows)) + "\n")
        timed = os.path.join(tmp, "timed.jsonl")
        r = run(*[rev if x == demo + "/interactions.tsv" else x for x in base], "--out", timed,
                "--users", "u001,u077")
        check(r.returncode == 0 and lines(timed) == [out[0], out[76]],
              "histories follow timestamps, not file order")

        # A vocabulary that cannot encode the catalog fails at start.
        model = os.path.join(tmp, "model")
        shutil.copytree(demo + "/model", model)
        with open(os.path.join(model, "vocab.json"), encoding="utf-8") as f:
            vocab = json.load(f)
        del vocab["\u00c3"]  # the byte-level symbol of 0xC3, the first byte of "é"
        with open(os.path.join(model, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f)
        accents = os.path.join(tmp, "accents.tsv")
        with open(accents, "w", encoding="utf-8") as f:
            f.write("item_id\ttitle\tgenre\nb01\tCaf\u00e9 Stories\tliterary drama\n")
        bad_out = os.path.join(tmp, "never.jsonl")
        args = [model if x == demo + "/model" else accents if x == demo + "/catalog.tsv" else x
                for x in base]
        r = run(*args, "--out", bad_out)
        check(r.returncode == 1 and "vocabulary cannot encode the title of catalog item \"b01\""
              in r.stderr and not os.path.exists(bad_out),
              f"a model that cannot read the catalog fails at start ({r.stderr.strip()})")

        # Never write a target that is not a regular file, nor over an unreadable output.
        fifo = os.path.join(tmp, "fifo")
        os.mkfifo(fifo)
        link = os.path.join(tmp, "link.jsonl")
        os.symlink(full, link)
        for target in (fifo, link, tmp, "/dev/null"):
            r = run(*base, "--out", target, "--users", "u001")
            check(r.returncode == 1 and "not a regular file" in r.stderr,
                  f"--out {target} is refused")
        check(read(full).count(b"\n") == 150, "the symlink's target is untouched")
        junk = os.path.join(tmp, "junk.jsonl")
        with open(junk, "w") as f:
            f.write("not json\n")
        r = run(*base, "--out", junk, "--resume")
        check(r.returncode == 1 and "line 1 is not a prism run output line" in r.stderr and
              read(junk) == b"not json\n", "--resume refuses a file it did not write")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
