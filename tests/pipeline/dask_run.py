#!/usr/bin/env python3
"""prism.dask on a LocalCluster of two worker processes on loopback, against `prism run`.

usage: dask_run.py PRISM DEMO_DIR   (PYTHONPATH: bindings/python; PRISM_LIB_PATH: the library)

- the rows for every demo user (and an unknown one) equal the lines `prism run` writes;
- a dask.bag of ids gives the same rows;
- the inputs shipped with client.upload_file (the model folder as a .zip) work as shared paths do;
- a worker process killed with SIGKILL in the middle of a job is replaced, its tasks run again,
  and no user is lost: the result still equals `prism run`.

Exits 77 (skipped) when dask, distributed or pandas is not installed.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

try:
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client, LocalCluster, wait
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

import numpy as np

import prism
import prism.dask

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def f32(x):
    return float(np.float32(x))


def normal(rows):
    """Rows as comparable tuples (scores and weights through float32, as C holds them)."""
    out = []
    for r in rows:
        ev = tuple((e["item"], e["title"], f32(e["weight"])) for e in r["evidence"])
        out.append((r["user"], int(r["rank"]), r["item"], r["title"], f32(r["score"]), ev,
                    r["explanation"]))
    return out


def frame_rows(frame):
    return normal(frame.to_dict("records"))


def threads():
    """In a worker: libprism's threads, OpenBLAS's, and what the environment asked for."""
    import ctypes
    blas = ctypes.CDLL("libopenblas.so.0")  # the copy libprism linked, already loaded
    return (prism.get_num_threads(), blas.openblas_get_num_threads(),
            os.environ.get("OPENBLAS_NUM_THREADS"))


def main():
    cli, demo = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="prism-dask-")
    try:
        ranker = os.path.join(tmp, "ranker.safetensors")
        data = prism.Interactions(demo + "/interactions.tsv")
        r = prism.Ranker.train(data, factors=16, iterations=15, regularization=0.1, seed=7)
        r.save(ranker)
        users = [r.user_id(u) for u in range(r.num_users)]
        out = os.path.join(tmp, "run.jsonl")
        subprocess.run([cli, "run", "--ranker", ranker, "--catalog", demo + "/catalog.tsv",
                        "--interactions", demo + "/interactions.tsv", "--model", demo + "/model",
                        "--out", out, "--threads", "1"], check=True, capture_output=True)
        with open(out, encoding="utf-8") as f:
            expected = normal(prism.pipeline.rows(json.loads(x) for x in f))
        inputs = dict(ranker=ranker, model=demo + "/model", catalog=demo + "/catalog.tsv",
                      interactions=demo + "/interactions.tsv")

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None, silence_logs=40)
        client = Client(cluster)
        try:
            frame = dd.from_pandas(pd.DataFrame({"user": users + ["nobody"]}), npartitions=15)
            result = prism.dask.run(frame, k=3, **inputs)
            check(list(result.columns) == prism.dask.COLUMNS, "the result has the columns")
            got = result.compute()
            check(frame_rows(got) == expected,
                  f"two workers give prism run's rows ({len(got)} rows, {len(expected)} expected)")
            check(len(set(client.run(os.getpid).values())) == 2, "on two worker processes")
            seen = set(client.run(threads).values())
            check(seen == {(1, 1, "1")}, f"one libprism and one OpenBLAS thread per worker ({seen})")
            small = dd.from_pandas(pd.DataFrame({"user": users[:4]}), npartitions=2)
            two = prism.dask.run(small, k=3, threads_per_worker=2, **inputs).compute()
            seen = set(client.run(threads).values())
            check(seen == {(2, 2, "1")} and frame_rows(two) == expected[:12],
                  f"threads_per_worker=2 sets both, whatever the environment says ({seen})")

            bag = db.from_sequence(users[:20], npartitions=4)
            check(frame_rows(prism.dask.run(bag, k=3, **inputs).compute()) == expected[:60],
                  "a bag of ids gives the same rows")

            # Inputs shipped to the workers instead of shared.
            shipped = shutil.make_archive(os.path.join(tmp, "model"), "zip", demo, "model")
            shutil.copy(ranker, os.path.join(tmp, "shipped-ranker.safetensors"))
            for path in (shipped, os.path.join(tmp, "shipped-ranker.safetensors")):
                client.upload_file(path)
            small = dd.from_pandas(pd.DataFrame({"user": users[:6]}), npartitions=2)
            got = prism.dask.run(small, k=3, ranker="shipped-ranker.safetensors",
                                 model="model.zip", catalog=inputs["catalog"],
                                 interactions=inputs["interactions"]).compute()
            check(frame_rows(got) == expected[:18], "files shipped with client.upload_file work")

            # Kill a worker process in the middle of a job: Dask runs its tasks again.
            frame = dd.from_pandas(pd.DataFrame({"user": users}), npartitions=50)
            parts = client.compute(prism.dask.run(frame, k=3, **inputs).to_delayed())
            wait(parts, return_when="FIRST_COMPLETED", timeout=120)
            busy = {a for a, keys in client.processing().items() if keys}
            pids = client.run(os.getpid)
            victim = sorted(busy or pids)[0]
            done_before = sum(p.done() for p in parts)
            os.kill(pids[victim], signal.SIGKILL)
            check(done_before < len(parts),
                  f"the kill came mid-job ({done_before} of {len(parts)} partitions done)")
            got = pd.concat(client.gather(parts))
            check(frame_rows(got) == expected, "no user is lost: the rows equal prism run's")
            deadline = time.time() + 60
            while len(client.scheduler_info()["workers"]) < 2 and time.time() < deadline:
                time.sleep(0.2)
            now = client.run(os.getpid)
            check(len(now) == 2 and pids[victim] not in now.values(),
                  "the killed worker was replaced")
        finally:
            client.close()
            cluster.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
