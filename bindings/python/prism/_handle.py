"""Owners of C handles: the lifetime, borrowing and thread rules every wrapper shares.

- close() frees the C object once (also on garbage collection); any later use raises
  ValueError, never reaches C.
- Borrowing: an object that uses another's C object (a Session its Bart; an Explainer the
  Tokenizer and Bart it was made from; a view its owner) holds a reference to it. Closing
  the lender marks it closed for its own use at once, but its C object is freed only when
  the last borrower is closed too, so a borrower never sees freed memory.
- Threads: every call holds the object for its duration. Objects whose C side is
  one-thread-at-a-time (`_exclusive`: Session, Explainer) run one call at a time; the
  others (Tokenizer, Bart, Ranker) run calls concurrently. close() waits for the calls in
  flight on any object. A callback cannot call back into, or close, the object that is
  running it (RuntimeError: that would deadlock or free memory still in use).
"""
import ctypes
import threading


class Handle:
    _free = None  # set by subclasses: the C free function
    _exclusive = False  # True: the C object serves one call at a time

    def __init__(self):
        self._ptr = ctypes.c_void_p()
        self._owned = True  # False for a view of a C object its owner frees
        self._cond = threading.Condition(threading.Lock())
        self._calls = {}  # thread id -> calls in flight on that thread
        self._writer = None  # the thread holding exclusive use
        self._closed = False
        self._refs = 1  # this object's own reference plus one per open borrower
        self._lenders = []  # handles whose C objects this one uses

    def _name(self):
        return type(self).__name__

    def _borrow_from(self, *lenders):
        """Keep each lender's C object alive until this object is freed."""
        for lender in lenders:
            with lender._cond:
                if lender._closed:
                    raise ValueError(f"{lender._name()} is closed")
                lender._refs += 1
            self._lenders.append(lender)

    @classmethod
    def _view(cls, raw, owner):
        """A handle on a C object that `owner` frees (a borrowed view): it keeps owner alive."""
        obj = cls.__new__(cls)
        Handle.__init__(obj)
        obj._owned = False
        obj._borrow_from(owner)
        obj._ptr = ctypes.c_void_p(raw)
        return obj

    def _use(self, exclusive=None):
        """Hold the object for one call: `with obj._use() as ptr:`."""
        return _Use(self, self._exclusive if exclusive is None else exclusive)

    def _enter(self, exclusive):
        me = threading.get_ident()
        with self._cond:
            if not self._closed and me in self._calls and (exclusive or self._writer == me):
                raise RuntimeError(f"{self._name()} is already running a call on this thread "
                                   "(a callback cannot call back into the object running it)")
            while not self._closed and (self._writer is not None or (exclusive and self._calls)):
                self._cond.wait()
            if self._closed or not self._ptr:
                raise ValueError(f"{self._name()} is closed")
            if exclusive:
                self._writer = me
            self._calls[me] = self._calls.get(me, 0) + 1
        return self._ptr

    def _leave(self):
        me = threading.get_ident()
        with self._cond:
            if self._calls[me] == 1:
                del self._calls[me]
            else:
                self._calls[me] -= 1
            if self._writer == me:
                self._writer = None
            self._cond.notify_all()

    @property
    def closed(self):
        return self._closed

    @property
    def ptr(self):
        """The C pointer, for calling _capi directly (ValueError once closed). The caller must
        keep the object open, and single-threaded objects to one thread, while C uses it."""
        with self._use() as p:
            return p

    def close(self):
        """Release the C object once no call is in flight and no borrower needs it."""
        me = threading.get_ident()
        with self._cond:
            if self._closed:
                return
            if me in self._calls:
                raise RuntimeError(f"cannot close {self._name()} from inside one of its own "
                                   "calls (a callback)")
            self._closed = True
            while self._calls:
                self._cond.wait()
            self._cond.notify_all()  # callers waiting for exclusive use now see it closed
        self._release()

    def _release(self):
        with self._cond:
            self._refs -= 1
            if self._refs > 0:
                return
            ptr, self._ptr = self._ptr, ctypes.c_void_p()
        if ptr and self._owned:
            type(self)._free(ptr)
        lenders, self._lenders = self._lenders, []
        for lender in lenders:
            lender._release()

    def __reduce__(self):
        # A C handle is an address in this process: it cannot travel to another one.
        raise TypeError(f"{type(self).__name__} holds a libprism handle and cannot be pickled; "
                        "load it in each process (prism.dask loads one per worker)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class _Use:
    """The context manager of Handle._use (a class: cheaper than a generator per call)."""

    __slots__ = ("handle", "exclusive")

    def __init__(self, handle, exclusive):
        self.handle, self.exclusive = handle, exclusive

    def __enter__(self):
        return self.handle._enter(self.exclusive)

    def __exit__(self, *exc):
        self.handle._leave()
