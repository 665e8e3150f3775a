"""Helpers shared by the wrappers: checked integers and arrays for C, sized outputs, callbacks.

Integers are never narrowed on the way to C: a value the C type cannot hold raises
OverflowError, a float, bool or str where an integer belongs raises TypeError.
"""
import ctypes
import operator

import numpy as np

from ._errors import check

BUFFER_TOO_SMALL = -6
INT32_MIN, INT32_MAX = -2**31, 2**31 - 1


def integer(value, what):
    """An int from anything that is one (int, numpy integer): never a float, bool or str."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be an integer, not bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an integer, not {type(value).__name__}") from None


def c_int(value, what, lo=INT32_MIN, hi=INT32_MAX):
    """An int for a C int / int32_t parameter (OverflowError outside [lo, hi])."""
    v = integer(value, what)
    if not lo <= v <= hi:
        raise OverflowError(f"{what} = {v} does not fit a 32-bit C int")
    return v


def unsigned(value, what, bits=32):
    """An int in [0, 2**bits) for a C unsigned field."""
    v = integer(value, what)
    if not 0 <= v < 1 << bits:
        raise OverflowError(f"{what} = {v} is outside [0, 2**{bits})")
    return v


def int_array(values, what, dtype=np.int32):
    """A contiguous array of dtype holding exactly `values` (integers only).

    A float, bool or string array raises TypeError; a value dtype cannot hold raises
    OverflowError (never a silent wrap). An empty sequence is an empty array.
    """
    arr = np.asarray(values)
    info = np.iinfo(dtype)
    if arr.dtype == object:  # Python ints beyond int64, or mixed types
        flat = [integer(x, what) for x in arr.ravel()]
        bad = [x for x in flat if not info.min <= x <= info.max]
        if bad:
            raise OverflowError(f"{what} holds {bad[0]}, outside [{info.min}, {info.max}]")
        return np.array(flat, dtype=dtype).reshape(arr.shape)
    if arr.dtype.kind not in "iu":
        if arr.size == 0 and arr.dtype.kind == "f":  # np.asarray([]) is float64
            return np.zeros(arr.shape, dtype)
        raise TypeError(f"{what} must hold integers, not {arr.dtype}")
    if arr.size and (arr.min() < info.min or arr.max() > info.max):
        bad = arr.min() if arr.min() < info.min else arr.max()
        raise OverflowError(f"{what} holds {int(bad)}, outside [{info.min}, {info.max}]")
    return np.ascontiguousarray(arr, dtype=dtype)


def i32(values, what="ids"):
    return int_array(values, what, np.int32)


def f32(a, what="values"):
    arr = np.asarray(a)
    if arr.dtype.kind not in "iuf" and not (arr.size == 0):
        raise TypeError(f"{what} must hold numbers, not {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float32)


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


class Callback:
    """A Python function that C calls back: returning False cancels.

    An exception the function raises (KeyboardInterrupt included) cannot cross the C frames
    in between: it cancels the call (the library then returns PRISM_ERR_CANCELLED) and
    check() re-raises it, the original exception, once C has returned.
    """

    def __init__(self, ctype, fn, adapt):
        """ctype: the CFUNCTYPE; adapt(fn, *c_args) calls fn with Python values."""
        self.error = None
        if fn is None:
            self.c_fn = ctype()
            return

        def trampoline(*args):
            try:
                return 0 if adapt(fn, *args) is False else 1
            except BaseException as exc:  # noqa: B036 — KeyboardInterrupt must cancel too
                if self.error is None:
                    self.error = exc
                return 0

        self.c_fn = ctype(trampoline)

    def check(self, rc):
        """Re-raise the callback's exception, else raise PrismError for a failed status."""
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return check(rc)
