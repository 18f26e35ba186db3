"""``pyrometer heap [options] script.py|-m module [args...]``: runs a program,
then prints what its heap holds (census by type) and what grew while it ran
(growth since it started), on stderr; also at SIGUSR2 (when the program does
not use that signal) and at every pyrometer.heap.checkpoint() it calls.
``--why TYPE`` adds the retention chain of the largest TYPE instance.
``-o FILE.pyro|FILE.html`` writes the whole report as a profile for the
viewer (its Heap view; pyrometer.load(FILE).heap).  The program's output,
exceptions and exit status are its own."""
import json
import os
import signal
import sys
import time

from ._shared import EXIT_USAGE, Failure, UsageError, say as _say
from . import run as _run
from .._profile import format_for_path

HELP = """\
usage: pyrometer heap [options] script.py [args ...]
       pyrometer heap [options] -m module [args ...]

Runs a Python program, then prints its heap on stderr: the census by type
(count, bytes, untracked objects included) and the growth since the program
started; also at SIGUSR2 and at every pyrometer.heap.checkpoint().

options:
  --top N          rows of the census and growth tables (default 15)
  --why TYPE       the reference chain keeping the largest TYPE instance alive
                   (TYPE: a class name, or module.Class)
  --track TYPE     follow TYPE's instances (count, made, freed, deep size) at
                   every checkpoint (repeatable; recorded in --json)
  --json FILE      write census, growth, checkpoints and chains as JSON
  --dot FILE       write the --why chain as a Graphviz graph
  -o FILE          write the report as a profile for the viewer: FILE.pyro
                   (pyrometer view, pyrometer.load(...).heap) or FILE.html
                   (the viewer with the report inside, its "Heap" view)
  --collect        run gc.collect() before each census (default: never)
  -h, --help       show this help and exit
"""


class Options:
    is_heap = True

    def __init__(self):
        self.top = 15
        self.why = None
        self.track = []
        self.json = None
        self.dot = None
        self.output = None
        self.collect = False
        self.script = None
        self.module = None
        self.command = None
        self.args = []


def parse(argv):
    o = Options()
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            return "help"
        if a == "-m":
            if i + 1 >= len(argv):
                raise UsageError("heap: -m needs a module name")
            o.module, o.args = argv[i + 1], argv[i + 2:]
            return o
        if a == "--collect":
            o.collect = True
        elif a in ("--top", "--why", "--json", "--dot", "--track", "-o", "--output"):
            if i + 1 >= len(argv):
                raise UsageError("heap: %s needs a value" % a)
            v = argv[i + 1]
            i += 1
            if a == "--top":
                try:
                    o.top = int(v)
                except ValueError:
                    raise UsageError("heap: --top takes a number, not %r" % v) from None
                if o.top < 1:
                    raise UsageError("heap: --top must be at least 1")
            elif a == "--track":
                o.track.append(v)
            elif a in ("-o", "--output"):
                o.output = v
            else:
                setattr(o, a[2:], v)
        elif a.startswith("-"):
            raise UsageError("heap: unknown option %r; try 'pyrometer heap --help'" % a)
        else:
            o.script, o.args = a, argv[i + 1:]
            return o
        i += 1
    raise UsageError("heap: missing the program; try 'pyrometer heap script.py'")


def _size(n):
    n = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return ("%d %s" if unit == "B" else "%.1f %s") % (n, unit)
        n /= 1000.0


def _name(row):
    return row.type if row.module == "builtins" else "%s.%s" % (row.module, row.type)


class _Report:
    def __init__(self, o, heap):
        self.o = o
        self.heap = heap
        self.start = heap.Snapshot()
        self.checkpoints = []
        # For -o: the census at start, at each checkpoint and at exit, with
        # the growth since the one before (the step's snapshot is kept until
        # the next one: about 13 bytes per tracked object, only when a
        # profile is written).
        self.steps = None
        if o.output:
            self.steps = [{"label": "start", "time": self.start.time, "census": [list(r) for r in self.start.rows()]}]
            self.previous = self.start

    def print_and_record(self, label):
        heap = self.heap
        if self.o.collect:
            import gc

            gc.collect()
        for name in self.o.track:
            cls = _find_class(name)
            if cls is not None:
                heap.track_class(cls)
        # One snapshot per step serves the census, the growth since start and
        # the growth since the step before: a second walk a moment later
        # would see what other threads allocated meanwhile, and the stored
        # growth would not be the difference of the stored censuses.
        now = heap.Snapshot()
        rows = now.rows()
        grown = heap.growth(self.start, to=now)
        out = ["pyrometer heap (%s): %d objects, %s" % (label, sum(r.count for r in rows),
                                                       _size(sum(r.bytes for r in rows))),
               "  %10s %10s  %s" % ("bytes", "count", "type")]
        out += ["  %10s %10d  %s" % (_size(r.bytes), r.count, _name(r)) for r in rows[: self.o.top]]
        out.append("growth since the program started:")
        shown = [g for g in grown if g.delta > 0][: self.o.top]
        out += ["  %+10d %11s  %s" % (g.delta, ("+" if g.delta_bytes >= 0 else "") + _size(g.delta_bytes), _name(g))
                for g in shown] or ["  (none)"]
        sys.stderr.write("\n".join(out) + "\n")
        sys.stderr.flush()
        self.checkpoints.append({"label": label, "census": [r._asdict() for r in rows],
                                 "growth": [g._asdict() for g in grown]})
        if self.steps is not None:
            step = {"label": label, "time": now.time, "census": [list(r) for r in rows],
                    "growth": [list(g) for g in heap.growth(self.previous, to=now)]}
            self.previous = now
            self.steps.append(step)

    def why(self):
        """The chain of the largest instance of --why TYPE (None, message)."""
        heap = self.heap
        cls = _find_class(self.o.why)
        if cls is None:
            return None, "--why: no live instance of %r" % self.o.why
        largest = heap.top(cls, 1)
        if not largest:
            return None, "--why: no live instance of %r" % self.o.why
        obj = largest[0][0]
        try:
            r = heap.why_alive(obj, chains=3)
        except heap.HeapError as exc:
            return None, "--why: %s" % exc
        sys.stderr.write(r.text())
        return r, None


def _find_class(name):
    import gc

    for o in gc.get_objects():
        if isinstance(o, type) and (o.__qualname__ == name or "%s.%s" % (o.__module__, o.__qualname__) == name):
            return o
    return None


def main(o, command):
    native = _run._load_native()
    from .. import heap

    if o.output is not None:
        fmt = format_for_path(o.output, strict=False)
        if fmt not in ("pyro", "html"):
            raise UsageError("heap: -o writes FILE.pyro or FILE.html, not %r (the heap report has no stacks "
                             "for other formats; --json FILE gives it as JSON)" % o.output)
    for path in (o.json, o.dot, o.output):
        if path is not None:
            _run._check_output(path)
    o.json = os.path.abspath(o.json) if o.json else None
    o.dot = os.path.abspath(o.dot) if o.dot else None
    o.output = os.path.abspath(o.output) if o.output else None
    started = time.time()
    o.command = None
    try:
        kind, target, argv, path0 = _run._prepare_program(o)
    except _run._ProgramDidNotCompile as exc:
        error = exc.error.with_traceback(None)
        sys.excepthook(type(error), error, None)
        return 1
    del native
    o.command_line = command  # for -o's profile (o.command is -c's code)
    report = _Report(o, heap)
    heap._listeners.append(report.print_and_record)
    usr2 = getattr(signal, "SIGUSR2", None)
    if usr2 is not None and signal.getsignal(usr2) == signal.SIG_DFL:
        signal.signal(usr2, lambda signo, frame: heap.checkpoint("SIGUSR2"))

    sys.argv[:] = argv
    _run._set_path0(path0)
    main_module = _run._fresh_main(target.co_filename if kind == "script" else None)
    try:
        if kind == "script":
            _run._run_script(target, main_module)
        elif kind == "module":
            _run._run_module(target)
        else:
            _run._run_main_of(target)
    except BaseException as exc:
        _finish(o, heap, report, started)
        if not isinstance(exc, SystemExit):
            _run._install_traceback_filter(exc)
        raise
    if not _finish(o, heap, report, started):
        return 1
    return 0


def _finish(o, heap, report, started):
    """The report at exit; False when a file could not be written."""
    heap._listeners[:] = [f for f in heap._listeners if f != report.print_and_record]
    report.print_and_record("at exit")
    heap.checkpoint("at exit")
    chain = None
    if o.why:
        chain, problem = report.why()
        if problem:
            _say(problem)
    ok = True
    from .. import _native

    if o.json:
        doc = {"checkpoints": report.checkpoints, "timeline": heap.timeline(),
               "why": chain.to_dict() if chain is not None else None}
        try:
            _native.write_file(o.json, json.dumps(doc, indent=1).encode())
        except OSError as exc:
            _say(str(exc))
            ok = False
    if o.output and not _write_profile(o, heap, report, chain, started):
        ok = False
    if o.dot:
        if chain is None:
            _say("--dot needs a chain: give --why TYPE with a live instance")
            ok = False
        else:
            try:
                _native.write_file(o.dot, chain.dot().encode())
            except OSError as exc:
                _say(str(exc))
                ok = False
    return ok


def _write_profile(o, heap, report, chain, started):
    """-o: a profile with no stacks whose meta carries the report as one
    compact JSON string (HEAP_META_KEY); the C writers make the .pyro or the
    HTML viewer of it as of any profile."""
    from .. import _env, _native
    from .._profile import HEAP_META_KEY, ProfileData

    doc = {"version": 1, "checkpoints": report.steps, "timeline": heap.timeline(),
           "chains": chain.graph() if chain is not None else None}
    p = _native.Profile()
    p.set_meta("mode", "heap")
    p.set_meta("python", _env.python_version())
    p.set_meta("command", o.command_line)
    p.set_meta("pyrometer", _env.pyrometer_version())
    p.set_meta("start_unix", started)
    p.set_meta("duration_s", time.time() - started)
    p.set_meta(HEAP_META_KEY, json.dumps(doc, separators=(",", ":")))
    try:
        ProfileData(p).write(o.output)
    except (OSError, ValueError) as exc:
        _say(str(exc))
        return False
    return True


__all__ = ["parse", "main", "HELP", "Failure", "EXIT_USAGE"]
