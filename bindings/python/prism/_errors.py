"""PrismError: a libprism status code with the library's message."""


class PrismError(Exception):
    """Raised when a libprism call fails.

    `code` is the negative status (e.g. -3), `name` its enumerator name
    ("PRISM_ERR_FORMAT"), `message` the library's detail naming the file,
    tensor, line or byte at fault. The codes are pinned (docs/api-conventions.md);
    PRISM_ERR_NUMERIC (-13), for example, is training that diverged.
    """

    def __init__(self, code, name, message):
        super().__init__(f"{name}: {message}")
        self.code = code
        self.name = name
        self.message = message


def check(rc):
    """Raise PrismError for a negative status; return rc otherwise."""
    if rc < 0:
        from . import _capi
        raise PrismError(rc, _capi.prism_status_name(rc).decode(),
                         _capi.prism_last_error().decode("utf-8", "replace"))
    return rc
