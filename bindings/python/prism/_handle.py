"""Owner of a C handle: close() frees it once; context manager support."""
import ctypes


class Handle:
    _free = None  # set by subclasses: the C free function

    def __init__(self):
        self._ptr = ctypes.c_void_p()

    @property
    def ptr(self):
        owner = getattr(self, "_owner", None)
        if not self._ptr or (owner is not None and not owner._ptr):
            raise ValueError(f"{type(self).__name__} is closed")
        return self._ptr

    @classmethod
    def _borrow(cls, raw, owner):
        """A view of a handle that owner frees: close() only detaches, owner is kept alive."""
        obj = cls.__new__(cls)
        Handle.__init__(obj)
        obj._ptr = ctypes.c_void_p(raw)
        obj._owner = owner
        return obj

    def close(self):
        if self._ptr:
            if getattr(self, "_owner", None) is None:
                type(self)._free(self._ptr)
            self._ptr = ctypes.c_void_p()
            self._owner = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
