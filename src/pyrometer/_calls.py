"""Deterministic calls mode and ``pyrometer.Profile``, a drop-in for
``cProfile.Profile``.

The hooks and the bookkeeping are C (``pyrometer._native.Tracer``): per-thread
context stacks feeding the profile model's call-path trie; pstats figures are
derived from the trie with cProfile's rules.

Semantics (the same as cProfile's):

- A call is counted when it ends.  Calls still open at ``disable()`` end then.
- ``ncalls`` shows ``total/primitive`` where a primitive call is one made
  while the function was not already on the thread's stack (direct or mutual
  recursion makes non-primitive calls).  ``cumtime`` counts only the
  outermost call of a recursion.
- Generators and coroutines: each resumption (``next``, ``send``, ``throw``,
  an awaited step) is one call, each suspension (``yield``/``await``) ends it;
  time while suspended is nobody's.  A generator resumed while its previous
  step is over is therefore never counted as recursion.
- Builtins (C functions) are timed on their own by default, as cProfile
  does; with ``builtins=False`` (``--no-builtins``) their time is their
  caller's.  As cProfile on
  3.14+, ``pyrometer.Profile.enable(subcalls=True, builtins=True)`` sets both
  flags there each time it is called (run/runcall/runctx included).
- Threads: every thread has its own stack and its own part of the trie; the
  stats are per thread or merged.  On 3.12+ cProfile mixes the events of all
  threads into one stack (wrong callers and times); pyrometer does not.
  ``pyrometer.Profile`` records the thread that enables it on 3.9-3.11 (as
  cProfile does) and every thread on 3.12+ (sys.monitoring is process-wide);
  ``all_threads=True`` records every thread, including later ones, everywhere.
- Two different code objects with the same file, first line and qualified
  name (code re-created by ``exec`` of the same source) share one entry.
- disable() twice, print_stats()/create_stats() before any data and
  dump_stats() to a path that cannot be written raise clear exceptions.
"""
import collections
import marshal
import os
import sys

from . import _env

_HERE = os.path.abspath(__file__)

# cProfile's Profiler.enable(subcalls, builtins): before 3.14 an argument not
# given keeps the constructor's setting; from 3.14 on both default to True and
# are applied on every enable(), so the constructor's builtins=False and
# subcalls=False last only until then.  The drop-in follows the running
# version's cProfile.
_ENABLE_SETS_FLAGS = sys.version_info >= (3, 14)

profiler_entry = collections.namedtuple("profiler_entry", "code callcount reccallcount totaltime inlinetime calls")
profiler_subentry = collections.namedtuple("profiler_subentry", "code callcount reccallcount totaltime inlinetime")


def _native():
    from . import _native as mod

    return mod


# pstats.Stats.sort_arg_dict_default's keys (what `python -m cProfile -s`
# takes), written out: importing pstats costs start-up before the program.
SORT_KEYS = frozenset(
    ("calls", "cumulative", "cumtime", "filename", "module", "ncalls", "pcalls", "line", "name", "nfl",
     "stdname", "time", "tottime")
)


def code_name(name):
    """cProfile's function name (co_name) of a model frame's qualified name:
    its last dotted part ("Markup.__new__" -> "__new__", "f.<locals>.g" ->
    "g").  pstats keys use it, so that a pyrometer .prof lines up with a
    cProfile one of the same code; the model keeps the qualified name."""
    return name.rpartition(".")[2] or name


def label(code):
    if isinstance(code, str):
        return ("~", 0, code)
    return (code.co_filename, code.co_firstlineno, code.co_name)


def _stats_from(funcs, edges, userobjs, factor, subcalls=True):
    """cProfile.Profile.snapshot_stats over our (funcs, edges)."""
    stats = {}
    callersdicts = {}
    keys = {}
    for frame, nc, rc, tt, ct in funcs:
        key = label(userobjs[frame]) if userobjs is not None else userobjs_label_fallback(frame)
        keys[frame] = key
        callers = {}
        callersdicts[frame] = callers
        stats[key] = nc - rc, nc, factor * tt, factor * ct, callers
    if subcalls:
        for caller, callee, nc, rc, tt, ct in edges:
            callers = callersdicts.get(callee)
            if callers is None or caller not in keys:
                continue
            func = keys[caller]
            cc = nc - rc
            tt = factor * tt
            ct = factor * ct
            if func in callers:
                prev = callers[func]
                nc += prev[0]
                cc += prev[1]
                tt += prev[2]
                ct += prev[3]
            callers[func] = nc, cc, tt, ct
    return stats


def userobjs_label_fallback(frame):  # pragma: no cover - userobjs always given
    return ("~", 0, "<frame %d>" % frame)


class Profile:
    """cProfile.Profile's interface on pyrometer's tracer.

    ``Profile(timer=None, timeunit=0.0, subcalls=True, builtins=True)``:
    same arguments and meaning as cProfile (a custom timer returning ints is
    scaled by timeunit, otherwise read as seconds).  Fed the same events with
    the same timer it gives cProfile's numbers, so ``pstats.Stats(profile)``
    and every pstats-based tool work.
    """

    def __init__(self, timer=None, timeunit=0.0, subcalls=True, builtins=True, *, all_threads=None):
        native = _native()
        self._model = native.Profile()
        if all_threads is None:
            all_threads = False  # cProfile's: the enabling thread (3.12+: all, monitoring is global)
        self._subcalls = bool(subcalls)
        self._tracer = native.Tracer(
            self._model,
            timer=timer,
            timeunit=float(timeunit or 0.0),
            subcalls=self._subcalls,
            builtins=bool(builtins),
            all_threads=bool(all_threads),
        )
        self._had_data = False
        # The C method itself, so that (like cProfile) no Python frame of
        # the profiler shows up in the stats.
        self.disable = self._tracer.disable

    # -- cProfile's _lsprof.Profiler part
    if _ENABLE_SETS_FLAGS:

        def enable(self, subcalls=True, builtins=True):
            # cProfile's enable() on 3.14+: both flags take enable()'s
            # values (True unless given), whatever the constructor said, so
            # Profile(builtins=False).runcall(f) times builtins there too.
            self._tracer.builtins = bool(builtins)
            self._subcalls = bool(subcalls)
            self._tracer.enable()
            self._had_data = True

    else:

        def enable(self, subcalls=None, builtins=None):
            if subcalls is not None or builtins is not None:
                raise TypeError("pyrometer.Profile takes subcalls/builtins in the constructor")
            self._tracer.enable()
            self._had_data = True

    def disable(self):
        self._tracer.disable()

    def clear(self):
        if self._tracer.enabled:
            raise RuntimeError("cannot clear a profiler that is enabled; disable() it first")
        self.__init__()

    def getstats(self):
        """cProfile's getstats(): a list of entries (code, callcount,
        reccallcount, totaltime, inlinetime, calls) where calls lists
        subentries (code, callcount, reccallcount, totaltime, inlinetime)
        of the functions this one called."""
        funcs, edges = self._tracer.raw_stats()
        objs = self._tracer.userobjs
        f = self._tracer.factor
        subs = collections.defaultdict(list)
        if self._subcalls:
            for caller, callee, nc, rc, tt, ct in edges:
                subs[caller].append(profiler_subentry(objs[callee], nc, rc, f * ct, f * tt))
        return [
            profiler_entry(objs[fr], nc, rc, f * ct, f * tt, subs.get(fr) or None) for fr, nc, rc, tt, ct in funcs
        ]

    # -- cProfile.Profile's Python part
    def print_stats(self, sort=-1):
        import pstats

        self.create_stats()
        pstats.Stats(self).strip_dirs().sort_stats(sort).print_stats()

    def dump_stats(self, file):
        self.create_stats()
        data = marshal.dumps(self.stats)
        from ._profile import _write_atomic

        _write_atomic(os.fspath(file), data)

    def create_stats(self):
        if not self._had_data:
            raise RuntimeError("no profile data yet: call enable() (or run/runcall) first")
        if self._tracer.enabled:
            self.disable()
        self.snapshot_stats()

    def snapshot_stats(self):
        funcs, edges = self._tracer.raw_stats()
        self.stats = _stats_from(funcs, edges, self._tracer.userobjs, self._tracer.factor, self._subcalls)

    def run(self, cmd):
        import __main__

        d = __main__.__dict__
        return self.runctx(cmd, d, d)

    def runctx(self, cmd, globals, locals):
        self.enable()
        try:
            exec(cmd, globals, locals)
        finally:
            self.disable()
        return self

    def runcall(self, func, /, *args, **kw):
        self.enable()
        try:
            return func(*args, **kw)
        finally:
            self.disable()

    def __enter__(self):
        self.enable()
        return self

    def __exit__(self, *exc_info):
        self.disable()

    # -- pyrometer extras
    @property
    def model(self):
        """The collected profile as a ``pyrometer.load``-style profile (model
        metrics "calls" and "time")."""
        from ._profile import Profile as _P

        if not getattr(self, "_committed", False):
            self._tracer.commit()
            self._model.set_meta("mode", "calls")
            self._committed = True
        return _P(self._model)


# ---- calls mode of `pyrometer run` / pyrometer.profile(mode="calls") -----------


def _calibrate(native, builtins):
    """The profiler's own cost per call, measured once: (total ns per call,
    ns charged to the callee, ns charged to the caller)."""
    import time

    def _empty():
        pass

    n = 20000

    def loop():
        for _ in range(n):
            _empty()

    best_plain = min(_timed(loop, time) for _ in range(3))
    model = native.Profile()
    tr = native.Tracer(model, builtins=builtins, all_threads=False)
    best_prof = None
    for _ in range(3):
        tr.enable()
        try:
            t = _timed(loop, time)
        finally:
            tr.disable()
        best_prof = t if best_prof is None else min(best_prof, t)
    funcs, _ = tr.raw_stats()
    objs = tr.userobjs
    callee = 0.0
    for fr, nc, rc, tt, ct in funcs:
        if objs[fr] is _empty.__code__ and nc:
            callee = tt * tr.factor * 1e9 / nc
    total = max(0.0, (best_prof - best_plain) / n)
    callee = min(callee, total)
    return total, callee, max(0.0, total - callee)


def _timed(fn, time):
    t0 = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - t0


# The tracers of the timeline sessions running (the newest last): where
# pyrometer.mark / pyrometer.span and the GC callback put their spans.
_timelines = []


def _span(name, begin):
    if _timelines:
        _timelines[-1].span(name, begin)


def mark(name):
    """A named instant on the running thread's timeline (--mode timeline);
    nothing otherwise."""
    name = str(name)
    _span(name, True)
    _span(name, False)


class span:
    """``with pyrometer.span("name"):`` — the block as a named slice on the
    running thread's timeline, between the calls around it (--mode
    timeline); nothing otherwise.  Also a decorator."""

    def __init__(self, name):
        self.name = str(name)

    def __enter__(self):
        _span(self.name, True)
        return self

    def __exit__(self, *exc):
        _span(self.name, False)
        return False

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return wrapper


def _gc_span(phase, info):
    """gc.callbacks: each collection a slice "<gc gen N>" on the thread that
    runs it."""
    _span("<gc gen %s>" % info.get("generation", "?"), phase == "start")


class CallsSession:
    """The tracer behind ``pyrometer run --mode calls``: every thread,
    pyrometer's own code out of scope (sys.monitoring DISABLE on 3.12+)."""

    def __init__(self, model, builtins=True, timeline=0, log_args=None):
        self.native = _native()
        self.model = model
        self.builtins = bool(builtins)
        self.timeline = timeline
        # log_args: a regular expression (compiled) searched in the qualified
        # names of the functions whose arguments and return values the
        # timeline shows.
        self.log_args = log_args
        self.overhead = self.native and _calibrate(self.native, self.builtins)
        # pyrometer's own code that runs in the program's threads: this file
        # and the thread-name recorder (called as threading adds and removes
        # threads).
        from . import _threads

        exclude = set()
        for f in (_HERE, os.path.abspath(_threads.__file__)):
            exclude |= {f, f[:-1] + "pyc" if f.endswith(".py") else f}
        self.tracer = self.native.Tracer(model, builtins=self.builtins, all_threads=True, exclude=exclude,
                                         timeline=timeline, log_args=log_args)

    def start(self):
        m = self.model
        m.set_meta("mode", "calls")
        m.set_meta("builtins", "yes" if self.builtins else "no")
        self.tracer.enable()
        if self.timeline:
            # --mode timeline: calls mode whose every call and return is also
            # a timeline event (the newest --timeline-cap kept), with spans.
            import gc

            m.set_meta("timeline", "calls")
            _timelines.append(self.tracer)
            gc.callbacks.append(_gc_span)

    def stop(self):
        if self.tracer in _timelines:
            import gc

            _timelines.remove(self.tracer)
            if _gc_span in gc.callbacks and not _timelines:
                gc.callbacks.remove(_gc_span)
        self.tracer.disable()
        total, callee, caller = self.overhead
        self.tracer.commit(callee, caller)
        m = self.model
        m.set_meta("overhead_ns_per_call", round(total, 1))
        m.set_meta("overhead_callee_ns", round(callee, 1))
        m.set_meta("overhead_caller_ns", round(caller, 1))
        m.set_meta("calls_total", float(self.tracer.calls))
        if self.log_args is not None:
            logged = self.tracer.log_args
            m.set_meta("log_args", self.log_args.pattern)
            m.set_meta("log_args_matched", 1.0 if logged["matched"] else 0.0)
            m.set_meta("log_args_dropped", float(logged["dropped"]))


def pstats_of(native_profile, thread=None):
    """pstats-style dict {(file, line, name): (cc, nc, tt, ct, callers)} of a
    calls profile's model (times in seconds); thread: index or None (merged)."""
    native = _native()
    funcs, edges = native.call_stats(native_profile, "calls", "time", thread)
    frames = native_profile.frames()
    objs = []
    for name, file, line, kind in frames:
        objs.append(name if kind != 0 else _FrameLabel(file, line, code_name(name)))
    return _stats_from(funcs, edges, objs, 1e-9)


class _FrameLabel:
    __slots__ = ("co_filename", "co_firstlineno", "co_name")

    def __init__(self, file, line, name):
        self.co_filename, self.co_firstlineno, self.co_name = file, line, name


class _StatsHolder:
    def __init__(self, stats):
        self.stats = stats

    def create_stats(self):
        pass


def report(native_profile, sort="cumulative", top=30, stream=None, strip_dirs=False, quality=True):
    """The pstats table of a calls profile (cProfile's: ncalls as
    total/primitive, tottime, percall, cumtime, percall,
    filename:lineno(function)), sorted by a pstats key, plus a quality
    line."""
    import io
    import pstats

    out = io.StringIO()
    st = pstats_of(native_profile)
    meta = native_profile.meta
    if not st:
        out.write("pyrometer: no calls were recorded\n")
        return out.getvalue()
    ps = pstats.Stats(_StatsHolder(st), stream=out)
    if strip_dirs:
        ps.strip_dirs()
    if top is None:
        ps.sort_stats(sort).print_stats()
    else:
        ps.sort_stats(sort).print_stats(top)
    ov = meta.get("overhead_ns_per_call")
    if not quality:
        return out.getvalue()
    out.write(
        "quality: mode calls, builtins %s, profiler overhead ~%s ns per call (measured at start, subtracted: "
        "%s ns from the callee, %s ns from the caller), %d threads\n"
        % (
            meta.get("builtins", "no"),
            ov,
            meta.get("overhead_callee_ns"),
            meta.get("overhead_caller_ns"),
            len(native_profile.threads()),
        )
    )
    return out.getvalue()


def _calls_profile_class():
    from ._profile import DeterministicSession

    class CallsProfile(DeterministicSession):
        """A calls-mode profiling session with the interface of
        ``pyrometer.profile`` (start/stop, report, print, write)."""

        def __init__(self, *, builtins=True, timeline=0, log_args=None):
            DeterministicSession.__init__(self)
            self._builtins = bool(builtins)
            self._timeline = timeline
            self._log_args = log_args

        def _new_session(self):
            return CallsSession(self._p, builtins=self._builtins, timeline=self._timeline,
                                log_args=self._log_args)

        def pstats(self, thread=None):
            """{(file, line, name): (cc, nc, tottime, cumtime, callers)}."""
            return pstats_of(self._data(), thread)

        def report(self, *, sort="cumulative", top=30, strip_dirs=False, quality=True, **ignored):
            """The pstats table (every row when top is None)."""
            return report(self._data(), sort=sort, top=top, strip_dirs=strip_dirs, quality=quality)

    return CallsProfile


def CallsProfile(**options):
    return _calls_profile_class()(**options)
