"""Numba compilation on first use, and a one-line notice when a long compile starts.

The integrator loops take right-hand sides as first-class function values, which needs
explicit signatures; ``njit(signature)`` compiles at decoration, so importing the solvers
used to compile every loop (DDE, SDE, Rosenbrock, the parallel batch) before a call that
needs one of them. :func:`njit_on_first_use` keeps the explicit signature (one compiled
version for every system, cached on disk) but compiles, or loads from numba's cache, on
the first call.

A real compile (a miss in numba's disk cache) of a few seconds otherwise looks like a
hang. :func:`compiling` names what is being compiled: the first time numba actually
starts compiling inside it (its ``numba:compile`` event, which a cache hit never fires),
one line goes to stderr. Nested contexts print nothing of their own.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager

from numba import njit
from numba.core import event

#: Notices print only for work estimated at this many seconds or more.
NOTICE_THRESHOLD_S = 1.0

_local = threading.local()
_listener_lock = threading.Lock()
_listener_registered = False


class _Notice:
    def __init__(self, what: str, seconds: float):
        self.what, self.seconds, self.printed = what, seconds, False

    def emit(self):
        if self.printed:
            return
        self.printed = True
        if self.seconds >= NOTICE_THRESHOLD_S and not os.environ.get("DYSTS_BENCH_QUIET"):
            print(f"dysts-bench: compiling {self.what}, once, about {self.seconds:.0f} s "
                  "(cached for later runs)", file=sys.stderr, flush=True)


class _CompileListener(event.Listener):
    def on_start(self, ev):
        notice = getattr(_local, "notice", None)
        if notice is not None:
            notice.emit()

    def on_end(self, ev):
        pass


def _ensure_listener():
    global _listener_registered
    with _listener_lock:
        if not _listener_registered:
            event.register("numba:compile", _CompileListener())
            _listener_registered = True


@contextmanager
def compiling(what: str, seconds: float):
    """Announce ``what`` (about ``seconds`` to compile) if numba compiles inside the block.

    Nothing is printed when everything comes from the disk cache, for estimates under
    :data:`NOTICE_THRESHOLD_S`, inside an outer ``compiling`` block (it already spoke), or
    when ``DYSTS_BENCH_QUIET`` is set.
    """
    if getattr(_local, "notice", None) is not None:
        yield
        return
    _ensure_listener()
    _local.notice = _Notice(what, seconds)
    try:
        yield
    finally:
        _local.notice = None


def njit_on_first_use(signature, *, what: str, seconds: float, **options):
    """``numba.njit(signature, **options)`` that compiles on its first call, not at import.

    The dispatcher is numba's own, so compiled callers reference it as usual (compiling a
    caller compiles it too, for the caller's argument types). From Python, the first call
    compiles ``signature`` (or loads it from the disk cache) inside :func:`compiling`
    (``what``, ``seconds``), then disables further compilation exactly as an explicit
    signature does, so arguments such as dispatchers are converted to the signature's types
    instead of starting a specialised compile.
    """
    def wrap(func):
        dispatcher = njit(**options)(func)
        lock = threading.Lock()

        def compile_then_call(*args, **kws):
            with lock:
                if "_compile_for_args" in vars(dispatcher):
                    with compiling(what, seconds):
                        dispatcher.compile(signature)
                    dispatcher.disable_compile()
                    del dispatcher._compile_for_args  # back to numba's own method
            return dispatcher  # what numba's hook returns: the callable it then calls

        # numba's C dispatcher calls ``self._compile_for_args(*args)`` when no compiled
        # version matches a call, then calls what it returns with the same arguments; the
        # instance attribute intercepts only that first miss.
        dispatcher._compile_for_args = compile_then_call
        return dispatcher
    return wrap
