"""Memory mode: ``pyrometer.profile(mode="memory")`` and ``pyrometer run
--mode memory``.  The sampling, the accounting and the peak snapshot are C
(collect/pm_alloc.c, bind/pm_bind_memory.c); this module checks options,
runs a session; what a memory profile shows is _memview.py."""
import math
import os

from ._memview import check_memory_view, timeline
from ._profile import ProfileData, name_threads, profile

# Bytes between samples, on average.  64 KiB keeps a 50 MB site whose small
# objects alternate with freed temporaries within about 8% in the worst of 30
# profiles (512 KiB: 14-23%; benchmarks/memory/accuracy.py) at no measurable
# cost: a sample is a stack read, a fraction of a microsecond, and the hook
# layer every block passes through costs the same at any rate.
DEFAULT_RATE = 64 * 1024
MAX_RATE = 10 ** 15


def check_memory_rate(value):
    """Mean bytes between samples: a whole number from 1 (every allocation)
    to 10**15.  ValueError otherwise."""
    if isinstance(value, bool):
        value = None
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = None
    if rate is None or not math.isfinite(rate) or rate != int(rate) or not (1 <= rate <= MAX_RATE):
        raise ValueError(
            "memory rate must be a whole number of bytes from 1 to %d, not %r" % (MAX_RATE, value)
        )
    return int(rate)


_running = []


def _stop_at_exit():
    """A session left running stops before the interpreter finalizes: the
    hooks must not read the stacks of thread states being torn down."""
    for prof in list(_running):
        try:
            prof.stop()
        except Exception:
            pass


def _at_exit(prof):
    if not _running and not getattr(_at_exit, "registered", False):
        import atexit

        atexit.register(_stop_at_exit)
        _at_exit.registered = True
    _running.append(prof)


class MemoryProfile(profile):
    """``pyrometer.profile(mode="memory", memory_rate=65536, memory_view="peak")``:
    samples allocations (every PyMem domain) once per ``memory_rate`` bytes
    on average, and keeps per stack what was allocated, what is live at the
    end, what was live at the peak of the heap, and what leaked since the
    start or the last ``checkpoint()``.  ``memory_rate=1`` records every
    allocation.  ``native_memory=True`` also samples what extension modules
    and the libraries they use allocate with malloc, calloc, realloc, the
    aligned allocators and anonymous mmap: those stacks continue with the
    native functions that asked, down to the allocator, and the report
    gives native bytes apart from Python's."""

    def __init__(self, func=None, *, mode="memory", memory_rate=DEFAULT_RATE, memory_view="peak",
                 native_memory=False):
        if mode != "memory":
            raise ValueError("MemoryProfile is mode='memory'")
        if not isinstance(native_memory, bool):
            raise ValueError("native_memory must be True or False, not %r" % (native_memory,))
        self._options = dict(mode="memory", memory_rate=check_memory_rate(memory_rate),
                             memory_view=check_memory_view(memory_view), native_memory=native_memory)
        ProfileData.__init__(self)
        self._sampler = None
        self._recorder = None
        self._state = "new"
        self._pid = None

    def _new_sampler(self, native):
        if native.MemoryProfiler.active():
            raise RuntimeError("another memory profile is already running")
        self._p.set_meta("memory_view", self._options["memory_view"])
        return native.MemoryProfiler(self._p, rate=float(self._options["memory_rate"]),
                                     native=self._options["native_memory"])

    def start(self, command=None):
        profile.start(self, command)
        _at_exit(self)
        return self

    @property
    def timeline(self):
        """[(seconds, heap estimate, RSS)]: see pyrometer._memview.timeline."""
        return timeline(self)

    def checkpoint(self):
        """Leaks are counted from now on: what is allocated after this call
        and still live when the profile stops."""
        if self._state == "running":
            self._sampler.checkpoint()

    def stop(self):
        if self._state != "running":
            return self
        self._state = "stopped"
        if self in _running:
            _running.remove(self)
        try:
            if os.getpid() == self._pid:  # a forked child has no session
                self._sampler.stop()
        finally:
            self._running = False
            self._recorder.stop()
            name_threads(self._p, self._recorder)
        return self


profile.by_mode["memory"] = MemoryProfile
