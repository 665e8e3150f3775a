"""Locating and loading the libprism shared library."""
import ctypes
import ctypes.util
import os

_SONAME = "libprism.so.0"


def _candidates():
    env = os.environ.get("PRISM_LIB_PATH")
    if env:
        if os.path.isdir(env):
            yield os.path.join(env, _SONAME)
            yield os.path.join(env, "libprism.so")
        else:
            yield env
        return  # an explicit path is never second-guessed
    found = ctypes.util.find_library("prism")
    if found:
        yield found
    yield _SONAME


def load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as exc:
            errors.append(f"{path}: {exc}")
    raise OSError("cannot load libprism (set PRISM_LIB_PATH to the library or its folder): "
                  + "; ".join(errors))
