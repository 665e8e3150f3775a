"""Owner of a C handle: close() frees it once; context manager support."""
import ctypes


class Handle:
    _free = None  # set by subclasses: the C free function

    def __init__(self):
        self._ptr = ctypes.c_void_p()

    @property
    def ptr(self):
        if not self._ptr:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._ptr

    def close(self):
        if self._ptr:
            type(self)._free(self._ptr)
            self._ptr = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
