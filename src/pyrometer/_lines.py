"""Deterministic lines mode, ``@pyrometer.lines`` and ``pyrometer.LineProfiler``
(a drop-in for ``line_profiler.LineProfiler``).

The hooks and all bookkeeping are C (``pyrometer._native.LineTracer``,
collect/pm_lines.c); this module picks the targets and formats the report.

Semantics:

- Hits: one per line event of a target code object, as line_profiler counts
  them (a ``for`` header is hit once more than its body: the final test).
- Time: a line runs from its event to the next line event of the same frame
  (or the frame's return/yield/exception exit), callees included.
- Recursion: time spent in a nested activation of the same function is not
  also charged to the outer activation's line that led to it, so a
  function's line times add up to the time of its outermost calls (no
  double counting); hits are exact.
- Generators/coroutines: time while suspended is nobody's.
- Threads: every thread, including threads started later; the report merges
  them, the model keeps them apart (a node per function under each thread's
  root, a node per line below it: metrics "hits" and "time").
- 3.12+: line events are switched on only for target code objects
  (``sys.monitoring.set_local_events``): other code runs at full speed.
  3.9-3.11: the C trace hook; frames of other code get ``f_trace_lines = 0``
  at their first event, but every call still goes through the hook.
- Targets (``--target``): a file or directory path (globs allowed), a module
  (``pkg.mod``), or a function (``pkg.mod:func``, ``file.py:Class.meth``,
  ``pkg.mod.func`` or a bare ``func``/``Class.meth``, matched in non-library
  code).  On 3.9/3.10 code objects carry no qualified name, so a function is
  matched by its last name part there.  Default: the files under the
  program's own directory, never the standard library, site-packages or
  pyrometer itself.
"""
import fnmatch
import functools
import inspect
import linecache
import os
import sys
import threading

from . import _env

_HERE = os.path.dirname(os.path.abspath(__file__))


def _native():
    from . import _native as mod

    return mod


def _warn(message):
    try:
        sys.stderr.write("pyrometer: warning: %s\n" % message)
        sys.stderr.flush()
    except Exception:
        pass


def _real(path):
    try:
        return os.path.realpath(path)
    except Exception:
        return path


def _qualname(code):
    return getattr(code, "co_qualname", code.co_name)


def _is_glob(s):
    return any(c in s for c in "*?[")


# ---- targets ------------------------------------------------------------------------


class _Pattern:
    """One --target: a predicate over (real file, qualified name, code)."""

    def __init__(self, text, root):
        self.text = text
        self.matched = 0
        self.files = None  # set of real paths, or None: any file
        self.dirs = ()  # real directory prefixes (ending in os.sep)
        self.glob = None
        self.func = None  # qualified name, or None: every code of the files
        self.library_ok = True
        self._resolve(text, root)

    def _resolve(self, text, root):
        spec, func = text, None
        if ":" in text and not os.path.exists(text):
            spec, func = text.rsplit(":", 1)
        if func is not None and not func:
            func = None
        if self._path(spec, root) or self._module(spec):
            self.func = func
            return
        if func is None and "." in spec:
            # pkg.mod.func / pkg.mod.Class.meth: the longest importable prefix
            parts = spec.split(".")
            for k in range(len(parts) - 1, 0, -1):
                if self._module(".".join(parts[:k])):
                    self.func = ".".join(parts[k:])
                    return
        # a bare function name (or an unresolvable module/file: never matches
        # a file, so it is reported as matching nothing)
        if func is None and os.sep not in spec and not spec.endswith(".py"):
            self.func = spec
            self.library_ok = False
        else:
            self.files = set()

    def _path(self, spec, root):
        if _is_glob(spec):
            self.glob = os.path.join(root, spec) if not os.path.isabs(spec) else spec
            self.files = None
            self.dirs = ()
            return True
        cands = [spec] if os.path.isabs(spec) else [os.path.join(os.getcwd(), spec), os.path.join(root, spec)]
        for c in cands:
            if os.path.isfile(c):
                self.files = {_real(c)}
                return True
            if os.path.isdir(c):
                self.files = set()
                self.dirs = (_real(c).rstrip(os.sep) + os.sep,)
                return True
        return False

    def _module(self, name):
        if not name or not all(p.isidentifier() for p in name.split(".")):
            return False
        try:
            import importlib.util

            spec = importlib.util.find_spec(name)
        except Exception:
            return False
        if spec is None:
            return False
        files = set()
        if spec.origin and spec.origin not in ("built-in", "frozen") and spec.has_location:
            files.add(_real(spec.origin))
        dirs = tuple(_real(d).rstrip(os.sep) + os.sep for d in (spec.submodule_search_locations or ()))
        if not files and not dirs:
            return False
        # a package: its __init__ and (with no function) every module in it
        self.files = files
        self.dirs = dirs
        return True

    def match(self, real, qual, code, library):
        if not self.library_ok and library:
            return False
        if self.glob is not None:
            if not (fnmatch.fnmatch(real, self.glob) or fnmatch.fnmatch(code.co_filename, self.glob)):
                return False
        elif self.files is not None:
            if real not in self.files and not (self.func is None and any(real.startswith(d) for d in self.dirs)):
                if not (self.func is not None and self.dirs and real in {d + "__init__.py" for d in self.dirs}):
                    return False
        if self.func is not None:
            if qual != self.func:
                # 3.9/3.10: no qualified names; match the last part
                if hasattr(code, "co_qualname") or code.co_name != self.func.rsplit(".", 1)[-1]:
                    return False
        self.matched += 1
        return True


class Selector:
    """select(code) -> bool for the LineTracer: called once per code object."""

    def __init__(self, patterns=(), root=None):
        root = root or os.getcwd()
        self.root = _real(root).rstrip(os.sep) + os.sep
        self.patterns = [_Pattern(p, root) for p in patterns]
        prefixes = set(_env.library_prefixes())
        prefixes.add(_real(_HERE) + os.sep)
        prefixes.add(_HERE + os.sep)
        self.library = tuple(sorted(prefixes))
        self.extra = set()  # code objects added explicitly

    def is_library(self, real, raw):
        return real.startswith(self.library) or raw.startswith(self.library)

    def __call__(self, code):
        if code in self.extra:
            return True
        raw = code.co_filename
        if not raw or raw.startswith("<"):
            return False
        real = _real(raw)
        if real.startswith(_HERE + os.sep) or raw.startswith(_HERE + os.sep):
            return False  # pyrometer itself is never a target
        library = self.is_library(real, raw)
        if self.patterns:
            hit = False
            for p in self.patterns:  # every pattern, so that each one's matches are counted
                if p.match(real, _qualname(code), code, library):
                    hit = True
            return hit
        return real.startswith(self.root) and not library

    def unmatched(self):
        return [p.text for p in self.patterns if not p.matched]


# ---- the report ------------------------------------------------------------------------


def _unit_label(unit):
    return "%g" % unit


def collect(native_profile, extra_frames=()):
    """{frame: [(line, hits, time_ns)]} of a lines profile's model (merged
    over threads, aggregated in C) plus the frames' (name, file, first line)."""
    rows = _native().line_rows(native_profile)
    frames = native_profile.frames()
    per = {}
    for f in extra_frames:
        per.setdefault(f, [])
    for frame, line, hits, t in rows:
        per.setdefault(frame, []).append((line, hits, t))
    return per, frames


def _source_block(file, first):
    lines = linecache.getlines(file)
    if not lines or first < 1 or first > len(lines):
        return None
    try:
        block = inspect.getblock(lines[first - 1 :])
    except Exception:
        block = lines[first - 1 : first]
    return block


def format_report(per, frames, output_unit=1e-6, stripzeros=False, sort=False, summarize=False):
    """line_profiler's report layout."""
    out = ["Timer unit: %s s\n\n" % _unit_label(output_unit)]
    scale = 1e-9 / output_unit
    items = []
    for frame, rows in per.items():
        name, file, first = frames[frame][0], frames[frame][1], frames[frame][2]
        total_ns = sum(r[2] for r in rows)
        items.append((total_ns, file, first, name, rows))
    if sort:
        items.sort(key=lambda it: it[0])
    else:
        items.sort(key=lambda it: (it[1], it[2], it[3]))
    for total_ns, file, first, name, rows in items:
        if stripzeros and not total_ns:
            continue
        out.append("Total time: %g s\n" % (total_ns * 1e-9))
        out.append("File: %s\n" % file)
        out.append("Function: %s at line %d\n" % (name, first))
        by_line = {r[0]: r for r in rows}
        template = "%6s %9s %12s %8s %8s  %-s"
        header = template % ("Line #", "Hits", "Time", "Per Hit", "% Time", "Line Contents")
        out.append("\n" + header + "\n" + "=" * len(header) + "\n")
        all_lines = linecache.getlines(file)
        block = None if name == "<module>" else _source_block(file, first)
        if not all_lines:
            out.append("\nCould not find file %s\nAre you sure you are running this program from the same "
                       "directory\nthat you ran the profiler from?\nContinuing without the function's contents.\n"
                       % file)
        numbers = set(by_line)
        if block is not None:
            numbers.update(range(first, first + len(block)))
        numbers = sorted(numbers)
        texts = [all_lines[n - 1].rstrip("\n").rstrip("\r") if 0 < n <= len(all_lines) else "" for n in numbers]
        for n, text in zip(numbers, texts):
            r = by_line.get(n)
            if r is None or not r[1] and not r[2]:
                out.append(template % (n, "", "", "", "", text) + "\n")
                continue
            _, hits, t = r
            pct = 100.0 * t / total_ns if total_ns else 0.0
            out.append(
                template
                % (n, hits, "%5.1f" % (t * scale), "%5.1f" % (t * scale / hits if hits else 0.0), "%5.1f" % pct, text)
                + "\n"
            )
        out.append("\n\n")
    if summarize:
        for total_ns, file, first, name, rows in sorted(items, key=lambda it: it[0]):
            out.append("%6.2f seconds - %s:%s - %s\n" % (total_ns * 1e-9, file, first, name))
    return "".join(out)


def report(native_profile, output_unit=1e-6):
    per, frames = collect(native_profile)
    meta = native_profile.meta
    if not per:
        text = "pyrometer: no line of a target function ran\n"
    else:
        text = format_report(per, frames, output_unit)
    text += "quality: mode lines, %d functions, %d threads, %s targets; times include the tracer's own cost " \
            "per line event (not subtracted)\n" % (len(per), len(native_profile.threads()), meta.get("targets", "?"))
    return text


# ---- lines mode of `pyrometer run` --------------------------------------------------------

_active = None  # the running LinesSession (for @pyrometer.lines)
_active_lock = threading.Lock()


class LinesSession:
    def __init__(self, model, targets=(), root=None):
        self.native = _native()
        self.model = model
        self.selector = Selector(targets, root)
        self.tracer = self.native.LineTracer(model, select=self.selector, all_threads=True)

    def add_function(self, func):
        code = _code_of(func)
        self.selector.extra.add(code)
        self.tracer.add_code(code)

    def start(self):
        global _active
        m = self.model
        m.set_meta("mode", "lines")
        m.set_meta("targets", " ".join(p.text for p in self.selector.patterns) or "default")
        for f in _pending_decorated():
            self.add_function(f)
        self.tracer.enable()
        with _active_lock:
            _active = self

    def stop(self):
        global _active
        with _active_lock:
            if _active is self:
                _active = None
        self.tracer.disable()
        self.tracer.commit()
        for text in self.selector.unmatched():
            _warn("target %r matched no code that ran: nothing was profiled for it" % text)


def _code_of(func):
    f = inspect.unwrap(func) if callable(func) else func
    f = getattr(f, "__func__", f)
    code = getattr(f, "__code__", None)
    if code is None:
        raise TypeError("cannot profile the lines of %r: not a Python function" % (func,))
    return code


def _lines_profile_class():
    from ._profile import DeterministicSession

    class LinesProfile(DeterministicSession):
        """A lines-mode profiling session with the interface of
        ``pyrometer.profile`` (start/stop, report, print, write)."""

        def __init__(self, *, targets=(), root=None):
            DeterministicSession.__init__(self)
            self._targets = list(targets)
            self._root = root

        def _new_session(self):
            return LinesSession(self._p, self._targets, self._root)

        def line_stats(self):
            """{(file, first line, function): [(line, hits, time_s)]}."""
            return _timings(self._data())

        def report(self, **ignored):
            return report(self._data())

    return LinesProfile


def LinesProfile(**options):
    return _lines_profile_class()(**options)


def _timings(native_profile, extra_frames=(), scale=1e-9):
    per, frames = collect(native_profile, extra_frames)
    out = {}
    for frame, rows in per.items():
        name, file, first = frames[frame][0], frames[frame][1], frames[frame][2]
        out[(file, first, name)] = [(ln, h, t * scale) for ln, h, t in rows]
    return out


# ---- pyrometer.LineProfiler ------------------------------------------------------------


class LineStats:
    """line_profiler.LineStats: timings {(file, first line, name): [(line,
    hits, time)]} with time in units of ``unit`` seconds."""

    def __init__(self, timings, unit):
        self.timings = timings
        self.unit = unit


class LineProfiler:
    """line_profiler.LineProfiler's interface on pyrometer's line tracer.

    ``LineProfiler(*functions)``; ``add_function(f)``, ``add_module(m)``,
    ``enable()``/``disable()`` (also ``enable_by_count``/
    ``disable_by_count``, with statement), ``runcall``/``run``/``runctx``,
    ``print_stats(stream=None, output_unit=None, stripzeros=False)``,
    ``get_stats()``, ``dump_stats(path)``, and decorator use
    (``@profiler``: the function is added and profiled while it runs).
    Every thread is traced while enabled.  ``disable()`` when not enabled
    and ``print_stats()``/``get_stats()`` before any profiling raise
    RuntimeError."""

    def __init__(self, *functions):
        native = _native()
        self._model = native.Profile()
        self._model.set_meta("mode", "lines")
        self._tracer = native.LineTracer(self._model, select=None, all_threads=True)
        self.functions = []
        self._frames = []
        self._count = 0
        self._had_data = False
        for f in functions:
            self.add_function(f)

    def add_function(self, func):
        code = _code_of(func)
        self._frames.append(self._tracer.add_code(code))
        self.functions.append(func)

    def add_module(self, mod):
        n = 0
        for item in vars(mod).values():
            if inspect.isclass(item):
                for v in vars(item).values():
                    v = getattr(v, "__func__", v)
                    if inspect.isfunction(v) and v.__module__ == mod.__name__:
                        self.add_function(v)
                        n += 1
            elif inspect.isfunction(item) and item.__module__ == mod.__name__:
                self.add_function(item)
                n += 1
        return n

    def enable(self):
        self._tracer.enable()
        self._had_data = True

    def disable(self):
        self._tracer.disable()

    def enable_by_count(self):
        if self._count == 0:
            self.enable()
        self._count += 1

    def disable_by_count(self):
        if self._count > 0:
            self._count -= 1
            if self._count == 0:
                self.disable()

    def __enter__(self):
        self.enable_by_count()
        return self

    def __exit__(self, *exc):
        self.disable_by_count()

    def __call__(self, func):
        self.add_function(func)
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def awrapper(*args, **kw):
                self.enable_by_count()
                try:
                    return await func(*args, **kw)
                finally:
                    self.disable_by_count()

            return awrapper

        @functools.wraps(func)
        def wrapper(*args, **kw):
            self.enable_by_count()
            try:
                return func(*args, **kw)
            finally:
                self.disable_by_count()

        return wrapper

    def runcall(self, func, /, *args, **kw):
        self.enable_by_count()
        try:
            return func(*args, **kw)
        finally:
            self.disable_by_count()

    def runctx(self, cmd, globals, locals):
        self.enable_by_count()
        try:
            exec(cmd, globals, locals)
        finally:
            self.disable_by_count()
        return self

    def run(self, cmd):
        import __main__

        d = __main__.__dict__
        return self.runctx(cmd, d, d)

    def _commit(self):
        if not self._had_data:
            raise RuntimeError("no line profile data yet: call enable() (or runcall, or a decorated function) first")
        self._tracer.commit()

    def get_stats(self):
        self._commit()
        return LineStats(_timings(self._model, self._frames, scale=1), 1e-9)

    def print_stats(self, stream=None, output_unit=None, stripzeros=False, details=True, summarize=False,
                    sort=False, rich=False):
        self._commit()
        per, frames = collect(self._model, self._frames)
        text = format_report(per, frames, output_unit or 1e-6, stripzeros=stripzeros, sort=sort,
                             summarize=summarize)
        (stream or sys.stdout).write(text)

    def dump_stats(self, filename):
        import pickle

        data = pickle.dumps(self.get_stats(), pickle.HIGHEST_PROTOCOL)
        from ._profile import _write_atomic

        _write_atomic(os.fspath(filename), data)

    @property
    def model(self):
        """The collected lines as a ``pyrometer.load``-style profile."""
        from ._profile import ProfileData

        self._commit()
        return ProfileData(self._model)

    @property
    def enabled(self):
        return self._tracer.enabled


# ---- @pyrometer.lines -------------------------------------------------------------------

_decorated = []  # functions decorated before a lines session started
_decorated_lock = threading.Lock()


def _pending_decorated():
    with _decorated_lock:
        return list(_decorated)


class _Lines:
    """``@pyrometer.lines``: marks a function for line profiling.

    Under ``pyrometer run --mode lines`` the function joins the targets (its
    lines appear in the report whatever --target says).  Elsewhere each call
    is line-profiled by a process-wide ``pyrometer.LineProfiler``,
    ``pyrometer.lines.profiler``; ``pyrometer.lines.print_stats()`` prints
    it."""

    def __init__(self):
        self._profiler = None

    @property
    def profiler(self):
        if self._profiler is None:
            self._profiler = LineProfiler()
        return self._profiler

    def __call__(self, func):
        code = _code_of(func)
        with _decorated_lock:
            _decorated.append(func)
        session = _active
        if session is not None:
            session.add_function(func)
        outer = self

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def awrapper(*args, **kw):
                if _active is not None:
                    return await func(*args, **kw)
                prof = outer._attach(func, code)
                prof.enable_by_count()
                try:
                    return await func(*args, **kw)
                finally:
                    prof.disable_by_count()

            return awrapper

        @functools.wraps(func)
        def wrapper(*args, **kw):
            if _active is not None:
                return func(*args, **kw)
            prof = outer._attach(func, code)
            prof.enable_by_count()
            try:
                return func(*args, **kw)
            finally:
                prof.disable_by_count()

        return wrapper

    def _attach(self, func, code):
        prof = self.profiler
        if func not in prof.functions:
            prof.add_function(func)
        return prof

    def print_stats(self, stream=None, output_unit=None, stripzeros=False):
        self.profiler.print_stats(stream=stream, output_unit=output_unit, stripzeros=stripzeros)

    def get_stats(self):
        return self.profiler.get_stats()


lines = _Lines()
