"""The pipeline on a Dask cluster: the same job as `prism run`, one partition of users at a time.

    from dask.distributed import Client
    import dask.dataframe as dd
    import prism.dask

    client = Client("tcp://scheduler:8786")
    users = dd.read_csv("users.csv")                     # a column "user"
    out = prism.dask.run(users, ranker="/shared/ranker.safetensors", model="/shared/model",
                         catalog="/shared/catalog.tsv", interactions="/shared/interactions.tsv",
                         k=3)
    out.to_parquet("explained/")

`run()` registers a WorkerPlugin that loads the ranker, catalog, histories, tokenizer and model
once per worker process (again on a worker that replaces a dead one); tasks carry only paths and
options, never a handle. Each partition goes through prism.Pipeline in batches of users, each
batch's prompts explained in one batched decode, so a partition's rows equal `prism run`'s lines
for the same users. See docs/scale.md.

Threads: Debian's Dask starts workers with OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1. The
plugin calls prism.set_num_threads(threads_per_worker) in every worker process, which sets both
libprism's pool and OpenBLAS (openblas_set_num_threads), whatever those variables said; the
default, 1, matches them. Each Dask thread of a worker gets its own explainer and pipeline over
the shared model, so `--nthreads` and threads_per_worker multiply: give a worker either several
Dask threads or several libprism threads, not both.
"""
import hashlib
import json
import os
import threading
import zipfile

import pandas as pd
from distributed import WorkerPlugin, get_client, get_worker

import prism

from .pipeline import COLUMNS, Pipeline, rows

__all__ = ["run", "PrismPlugin", "COLUMNS", "meta"]

# Per worker process: plugin key -> the loaded inputs. Handles live here and nowhere else.
_STATE = {}
_STATE_LOCK = threading.Lock()


def meta():
    """The empty frame that describes run()'s result (its columns and dtypes)."""
    return pd.DataFrame({"user": pd.Series(dtype=object), "rank": pd.Series(dtype="int64"),
                         "item": pd.Series(dtype=object), "title": pd.Series(dtype=object),
                         "score": pd.Series(dtype="float64"),
                         "evidence": pd.Series(dtype=object),
                         "explanation": pd.Series(dtype=object)}, columns=COLUMNS)


def _spec_key(spec):
    return "prism-" + hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _resolve(path, local_dir):
    """A path as given, or the copy client.upload_file put in the worker's directory; a .zip of a
    model folder is unpacked there once."""
    if os.path.exists(path) or not local_dir:
        found = path
    else:
        found = os.path.join(local_dir, os.path.basename(path))
        if not os.path.exists(found):
            raise FileNotFoundError(f"{path}: not on this worker, nor uploaded to {local_dir}")
    if found.endswith(".zip") and os.path.isfile(found):
        target = found[:-4]
        if not os.path.isdir(target):
            with zipfile.ZipFile(found) as z:
                z.extractall(target + ".part")
            inner = os.listdir(target + ".part")
            # a zip of the folder itself holds one directory: use it
            src = (os.path.join(target + ".part", inner[0]) if len(inner) == 1 and
                   os.path.isdir(os.path.join(target + ".part", inner[0])) else target + ".part")
            os.replace(src, target)
        found = target
    return found


class _Loaded:
    """The inputs of one job in one process; a pipeline (and explainer) per thread."""

    def __init__(self, spec, local_dir=None):
        paths = {name: _resolve(spec[name], local_dir)
                 for name in ("ranker", "model", "catalog", "interactions")}
        prism.set_num_threads(spec["threads"])
        self.ranker = prism.Ranker.load(paths["ranker"])
        self.catalog = prism.Catalog(paths["catalog"], feature_columns=spec["feature_columns"])
        self.interactions = prism.Interactions(paths["interactions"])
        self.tokenizer = prism.Tokenizer(paths["model"])
        self.model = prism.Bart(paths["model"])
        self.format = spec["format"]
        self.local = threading.local()
        self.pipeline()  # a model that cannot read the catalog fails here, at setup

    def pipeline(self):
        p = getattr(self.local, "pipeline", None)
        if p is None:
            explainer = prism.Explainer(tokenizer=self.tokenizer, model=self.model)
            p = Pipeline(self.ranker, self.catalog, self.interactions, explainer, **self.format)
            self.local.pipeline = p
        return p


def _load(spec, local_dir=None):
    key = _spec_key(spec)
    with _STATE_LOCK:
        if key not in _STATE:
            _STATE[key] = _Loaded(spec, local_dir)
        return _STATE[key]


class PrismPlugin(WorkerPlugin):
    """Loads a job's inputs once per worker process (paths only are pickled)."""

    def __init__(self, spec):
        self.spec = spec
        self.name = _spec_key(spec)

    def setup(self, worker):
        _load(self.spec, worker.local_directory)

    def teardown(self, worker):
        with _STATE_LOCK:
            _STATE.pop(self.name, None)


def _explain_partition(part, spec, options):
    """One partition of users -> its rows (the task: plain data in, plain data out)."""
    try:
        local_dir = get_worker().local_directory
    except ValueError:  # not on a distributed worker (a local dask scheduler)
        local_dir = None
    loaded = _load(spec, local_dir)
    users = [str(u) for u in part["user"]]
    data = rows(loaded.pipeline().run(users, **options)) if users else []
    frame = pd.DataFrame(data, columns=COLUMNS)
    return frame.astype({"rank": "int64", "score": "float64"})


def run(users, *, ranker, model, catalog, interactions, k=3, threads_per_worker=1, evidence=3,
        batch_size=None, feature_columns=None, format=None, exclude_seen=True, **generate):
    """Explain the top-k items of every user on the cluster of the current dask client.

    users: a dask.dataframe with a "user" column, or a dask.bag of user ids. ranker, model,
    catalog, interactions: paths every worker can read (shared storage), or the names of files
    shipped with client.upload_file (a model folder as a .zip). generate: HF generate()
    keywords. Returns a lazy dask.dataframe with the columns user, rank, item, title, score,
    evidence, explanation: one row per recommendation (rank from 1), in the users' order; users
    the ranker does not know have no rows. Without a distributed client the inputs are loaded in
    the process that runs the tasks.
    """
    if hasattr(users, "to_dataframe") and not hasattr(users, "columns"):  # a bag of ids
        users = users.map(lambda u: {"user": str(u)}).to_dataframe(meta={"user": object})
    if "user" not in users.columns:
        raise ValueError("users must have a \"user\" column (or be a dask.bag of user ids)")
    spec = {"ranker": os.fspath(ranker), "model": os.fspath(model), "catalog": os.fspath(catalog),
            "interactions": os.fspath(interactions), "threads": int(threads_per_worker),
            "feature_columns": feature_columns, "format": dict(format or {})}
    options = dict(k=k, evidence=evidence, batch_size=batch_size, exclude_seen=exclude_seen,
                   **generate)
    try:
        client = get_client()
    except ValueError:
        client = None
    if client is not None:
        plugin = PrismPlugin(spec)
        register = getattr(client, "register_plugin", None) or client.register_worker_plugin
        register(plugin, name=plugin.name)
    return users[["user"]].map_partitions(_explain_partition, spec, options, meta=meta())
