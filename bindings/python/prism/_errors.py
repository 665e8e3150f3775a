"""PrismError: a libprism status code with the library's message."""


class PrismError(Exception):
    """Raised when a libprism call fails.

    `code` is the negative status (e.g. -3), `name` its enumerator name
    ("PRISM_ERR_FORMAT"), `message` the library's detail naming the file,
    tensor, line or byte at fault.
    """

    def __init__(self, code, name, message):
        super().__init__(f"{name}: {message}")
        self.code = code
        self.name = name
        self.message = message
