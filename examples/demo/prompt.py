"""The demo student's input format, exactly as specified in PROMPT.md.

    history: {history} | item: {item} ({item_genre}) | evidence: {evidence}

`fields()` applies the normalisation and truncation rules and returns what the
prompt shows; the oracle reads the same fields, so an explanation never depends
on anything the student cannot see.
"""

MAX_HISTORY = 8
MAX_EVIDENCE = 3
MAX_VALUE_BYTES = 48
EMPTY_VALUE = "unknown"
EMPTY_LIST = "none"
LIST_SEPARATOR = "; "
TEMPLATE = "history: {history} | item: {item} ({item_genre}) | evidence: {evidence}"

_WHITESPACE = " \t\n\v\f\r"


def normalize(value):
    """Collapse ASCII whitespace runs, trim, cut to MAX_VALUE_BYTES on a UTF-8
    character boundary, trim again; an empty result reads EMPTY_VALUE."""
    words = []
    word = []
    for ch in value:
        if ch in _WHITESPACE:
            if word:
                words.append("".join(word))
                word = []
        else:
            word.append(ch)
    if word:
        words.append("".join(word))
    text = " ".join(words).encode("utf-8")
    if len(text) > MAX_VALUE_BYTES:
        cut = MAX_VALUE_BYTES
        while cut > 0 and (text[cut] & 0xC0) == 0x80:
            cut -= 1
        text = text[:cut].rstrip(b" ")
    return text.decode("utf-8") or EMPTY_VALUE


class Entry:
    """A (title, genre) pair after normalisation."""

    def __init__(self, title, genre):
        self.title = normalize(title)
        self.genre = normalize(genre)

    def render(self):
        return "%s (%s)" % (self.title, self.genre)


class Fields:
    """What one prompt shows: the last MAX_HISTORY history entries (oldest
    first), the item, and the first MAX_EVIDENCE evidence entries."""

    def __init__(self, history, item, evidence):
        self.history = [Entry(t, g) for t, g in history][-MAX_HISTORY:]
        self.item = Entry(*item)
        self.evidence = [Entry(t, g) for t, g in evidence][:MAX_EVIDENCE]


def fields(history, item, evidence):
    """history, evidence: sequences of (title, genre); item: (title, genre)."""
    return Fields(history, item, evidence)


def _render_list(entries):
    return LIST_SEPARATOR.join(e.render() for e in entries) or EMPTY_LIST


def render(f):
    return TEMPLATE.format(history=_render_list(f.history), item=f.item.title,
                           item_genre=f.item.genre, evidence=_render_list(f.evidence))


def build_prompt(history, item, evidence):
    return render(fields(history, item, evidence))
