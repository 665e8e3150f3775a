"""The C API, one prototype per exported function (argtypes and restype always set).

Handles are c_void_p: ctypes' default int return type would truncate pointers.
"""
import ctypes
from ctypes import (CFUNCTYPE, POINTER, c_char_p, c_double, c_float, c_int, c_int32,
                    c_int64, c_size_t, c_uint32, c_uint64, c_void_p)

from . import _lib

lib = _lib.load()


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


# common.h
prism_status_str = _fn("prism_status_str", c_char_p, c_int)
prism_status_name = _fn("prism_status_name", c_char_p, c_int)
prism_last_error = _fn("prism_last_error", c_char_p)
prism_last_error_status = _fn("prism_last_error_status", c_int)
prism_version_number = _fn("prism_version_number", c_int)
prism_version_string = _fn("prism_version_string", c_char_p)
prism_log_fn = CFUNCTYPE(None, c_int, c_char_p, c_void_p)
prism_log_set = _fn("prism_log_set", None, prism_log_fn, c_void_p)
prism_log_set_level = _fn("prism_log_set_level", None, c_int)
prism_set_num_threads = _fn("prism_set_num_threads", c_int, c_int)
prism_get_num_threads = _fn("prism_get_num_threads", c_int)
prism_cpu_features = _fn("prism_cpu_features", c_char_p)

__all__ = [n for n in dir() if n.startswith("prism_")]
