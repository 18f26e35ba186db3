"""Memory mode: ``pyrometer.profile(mode="memory")`` and ``pyrometer run
--mode memory``.  The sampling, the accounting and the peak snapshot are C
(collect/pm_alloc.c, bind/pm_bind_memory.c); this module checks options,
runs a session and words the report's header."""
import math
import os

from ._profile import ProfileData, name_threads, profile

DEFAULT_RATE = 512 * 1024  # bytes between samples, on average
MAX_RATE = 10 ** 15

# --memory-view -> the metric holding that view (Go's heap profile names).
VIEWS = {
    "peak": "peak_space",
    "live": "inuse_space",
    "allocated": "alloc_space",
    "leaks": "leak_space",
}
_TITLES = {
    "peak_space": "live at the peak",
    "inuse_space": "live at the end",
    "alloc_space": "allocated",
    "leak_space": "leaked (allocated since the start or the last checkpoint, still live)",
}


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


def check_memory_view(view):
    if view not in VIEWS:
        raise ValueError("memory view must be one of %s, not %r" % (", ".join(VIEWS), view))
    return view


def view_metric(meta):
    """The metric of the view a memory profile was asked to show."""
    return VIEWS.get(meta.get("memory_view"), "peak_space")


def timeline(data):
    """[(seconds, heap estimate in bytes, RSS in bytes or -1)] of a memory
    profile (ProfileData): a point every few milliseconds of allocation,
    the last one at the end."""
    text = data.meta.get("memory_timeline", "")
    points = []
    for item in text.split(";") if text else ():
        t, heap, rss = item.split()
        points.append((float(t), int(heap), int(rss)))
    return points


def _size(n):
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024


def _where(stack, limit=3):
    frames = list(stack)[::-1][:limit]
    text = " <- ".join("%s (%s:%d)" % (f[0], os.path.basename(f[1]), f[2]) for f in frames)
    if len(stack) > limit:
        text += " <- ..."
    return text or "(no Python frame)"


def _top_stacks(data, metric, n):
    totals = {}
    for per_thread in data.stacks(metric).values():
        for stack, value in per_thread.items():
            totals[stack] = totals.get(stack, 0) + value
    rows = sorted(((v, s) for s, v in totals.items() if v > 0), key=lambda r: -r[0])
    return rows[:n]


def report(data, metric=None, top=15, **options):
    """The memory report: the peak (heap estimate and RSS, when), the call
    tree of the chosen view, the top allocating stacks and the leaks."""
    meta = data.meta
    metric = metric or view_metric(meta)
    rss_peak = meta.get("memory_peak_rss", -1)
    rss_max = meta.get("memory_rss_max", -1)
    rate = meta.get("memory_rate", 0)
    lines = [
        "pyrometer memory profile",
        "  peak        %s (heap estimate) at %.3f s%s"
        % (
            _size(meta.get("memory_peak_bytes", 0)),
            meta.get("memory_peak_s", 0.0),
            ", RSS then %s" % _size(rss_peak) if rss_peak >= 0 else "",
        ),
        "  RSS max     %s" % (_size(rss_max) if rss_max >= 0 else "unknown"),
        "  allocated   %s in %d allocations (estimated)"
        % (_size(meta.get("memory_allocated_bytes", 0)), meta.get("memory_allocated_count", 0)),
        "  live at end %s; leaked %s" % (_size(meta.get("memory_live_bytes", 0)), _size(meta.get("memory_leak_bytes", 0))),
        "  sampling    %s"
        % (
            "every allocation"
            if rate <= 1
            else "one sample per %s allocated on average, %d samples" % (_size(rate), meta.get("memory_samples", 0))
        ),
        "",
        "Call tree: %s (%s)" % (_TITLES.get(metric, metric), metric),
    ]
    head = "\n".join(lines) + "\n"
    tree = data._tree_report(metric=metric, top=0, **options)
    tail = []
    for title, m in (("Top allocating stacks", "alloc_space"), ("Leaks", "leak_space")):
        if m not in data.metrics:
            continue
        rows = _top_stacks(data, m, top)
        tail.append("%s (%s)" % (title, m))
        if not rows:
            tail.append("  none")
        width = max(40, int(options.get("width") or 100))
        for value, stack in rows:
            row = "  %10s  %s" % (_size(value), _where(stack))
            tail.append(row if len(row) <= width else row[: width - 1] + "\u2026")
        tail.append("")
    return head + tree + "\n" + "\n".join(tail)


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
    """``pyrometer.profile(mode="memory", memory_rate=524288, memory_view="peak")``:
    samples allocations (every PyMem domain) once per ``memory_rate`` bytes
    on average, and keeps per stack what was allocated, what is live at the
    end, what was live at the peak of the heap, and what leaked since the
    start or the last ``checkpoint()``.  ``memory_rate=1`` records every
    allocation."""

    def __init__(self, func=None, *, mode="memory", memory_rate=DEFAULT_RATE, memory_view="peak"):
        if mode != "memory":
            raise ValueError("MemoryProfile is mode='memory'")
        self._options = dict(mode="memory", memory_rate=check_memory_rate(memory_rate),
                             memory_view=check_memory_view(memory_view))
        ProfileData.__init__(self)
        self._sampler = None
        self._recorder = None
        self._state = "new"
        self._pid = None

    def _new_sampler(self, native):
        if native.MemoryProfiler.active():
            raise RuntimeError("another memory profile is already running")
        self._p.set_meta("memory_view", self._options["memory_view"])
        return native.MemoryProfiler(self._p, rate=float(self._options["memory_rate"]))

    def start(self, command=None):
        profile.start(self, command)
        _at_exit(self)
        return self

    @property
    def timeline(self):
        """[(seconds, heap estimate, RSS)]: see pyrometer._memory.timeline."""
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
