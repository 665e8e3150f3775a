"""Helpers shared by the wrappers: numpy ↔ C pointers and sized outputs."""
import ctypes

import numpy as np

from ._errors import check

BUFFER_TOO_SMALL = -6


def i32(a):
    return np.ascontiguousarray(a, dtype=np.int32)


def f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


def ptr(a, ctype):
    """A C pointer into a contiguous array, or NULL for None."""
    return a.ctypes.data_as(ctypes.POINTER(ctype)) if a is not None else None


def sized(call, guess):
    """Run a sized-output call: call(capacity) -> (status, needed). Retries once when short.

    One call at the guessed capacity usually suffices, so the common path does the work once.
    """
    rc, needed = call(guess)
    if rc == BUFFER_TOO_SMALL:
        rc, needed = call(needed)
    check(rc)
    return needed


def utf8(text, what="text"):
    if isinstance(text, str):
        return text.encode("utf-8")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError(f"{what} must be str or bytes, not {type(text).__name__}")


def unsigned(value, what, bits=32):
    """An int in [0, 2**bits) for a C unsigned field: never narrowed, never a float or bool."""
    import operator
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an integer, not bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an integer, not {type(value).__name__}") from None
    if not 0 <= value < 1 << bits:
        raise OverflowError(f"{what} = {value} is outside [0, 2**{bits})")
    return value
