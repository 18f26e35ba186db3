"""The public API: ``profile`` (a profiling session, context manager and
decorator) and ``ProfileData`` (a collected profile: report, files, plain data).

Everything heavy — sampling, aggregating, writing files — happens in the C
extension ``pyrometer._native``; this module only validates arguments and
turns the native tables into plain Python data."""
import collections
import functools
import math
import os
import sys
import threading
import time

from . import _env, _memview, _threads

ThreadInfo = collections.namedtuple("ThreadInfo", "ident native_id name")
ThreadInfo.__doc__ = """A thread of a profile: Python ident, OS thread id (0 if unknown), name."""
Allocations = collections.namedtuple("Allocations", "thread stack start end freed bytes count")
Allocations.__doc__ = """Sampled allocations of a memory profile, grouped by stack and time:
those charged to ``stack`` (of ``thread``) made between ``start`` and
``end`` (seconds since the profile started; one time bucket), freed in the
bucket ``freed`` = (start, end), or None when still live at the end;
``bytes`` and ``count`` are the estimates they stand for."""

FORMATS = ("pyro", "collapsed", "text", "html")
SPAN_FORMATS = ("otlp", "zipkin")  # a timeline's calls as OpenTelemetry / Zipkin spans
MODES = ("wall", "cpu", "gil")
MAX_RATE = 100000.0  # Hz; above this the sampler would only measure itself
# The metadata key under which `pyrometer heap -o` stores its report (compact
# JSON; see cli/heap.py) in an otherwise empty profile.
HEAP_META_KEY = "heap_report"

EXTENSIONS = {
    ".pyro": "pyro",
    ".collapsed": "collapsed",
    ".folded": "collapsed",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
}



def _add_native_formats():
    """Every format of the native table (output/pm_formats.c) joins FORMATS
    and EXTENSIONS, so a format added in C needs no change here."""
    global FORMATS
    try:
        from . import _native as mod

        rows = mod.Profile.formats()
    except Exception:
        return
    names = list(FORMATS)
    for name, exts, _description, _readable in rows:
        if name not in names:
            names.append(name)
        for ext in exts.split():
            EXTENSIONS.setdefault(ext, name)
    FORMATS = tuple(names)


_add_native_formats()

_REPORT_KEYS = ("metric", "show_all", "threshold", "color", "top", "width")


def _native():
    try:
        from . import _native as mod
    except ImportError as exc:
        raise ImportError("pyrometer's C extension cannot be loaded: %s" % exc) from None
    return mod


# ---- argument checks shared with the command line ------------------------


def check_rate(rate):
    try:
        value = float(rate)
    except (TypeError, ValueError):
        raise ValueError("rate must be a number of samples per second, not %r" % (rate,)) from None
    if not math.isfinite(value) or value <= 0 or value > MAX_RATE:
        raise ValueError("rate must be above 0 and at most %d Hz, not %s" % (MAX_RATE, rate))
    return value


def check_mode(mode):
    if mode not in MODES:
        raise ValueError("mode must be one of %s, not %r" % (", ".join(MODES), mode))
    return mode


def _enable_async(sampler):
    """asyncio task stacks (async_tasks=True): asyncio is imported and its
    task layout calibrated only then."""
    from . import _async

    try:
        info, loop = _async.calibration()
        try:
            sampler.set_async(info)
        finally:
            _async.finish(info, loop)
    except (_async.AsyncUnsupported, RuntimeError) as e:
        raise RuntimeError("cannot profile asyncio tasks here: %s" % e) from None


def check_timeline(timeline):
    if isinstance(timeline, bool) or not isinstance(timeline, int) or timeline < 0:
        raise ValueError("timeline capacity must be an integer >= 0, not %r" % (timeline,))
    return timeline


def format_for_path(path, format=None, strict=True):
    """The output format for path: format when given, else from the file
    extension (.pyro, .collapsed/.folded, .txt).  ValueError otherwise
    (None when not strict)."""
    if format is not None:
        if format not in FORMATS:
            raise ValueError("unknown format %r (choose from %s)" % (format, ", ".join(FORMATS)))
        return format
    # Longest matching suffix, so ".speedscope.json" and ".pb.gz" work.
    lower = os.fsdecode(os.fspath(path)).lower()
    for ext in sorted(EXTENSIONS, key=len, reverse=True):
        if lower.endswith(ext):
            return EXTENSIONS[ext]
    if not strict:
        return None
    try:
        raise KeyError(lower)
    except KeyError:
        raise ValueError(
            "cannot tell the format of %r from its extension "
            "(use .pyro, .collapsed, .folded, .txt or .html, or give the format: %s)"
            % (os.fspath(path), ", ".join(FORMATS))
        ) from None


def _write_atomic(path, data):
    """Writes bytes to path as the native writers do (output/pm_file.c):
    a regular file is replaced atomically (a temporary renamed over it),
    symlinks are followed, a FIFO or character device gets the bytes
    streamed, "-" is standard output.  OSError("cannot write PATH: reason")
    on failure."""
    _native().write_file(os.fspath(path), bytes(data))


def _is_tty(stream):
    try:
        return stream.isatty()
    except Exception:
        return False


def default_color(stream):
    """Colour only for a terminal, and never when NO_COLOR is set."""
    return _is_tty(stream) and not os.environ.get("NO_COLOR")


def default_width(stream):
    if _is_tty(stream):
        try:
            return max(40, os.get_terminal_size(stream.fileno()).columns)
        except (OSError, ValueError, AttributeError):
            pass
    try:
        return max(40, int(os.environ["COLUMNS"]))
    except (KeyError, ValueError):
        return 100


# ---- a collected profile ----------------------------------------------------


# The hash of a tuple (CPython 3.8+, 64-bit: xxHash's round over the items'
# hashes, then the length), computed one item at a time from the outermost
# frame, so that a stack can hash as the tuple of its frames without being one.
_XXPRIME_1 = 11400714785074694791
_XXPRIME_2 = 14029467366897019727
_XXPRIME_5 = 2870177450012600261
_MASK = (1 << 64) - 1


def _tuple_hash_step(acc, item_hash):
    acc = (acc + (item_hash & _MASK) * _XXPRIME_2) & _MASK
    acc = ((acc << 31) | (acc >> 33)) & _MASK
    return (acc * _XXPRIME_1) & _MASK


def _tuple_hash_final(acc, length):
    acc = (acc + (length ^ (_XXPRIME_5 ^ 3527539))) & _MASK
    if acc == _MASK:
        return 1546275796
    return acc - (1 << 64) if acc >> 63 else acc


class _StackView:
    """The stacks of a profile's trie without building them: node i's stack
    is a Stack that knows its node, its depth and its tuple hash (each one
    step from its parent's), so that stacks() is linear in the number of
    nodes however deep they go (a 15,000-deep recursion has 15,000 stacks of
    up to 15,000 frames: as tuples, 10^8 references)."""

    __slots__ = ("nodes", "parent", "frame_of", "depth", "acc", "frames", "_tuples")

    def __init__(self, nodes, frames):
        self.nodes = nodes
        self.frames = frames
        self._tuples = {}
        n = len(nodes)
        self.parent = [-1] * n
        self.frame_of = [None] * n  # the (name, file, line) tuple of each node
        self.depth = [0] * n
        self.acc = [_XXPRIME_5] * n
        tuples = self._tuples
        for i, (parent, frame, line, _) in enumerate(nodes):
            if frame is None or frame < 0 or parent is None:
                continue  # the root and thread roots: empty stacks
            key = (frame, line)
            ft = tuples.get(key)
            if ft is None:
                f = frames[frame]
                ft = tuples[key] = (f[0], f[1], line)
            self.frame_of[i] = ft
            self.parent[i] = parent
            self.depth[i] = self.depth[parent] + 1
            self.acc[i] = _tuple_hash_step(self.acc[parent], hash(ft))

    def thread_of(self, index):
        return self.nodes[index][3]

    def stack(self, index):
        return Stack(self, index)

    def frames_of(self, index):
        out = []
        n = index
        frame_of, parent = self.frame_of, self.parent
        while n >= 0 and frame_of[n] is not None:
            out.append(frame_of[n])
            n = parent[n]
        out.reverse()
        return tuple(out)


class Stack:
    """A stack of ``(function name, file, line)`` frames, outermost first:
    behaves as the tuple of its frames (equal to it, the same hash, indexing,
    slicing, iteration, ``+``), built on demand from the profile's trie."""

    __slots__ = ("_view", "_node", "_hash")

    def __init__(self, view, node):
        self._view = view
        self._node = node
        self._hash = _tuple_hash_final(view.acc[node], view.depth[node])

    def _tuple(self):
        return self._view.frames_of(self._node)

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        if isinstance(other, Stack):
            if other._view is self._view:
                return other._node == self._node
            return other._hash == self._hash and other._tuple() == self._tuple()
        if isinstance(other, tuple):
            return len(other) == len(self) and hash(other) == self._hash and other == self._tuple()
        return NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __len__(self):
        return self._view.depth[self._node]

    def __bool__(self):
        return self._view.depth[self._node] > 0

    def __iter__(self):
        return iter(self._tuple())

    def __reversed__(self):
        return reversed(self._tuple())

    def __getitem__(self, index):
        if isinstance(index, int) and index in (-1, len(self) - 1) and len(self):
            return self._view.frame_of[self._node]  # the leaf, without the walk
        return self._tuple()[index]

    def __contains__(self, item):
        return item in self._tuple()

    def __add__(self, other):
        return self._tuple() + tuple(other)

    def __radd__(self, other):
        return tuple(other) + self._tuple()

    def __lt__(self, other):
        return self._tuple() < tuple(other)

    def __le__(self, other):
        return self._tuple() <= tuple(other)

    def __gt__(self, other):
        return self._tuple() > tuple(other)

    def __ge__(self, other):
        return self._tuple() >= tuple(other)

    def index(self, *args):
        return self._tuple().index(*args)

    def count(self, item):
        return self._tuple().count(item)

    def __repr__(self):
        return repr(self._tuple())


class ProfileData:
    """A collected profile.

    Obtained from ``pyrometer.profile`` (once stopped) or ``pyrometer.load``.
    Reading it while it is still being collected raises RuntimeError.

    - ``meta``: dict of metadata (mode, rate_hz, duration_s, python, command, ...)
    - ``threads``: list of ThreadInfo(ident, native_id, name)
    - ``metrics``: dict metric name -> unit ("samples": "count", "wall": "nanoseconds", ...)
    - ``stats``: per-function figures, see ``func_stats``
    - ``stacks(metric)``: {ThreadInfo: {stack: weight}}
    - ``allocations()``: a memory profile's sampled allocations over time
    - ``report(...)``/``print(...)``: the text report
    - ``write(path, format=None)``/``to_bytes(format)``: files
    """

    def __init__(self, native_profile=None):
        if native_profile is None:
            native_profile = _native().Profile()
        self._p = native_profile
        self._running = False

    @classmethod
    def from_bytes(cls, data):
        """A ProfileData from the bytes of any format pyrometer reads (.pyro,
        cProfile/pstats .prof, speedscope JSON, collapsed stacks; recognised
        by content); ValueError on bad data."""
        return cls(_native().Profile.from_bytes(bytes(data)))

    @property
    def native(self):
        """The underlying ``pyrometer._native.Profile``."""
        return self._p

    def _data(self):
        if self._running:
            raise RuntimeError("the profile is still being collected; stop it first")
        return self._p

    # -- plain data ----------------------------------------------------------

    @property
    def meta(self):
        return dict(self._data().meta)

    @property
    def heap(self):
        """The heap report of ``pyrometer heap -o`` (None for other
        profiles): a dict with "census" (at exit: [type, module, count,
        bytes] rows, largest first), "checkpoints" (start, each checkpoint,
        exit: label, time, census, and "growth" since the one before:
        [type, module, count, delta, bytes, delta_bytes] rows), "timeline"
        (the tracked classes: one dict per class per checkpoint) and
        "chains" (the --why retention graph: nodes and labelled edges, or
        None)."""
        text = self._data().meta.get(HEAP_META_KEY)
        if not isinstance(text, str):
            return None
        import json  # here: start-up of every other command does not pay for it

        try:
            report = json.loads(text)
        except ValueError:
            raise ValueError("this profile's heap report is not valid JSON") from None
        checkpoints = report.get("checkpoints") or []
        report["census"] = checkpoints[-1]["census"] if checkpoints else []
        return report

    @property
    def threads(self):
        return [ThreadInfo(int(t[0]), int(t[1]), t[2]) for t in self._data().threads()]

    @property
    def metrics(self):
        return dict((m[0], m[1]) for m in self._data().metrics())

    def _metric(self, metric):
        """Resolves metric (None = the profile's time metric) to a name."""
        names = [m[0] for m in self._data().metrics()]
        if metric is None:
            if self._is_memory():
                metric = _memview.view_metric(self._data().meta)
                return metric if metric in names else (names[0] if names else None)
            metric = "cpu" if self._data().meta.get("mode") == "cpu" else "wall"
            if metric not in names:
                metric = "samples" if "samples" in names else (names[0] if names else None)
            return metric
        if metric not in names:
            raise ValueError(
                "this profile has no metric %r (it has: %s)" % (metric, ", ".join(names) or "none")
            )
        return metric

    def _is_memory(self):
        return self._data().meta.get("mode") == "memory"

    def _format_metric(self, fmt, metric):
        """A memory profile has no time: pstats is refused, and the other
        formats get its chosen view unless a metric is named.  The span
        formats hold a timeline's calls: refused for any other profile."""
        if fmt in SPAN_FORMATS and self._data().meta.get("timeline") != "calls":
            raise ValueError("the %s format holds the calls of a timeline as spans, and this profile has "
                             "none (record one with: pyrometer run --mode timeline)" % fmt)
        if not self._is_memory():
            return metric
        if fmt == "pstats":
            raise ValueError(
                "a memory profile cannot be written as pstats (it holds bytes, not call times); "
                "use pyro, pprof, speedscope, collapsed, text or html"
            )
        return self._metric(metric)

    def stacks(self, metric="samples"):
        """Every stack with a non-zero weight, per thread.

        Returns ``{ThreadInfo: {stack: weight}}`` where a stack is a Stack:
        it behaves as (and is equal to, and hashes as) the tuple of its
        ``(function name, file, line)`` frames, outermost first, ``line``
        being the line executing in that frame, and weight the stack's self
        value of metric ("samples" by default; "wall"/"cpu" are nanoseconds).
        A sample with no Python frame at all has the empty stack ``()``.
        The stacks of a program run by ``pyrometer run`` start at the
        program (its ``<module>``), as under plain ``python``."""
        p = self._data()
        metric = self._metric(metric)
        threads = self.threads
        out = collections.OrderedDict((t, {}) for t in threads)
        if metric is None:
            return out
        values = p.values(metric)
        view = _StackView(p.nodes(), p.frames())
        for index, value in enumerate(values):
            if not value:
                continue
            thread = view.thread_of(index)
            if thread is None or thread < 0 or thread >= len(threads):
                continue  # the root: no thread, no stack
            per_thread = out[threads[thread]]
            key = view.stack(index)
            per_thread[key] = per_thread.get(key, 0) + value
        return out

    def allocations(self):
        """A memory profile's sampled allocations over time: a list of
        Allocations(thread, stack, start, end, freed, bytes, count), sorted
        by time.  The time buckets are 1 ms wide, wider on long runs (they
        double to keep the records bounded), and counted from the zero of
        the heap timeline.  Summing ``bytes`` over the records whose bucket
        lies in [t0, t1] gives what each stack allocated then.  [] for a
        profile without them (other modes, other formats)."""
        p = self._data()
        got = p.allocations()
        if got is None:
            return []
        bucket_ns, records = got
        w = bucket_ns / 1e9
        threads = self.threads
        view = _StackView(p.nodes(), p.frames())
        out = []
        for node, at, freed, nbytes, count in records:
            thread = view.thread_of(node)
            out.append(Allocations(threads[thread], view.stack(node), at * w, (at + 1) * w,
                                   None if freed < 0 else (freed * w, (freed + 1) * w), nbytes, count))
        return out

    def func_stats(self, metric=None):
        """Per-function figures, sorted by self value (descending).

        A list of dicts: function, file, line (first line of the function),
        self, total (seconds for time metrics, else the metric's count),
        self_percent, total_percent (of the whole profile), samples (samples
        in which the function was on the stack), self_samples (samples in
        which it was the innermost frame)."""
        p = self._data()
        metric = self._metric(metric)
        if metric is None:
            return []
        unit = self.metrics.get(metric)
        scale = 1e-9 if unit == "nanoseconds" else 1
        grand = sum(p.values(metric))
        out = []
        for name, file, line, self_v, total_v, s_self, s_total in p.func_stats(metric):
            out.append(
                {
                    "function": name,
                    "file": file,
                    "line": line,
                    "self": self_v * scale,
                    "total": total_v * scale,
                    "self_percent": 100.0 * self_v / grand if grand else 0.0,
                    "total_percent": 100.0 * total_v / grand if grand else 0.0,
                    "samples": s_total,
                    "self_samples": s_self,
                }
            )
        return out

    @property
    def stats(self):
        """``func_stats()`` for the profile's time metric (wall, or cpu in cpu mode)."""
        return self.func_stats()

    # -- reports and files ---------------------------------------------------

    def report(self, *, metric=None, show_all=False, threshold=0.5, color=False, top=15, width=100):
        """The text report (call tree and top functions) as a string."""
        if self._is_memory():
            return _memview.report(self, metric=metric, show_all=show_all, threshold=threshold, color=color,
                                  top=top, width=width)
        return self._tree_report(metric=metric, show_all=show_all, threshold=threshold, color=color, top=top,
                                 width=width)

    def _tree_report(self, *, metric=None, show_all=False, threshold=0.5, color=False, top=15, width=100):
        p = self._data()
        return p.report(
            metric=metric,
            show_all=bool(show_all),
            threshold=float(threshold),
            color=bool(color),
            top=int(top),
            width=int(width),
            library_prefixes=_env.library_prefixes(),
        )

    def print(self, file=None, *, color=None, width=None, **report_options):
        """Prints the text report to file (default sys.stderr).  Colour and
        width follow the file: colour only on a terminal (and not with
        NO_COLOR), the terminal's width."""
        if file is None:
            file = sys.stderr
        if color is None:
            color = default_color(file)
        if width is None:
            width = default_width(file)
        file.write(self.report(color=color, width=width, **report_options))
        try:
            file.flush()
        except Exception:
            pass

    def to_bytes(self, format="pyro", *, metric=None, per_line=False, source=True, **report_options):
        """The profile in a format: "pyro" (lossless native file), "collapsed"
        (``thread;outer;...;leaf COUNT`` lines) or "text" (the report).
        html embeds the source of the profile's files under the current
        directory (for the viewer's source view) unless source=False."""
        if format not in FORMATS:
            raise ValueError("unknown format %r (choose from %s)" % (format, ", ".join(FORMATS)))
        metric = self._format_metric(format, metric)
        if format == "text":
            return self.report(metric=metric, **report_options).encode("utf-8")
        if report_options:
            raise TypeError("unexpected options for %s: %s" % (format, ", ".join(sorted(report_options))))
        if format == "html":
            return self._data().to_bytes(format, metric=metric, template=_html_template(self._data(), source))
        return self._data().to_bytes(format, metric=metric, per_line=bool(per_line))

    def write(self, path, format=None, *, metric=None, per_line=False, source=True, **report_options):
        """Writes the profile to path, atomically.  format defaults from the
        extension: .pyro -> pyro, .collapsed/.folded -> collapsed, .txt ->
        text; any other extension needs an explicit format (ValueError).
        html embeds source files as to_bytes says, unless source=False.
        OSError("cannot write PATH: reason") when the file cannot be written."""
        path = os.fspath(path)
        fmt = format_for_path(path, format)
        metric = self._format_metric(fmt, metric)
        if fmt == "text":
            _write_atomic(path, self.to_bytes("text", metric=metric, **report_options))
            return
        if report_options:
            raise TypeError("unexpected options for %s: %s" % (fmt, ", ".join(sorted(report_options))))
        if fmt == "html":
            self._data().write(path, fmt, metric=metric, template=_html_template(self._data(), source))
            return
        self._data().write(path, fmt, metric=metric, per_line=bool(per_line))

    def __repr__(self):
        if self._running:
            return "<pyrometer profile (running)>"
        try:
            meta = self._p.meta
            return "<pyrometer profile mode=%s samples=%s threads=%d>" % (
                meta.get("mode", "?"),
                int(meta.get("samples_taken", 0)),
                len(self._p.threads()),
            )
        except Exception:
            return "<pyrometer profile>"


def _html_template(native_profile, source=True):
    """The viewer template for the html writer; embeds the sources of files
    under the current directory unless the profile already carries some
    (or source is False)."""
    from . import _view

    if source and not any(k.startswith("source:") for k in native_profile.meta):
        _view.embed_sources(native_profile, os.getcwd())
    return _view.template()


def load(path):
    """Reads a profile file in any format pyrometer reads (.pyro, cProfile
    .prof, speedscope JSON, collapsed stacks; recognised by content) into a
    ProfileData.  OSError if it cannot be read, ValueError if it is not a
    valid profile."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    try:
        return ProfileData.from_bytes(data)
    except ValueError as exc:
        raise ValueError("%s: %s" % (path, exc)) from None


# ---- profiling sessions ---------------------------------------------------------


class profile(ProfileData):
    """Profiles a block of code or every call of a function.

    As a context manager::

        with pyrometer.profile(rate=1000, mode="wall", idle=True) as p:
            work()
        p.print()

    As a decorator (``@pyrometer.profile`` or ``@pyrometer.profile(rate=...)``)
    each call of the function is profiled; the profile of the latest finished
    call is ``function.last_profile`` (None before the first call).  Calls
    made while the same function is already being profiled in the same thread
    (recursion) are not profiled separately.  For ``async def`` functions the
    whole await is profiled.

    rate      samples per second (0 < rate <= 100000)
    mode      "wall": every thread, whatever it does; "cpu": only threads on
              the CPU, weighted by CPU time; "gil": only the thread holding
              the GIL (C code that releases it is not counted); "memory":
              allocations instead of time (see pyrometer._memory.MemoryProfile:
              memory_rate bytes between samples, memory_view, checkpoint())
    idle      in wall mode, also keep samples of threads that are off the CPU
              (sleeping, waiting for I/O or locks)
    timeline  capacity of the timeline in events (0 = no timeline)
    async_tasks  in wall mode, show asyncio's waiting tasks, each under the
              task that awaits it, instead of the loop's wait (``--async``)
    native    also take the C stack (extensions, the interpreter, libc) of
              each running thread, interleaved with its Python frames

    ``start()``/``stop()`` may be called directly instead; a profile object
    collects once.
    """

    # mode -> the subclass that records it (_memory.py adds "memory"): the
    # sampling modes need nothing of theirs here.
    by_mode = {}

    def __new__(cls, func=None, **options):
        if func is not None:
            if not callable(func):
                raise TypeError("pyrometer.profile(...) takes options as keywords; got %r" % (func,))
            return _decorate(func, options)
        if cls is profile and options.get("mode") in cls.by_mode:
            return super().__new__(cls.by_mode[options["mode"]])
        return super().__new__(cls)

    def __init__(self, func=None, *, rate=1000.0, mode="wall", idle=True, timeline=1000000, async_tasks=False,
                 native=False):
        self._options = dict(
            rate=check_rate(rate), mode=check_mode(mode), idle=bool(idle), timeline=check_timeline(timeline),
            async_tasks=bool(async_tasks), native=bool(native),
        )
        ProfileData.__init__(self)
        self._sampler = None
        self._recorder = None
        self._state = "new"
        self._pid = None

    def __call__(self, func):
        """``@pyrometer.profile(rate=...)``: decorates func."""
        return _decorate(func, self._options)

    @property
    def running(self):
        return self._state == "running"

    def start(self, command=None):
        """Starts sampling.  RuntimeError if the stack reader's self-check
        fails or this Python is not supported; a profile starts only once."""
        if self._state != "new":
            raise RuntimeError("this profile was already started; create a new pyrometer.profile")
        native = _native()
        reason = _env.check_python(native)
        if reason:
            raise RuntimeError("pyrometer does not support this Python: %s" % reason)
        p = self._p
        p.set_meta("python", _env.python_version())
        p.set_meta("command", command if command is not None else _env.command_line())
        p.set_meta("pyrometer", _env.pyrometer_version())
        sampler = self._new_sampler(native)
        recorder = _threads.Recorder()
        recorder.start()
        p.set_meta("start_unix", time.time())
        try:
            sampler.start()
        except BaseException:
            recorder.stop()
            raise
        self._sampler = sampler
        self._recorder = recorder
        self._pid = os.getpid()
        self._running = True
        self._state = "running"
        return self

    def _new_sampler(self, native):
        """The collector this profile runs (not started yet)."""
        o = self._options
        extra = {"native": True} if o.get("native") else {}
        sampler = native.Sampler(self._p, rate=o["rate"], mode=o["mode"], idle=o["idle"], timeline=o["timeline"],
                                 **extra)
        if o.get("native"):
            # An interpreter whose eval loop has no symbol (Debian's 3.14+)
            # shows it here: two Python runs between three nested probes.
            sampler._probe(lambda: sampler._probe(lambda: sampler._probe(None)))
        if o.get("async_tasks"):
            _enable_async(sampler)
        return sampler

    def stop(self):
        """Stops sampling and names the threads; idempotent."""
        if self._state != "running":
            return self
        self._state = "stopped"
        try:
            if os.getpid() == self._pid:  # the sampler thread does not survive fork
                self._sampler.stop()
        finally:
            self._running = False
            self._recorder.stop()
            self._name_threads()
        return self

    def _name_threads(self):
        name_threads(self._p, self._recorder)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def __repr__(self):
        if self._state == "new":
            return "<pyrometer profile (not started)>"
        return ProfileData.__repr__(self)


def name_threads(native_profile, recorder):
    """Names the profile's threads from what the recorder saw, and folds
    the recorder's own frames into their callers."""
    native_profile.reroot(_threads.hook_frames())
    names = {}
    for t in native_profile.threads():
        ident = t[0]
        if ident not in names:
            names[ident] = recorder.name_of(ident)
    native_profile.set_thread_names(dict((i, n) for i, n in names.items() if n))


class DeterministicSession(ProfileData):
    """A deterministic (calls or lines) profiling session with the interface
    of ``pyrometer.profile`` (start/stop, context manager, report, print,
    write).  Subclasses say which collector runs: ``_new_session()``."""

    def __init__(self):
        ProfileData.__init__(self)
        self._session = None
        self._recorder = None

    def _new_session(self):
        raise NotImplementedError

    def start(self, command=None):
        if self._session is not None:
            raise RuntimeError("this profile was already started")
        p = self._p
        p.set_meta("python", _env.python_version())
        p.set_meta("command", command if command is not None else _env.command_line())
        p.set_meta("pyrometer", _env.pyrometer_version())
        self._session = self._new_session()
        self._recorder = _threads.Recorder()
        self._recorder.start()
        self._running = True
        self._session.start()
        return self

    def stop(self):
        if not self._running:
            return self
        try:
            self._session.stop()
        finally:
            self._running = False
            self._recorder.stop()
            name_threads(self._p, self._recorder)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def _decorate(func, options):
    # Checks the options now, so that a typo fails at decoration time.
    memory = options.get("mode") == "memory"
    allowed = {"mode", "memory_rate", "memory_view", "native_memory"} if memory else {"rate", "mode", "idle", "timeline", "async_tasks", "native"}
    unknown = set(options) - allowed
    if unknown:
        raise TypeError("unknown pyrometer.profile option(s): %s" % ", ".join(sorted(unknown)))
    template = profile(**options)
    options = dict(template._options)

    import inspect  # here, not at import: it costs every profiled program's start-up

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args, **kwargs):
            prof = profile(**options)
            try:
                with prof:
                    return await func(*args, **kwargs)
            finally:
                async_wrapper.last_profile = prof

        async_wrapper.last_profile = None
        return async_wrapper

    local = threading.local()

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if getattr(local, "active", False):
            return func(*args, **kwargs)
        prof = profile(**options)
        local.active = True
        try:
            with prof:
                return func(*args, **kwargs)
        finally:
            local.active = False
            wrapper.last_profile = prof

    wrapper.last_profile = None
    return wrapper
