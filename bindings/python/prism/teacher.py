"""The teacher side of distillation (libprism <prism/teacher.h>): the prompts a teacher LLM
answers, and its answers made into the student's training pairs.

    requests = prism.TeacherRequests()
    requests.add(history=[("Winter Hours", "literary drama")],
                 item=("Orchard in August", "literary drama"),
                 evidence=[("Winter Hours", "literary drama")])
    requests.add_recommendations(pipeline, ["u001", "u002"], k=3)   # or from a ranker
    for r in requests:                       # r["prompt"]: the teacher's prompt
        answer = my_llm(r["prompt"])
        ...
    imp = prism.TeacherImport(requests, titles=catalog, drop_hallucinated=True)
    imp.add(r["id"], answer)                 # or imp.load("answers.jsonl")
    imp.write("pairs.jsonl")                 # {"id", "source", "target"}: what prism train reads
    print(imp.stats)
"""
import ctypes
import json
import os

from . import _capi as C
from ._errors import check
from ._handle import Handle
from ._util import sized, unsigned, utf8
from .explain import _FORMAT_FIELDS, _entry, _format, _items

VERDICTS = ["kept", "failed", "empty", "unknown_id", "duplicate", "hallucinated"]


def _text(b):
    return None if b is None else b.decode("utf-8")


def _teacher_format(options):
    """A prism_prompt_format from the teacher's defaults with render_prompt's option names."""
    f = _format({})
    check(C.prism_teacher_format_init(ctypes.byref(f), ctypes.sizeof(f)))
    base = _format(options)  # checks the names; its values replace the defaults given
    for name, value in options.items():
        if value is not None:
            field = _FORMAT_FIELDS[name]
            setattr(f, field, getattr(base, field))
    f._keep = base  # the strings stay referenced while f lives
    return f


def _line(call, ptr, index):
    n = ctypes.c_size_t()
    out = {"buf": ctypes.create_string_buffer(1024)}

    def attempt(capacity):
        if capacity > len(out["buf"]):
            out["buf"] = ctypes.create_string_buffer(capacity)
        rc = call(out["buf"], capacity, ctypes.byref(n), ptr, index)
        return rc, n.value + 1

    length = sized(attempt, len(out["buf"])) - 1
    return out["buf"].raw[:length].decode("utf-8")


class TeacherRequests(Handle):
    """Requests for a teacher: per (history, item, evidence) an id, the teacher's prompt and
    the student's prompt (the training pair's source), rendered from the same entries.

    TeacherRequests(teacher=None, student=None): each a dict of prism.render_prompt's format
    options (template, entry_template, separator, ..., max_history); the teacher's default is
    the built-in faithfulness-constrained prompt, the student's the demo student's format. The
    entries both prompts show are cut by the student's max_history and max_evidence. One call at
    a time; while a TeacherImport uses the set it cannot change (RuntimeError).
    """

    _free = C.prism_teacher_requests_free
    _exclusive = True

    def __init__(self, teacher=None, student=None):
        super().__init__()
        self._importers = 0
        tf, sf = _teacher_format(dict(teacher or {})), _format(dict(student or {}))
        p = C.prism_teacher_params()
        check(C.prism_teacher_params_init(ctypes.byref(p), ctypes.sizeof(p)))
        p.teacher_format, p.student_format = ctypes.pointer(tf), ctypes.pointer(sf)
        check(C.prism_teacher_requests_create(ctypes.byref(self._ptr), ctypes.byref(p)))

    @classmethod
    def load(cls, path):
        """The requests of a JSON Lines file that a set (or prism teacher-prompts) wrote."""
        r = cls()
        with r._change() as ptr:
            check(C.prism_teacher_requests_load(ptr, os.fsencode(path)))
        return r

    @classmethod
    def parse(cls, text, what="requests"):
        """The same from a str or bytes of JSON Lines."""
        r = cls()
        data = utf8(text)
        with r._change() as ptr:
            check(C.prism_teacher_requests_parse(ptr, data, len(data), utf8(what, "what")))
        return r

    def _change(self):
        if self._importers:
            raise RuntimeError("a TeacherImport uses these requests: they cannot change")
        return self._use()

    def add(self, history, item, evidence=(), id=None):
        """Add one request and return its id (default: its number from 1). history oldest
        first, evidence strongest first: lists of (title, features) pairs (or mappings with
        "title" and "features"); item one such entry."""
        (h, n_history), (e, n_evidence) = _items(history, "history"), _items(evidence, "evidence")
        it = (C.prism_prompt_item * 1)()
        it[0].title, it[0].features = _entry(item, "item")
        key = None if id is None else utf8(str(id), "id")
        with self._change() as ptr:
            check(C.prism_teacher_requests_add(ptr, key, h, n_history, it, e, n_evidence))
            return self._id(ptr, C.prism_teacher_requests_count(ptr) - 1)

    def add_recommendations(self, pipeline, users, k=3, evidence=3, exclude_seen=True,
                            exclude=None, candidates=None):
        """Add every recommendation a prism.Pipeline makes for `users` that the catalog knows:
        ids "<user>/<item>", the user's history and the item's evidence. Returns how many
        were added. The pipeline needs no explainer (it only ranks and renders)."""
        users = [users] if isinstance(users, (str, bytes)) else list(users)
        before = len(self)
        with pipeline._result(users, k, evidence, (exclude_seen, exclude, candidates),
                              {}) as result, self._change() as ptr:
            check(C.prism_teacher_requests_add_result(ptr, result))
        return len(self) - before

    def sample(self, n, seed=42):
        """Keep n requests drawn at random (seeded), in their order."""
        with self._change() as ptr:
            check(C.prism_teacher_requests_sample(ptr, unsigned(n, "n", 64),
                                                  unsigned(seed, "seed", 64)))

    def __len__(self):
        with self._use() as ptr:
            return C.prism_teacher_requests_count(ptr)

    @staticmethod
    def _id(ptr, i):
        r = C.prism_teacher_request(struct_size=ctypes.sizeof(C.prism_teacher_request))
        check(C.prism_teacher_requests_get(ctypes.byref(r), ptr, i))
        return _text(r.id)

    def __getitem__(self, i):
        """Request i: {"id", "prompt" (the teacher's), "source" (the student's), "user",
        "item_id", "item": (title, features), "history": [...], "evidence": [...]}."""
        with self._use() as ptr:
            n = C.prism_teacher_requests_count(ptr)
            i = i + n if isinstance(i, int) and i < 0 else i
            if not isinstance(i, int) or not 0 <= i < n:
                raise IndexError(i)
            r = C.prism_teacher_request(struct_size=ctypes.sizeof(C.prism_teacher_request))
            check(C.prism_teacher_requests_get(ctypes.byref(r), ptr, i))
            out = {"id": _text(r.id), "prompt": _text(r.prompt), "source": _text(r.source),
                   "user": _text(r.user), "item_id": _text(r.item_id),
                   "item": (_text(r.item.title), _text(r.item.features))}
            for key, count, fn in (("history", r.history_count, C.prism_teacher_requests_history),
                                   ("evidence", r.evidence_count,
                                    C.prism_teacher_requests_evidence)):
                entries = []
                for j in range(count):
                    e = C.prism_prompt_item()
                    check(fn(ctypes.byref(e), ptr, i, j))
                    entries.append((_text(e.title), _text(e.features)))
                out[key] = entries
            return out

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def lines(self):
        """Every request as its JSON line (docs/formats.md), without newlines."""
        with self._use() as ptr:
            return [_line(C.prism_teacher_requests_line, ptr, i)
                    for i in range(C.prism_teacher_requests_count(ptr))]

    def write(self, path):
        """Write the JSON Lines file that prism teacher-import and TeacherRequests.load read."""
        _write_lines(path, self.lines())


def _write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


class TeacherImport(Handle):
    """The teacher's answers matched to `requests` (a TeacherRequests) by id: one training pair
    (the student's prompt -> the answer, trimmed) per answered request.

    titles: the catalog's titles for the noise filter (a prism.Catalog, or strings; the titles
    the requests show are always known); drop_hallucinated: drop answers naming a catalog title
    their prompt did not show (otherwise kept and counted); answer_key: the answer's key in an
    answer line. Dropped answers are counted by reason (stats) and listed (dropped()).
    """

    _free = C.prism_teacher_import_free
    _exclusive = True

    def __init__(self, requests, titles=None, drop_hallucinated=False, answer_key="explanation"):
        super().__init__()
        self.requests = None  # set once counted among the requests' importers
        if titles is not None and hasattr(titles, "items") and callable(titles.items):
            titles = [t for _, t, _ in titles.items()]
        encoded = [utf8(t, "titles") for t in (titles or ())]
        arr = (ctypes.c_char_p * max(len(encoded), 1))(*encoded)
        p = C.prism_teacher_import_params()
        check(C.prism_teacher_import_params_init(ctypes.byref(p), ctypes.sizeof(p)))
        p.answer_key = utf8(answer_key, "answer_key")
        p.drop_hallucinated = 1 if drop_hallucinated else 0
        p.titles, p.n_titles = arr, len(encoded)
        with requests._use() as r:
            check(C.prism_teacher_import_create(ctypes.byref(self._ptr), r, ctypes.byref(p)))
            self._borrow_from(requests)
            requests._importers += 1
        self.requests = requests

    def close(self):
        requests, self.requests = self.requests, None
        if requests is not None:
            requests._importers -= 1
        super().close()

    def add(self, id, text):
        """One answer (text None: the teacher failed); returns its verdict: "kept", "failed",
        "empty", "unknown_id", "duplicate" or "hallucinated" (dropped as such)."""
        verdict = ctypes.c_int()
        data = None if text is None else utf8(text, "text")
        with self._use() as ptr:
            check(C.prism_teacher_import_add(ctypes.byref(verdict), ptr, utf8(str(id), "id"),
                                             data))
        return VERDICTS[verdict.value]

    def load(self, path):
        """Add the answers of a JSON Lines file: {"id", "<answer_key>": S} or {"id", "error"}."""
        with self._use() as ptr:
            check(C.prism_teacher_import_load(ptr, os.fsencode(path)))

    def parse(self, text, what="answers"):
        """The same from a str or bytes of JSON Lines."""
        data = utf8(text)
        with self._use() as ptr:
            check(C.prism_teacher_import_parse(ptr, data, len(data), utf8(what, "what")))

    @property
    def stats(self):
        """requests, answers, pairs, unanswered, dropped and the reasons: failed, empty,
        unknown_id, duplicate, hallucinated (named a title their prompt did not show; dropped
        only with drop_hallucinated)."""
        s = C.prism_teacher_import_stats(struct_size=ctypes.sizeof(C.prism_teacher_import_stats))
        with self._use() as ptr:
            check(C.prism_teacher_import_get_stats(ctypes.byref(s), ptr))
        return {name: getattr(s, name) for name, _ in s._fields_[1:]}

    def __len__(self):
        with self._use() as ptr:
            return C.prism_teacher_import_count(ptr)

    def pairs(self):
        """The training pairs in the order of the requests: {"id", "source", "target",
        "hallucinated"}."""
        out = []
        with self._use() as ptr:
            for i in range(C.prism_teacher_import_count(ptr)):
                p = C.prism_teacher_pair(struct_size=ctypes.sizeof(C.prism_teacher_pair))
                check(C.prism_teacher_import_pair(ctypes.byref(p), ptr, i))
                out.append({"id": _text(p.id), "source": _text(p.source),
                            "target": _text(p.target), "hallucinated": bool(p.hallucinated)})
        return out

    def dropped(self):
        """The answers that made no pair, in the order added: {"id", "reason", "line", "text"}
        (line: in its file, 0 for add())."""
        out = []
        with self._use() as ptr:
            for i in range(C.prism_teacher_import_drop_count(ptr)):
                d = C.prism_teacher_drop(struct_size=ctypes.sizeof(C.prism_teacher_drop))
                check(C.prism_teacher_import_drop(ctypes.byref(d), ptr, i))
                out.append({"id": _text(d.id), "reason": VERDICTS[d.verdict], "line": d.line,
                            "text": _text(d.text)})
        return out

    def lines(self):
        """The pairs as JSON lines {"id", "source", "target"}: what prism train reads."""
        with self._use() as ptr:
            return [_line(C.prism_teacher_import_pair_line, ptr, i)
                    for i in range(C.prism_teacher_import_count(ptr))]

    def write(self, path):
        _write_lines(path, self.lines())

    def to_pairs(self, tokenizer, **options):
        """The pairs as a prism.Pairs encoded by `tokenizer` (options: prism.Pairs's)."""
        from .train import Pairs
        return Pairs.parse("\n".join(json.dumps({"source": p["source"], "target": p["target"]})
                                     for p in self.pairs()), tokenizer=tokenizer, **options)
