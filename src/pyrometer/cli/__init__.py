"""The command line, one module per command (COMMANDS: cli/run.py,
trace.py, convert.py, view.py, heap.py, attach.py, dump.py, top.py, diff.py,
imports.py); this file holds the general usage and dispatches, and
cli/_shared.py what the commands share (the two kinds of error, the
one-line messages).

``pyrometer run [options] script.py|-m module|-c command [args...]``:

The profiled program must not notice pyrometer: it gets the sys.argv, the
``__main__`` module, sys.path[0], standard streams, exceptions, tracebacks and
exit status it would get from ``python script.py`` / ``python -m module`` /
``python -c command``, and its stacks start at its own code (pyrometer's
runner frames are taken out of the profile: Profile.reroot).
pyrometer's own problems are one line on stderr starting ``pyrometer:`` and a
non-zero exit status (2 for bad usage), never a traceback; a profile that was
collected is always written, whatever way the program ends (normal end,
sys.exit, exception, Ctrl-C, SIGTERM without a handler of its own).

Known limits (documented, not hidden): ``sys.orig_argv`` (3.10+) shows the
real command line; ``os._exit`` and fatal signals other than SIGTERM/SIGINT
end the process before the profile can be written.
"""
import importlib
import sys

from .. import _env

USAGE = """\
usage: pyrometer run [options] script.py [args ...]
       pyrometer run [options] -m module [args ...]
       pyrometer run [options] -c command [args ...]
       pyrometer trace [--count|--listfuncs|--trackcalls|--trace ...] script.py [args ...]
       pyrometer convert INPUT OUTPUT [--format FMT] [--no-source]
       pyrometer view [--no-browser] [-o OUT.html] FILE
       pyrometer heap [--why TYPE] [--json FILE] [-o FILE.pyro|FILE.html] script.py|-m module [args ...]
       pyrometer dump PID [--json] [--locals]
       pyrometer attach PID [--duration S] [--rate HZ] [--mode wall|cpu] [-o FILE]
       pyrometer top PID
       pyrometer diff BASE NEW [--fail-on-regression PCT] [--threshold PCT] [-o DIFF.html]
       pyrometer imports [-o OUT] [--top N] script.py|-m module [args ...]
       pyrometer view DIR [N | --route ROUTE]   (per-request profiles)
       pyrometer --version
"""

HELP = (
    USAGE
    + """
Runs a Python program under pyrometer's sampling profiler, then prints a report
of where its time went (on stderr) or writes the profile to a file.

options:
  --rate HZ            samples per second (default 1000)
  --mode wall|cpu|gil|calls|timeline|lines|memory
                       wall: every thread, running or waiting (default);
                       cpu: only threads on the CPU, weighted by CPU time;
                       gil: only the thread holding the GIL (C code that
                       releases it, I/O and waits are not counted);
                       calls: deterministic, every call counted and timed
                       (a pstats-like table, cProfile's rules);
                       timeline: calls mode that also records every call
                       and return with its time, per thread (the newest
                       --timeline-cap events; -o FILE.trace.json for
                       Perfetto / chrome://tracing, .gecko.json for the
                       Firefox Profiler); Python calls only unless --builtins
                       lines: deterministic, every line of the targets counted
                       and timed (line_profiler's report);
                       memory: allocations (every PyMem domain) sampled by
                       bytes; peak, top allocating stacks and leaks
  --memory-rate BYTES  memory mode: mean bytes between samples (default
                       65536; 1 = every allocation)
  --memory-view peak|live|allocated|leaks
                       memory mode: the tree shown and written (default peak)
  --native-memory      memory mode: also malloc, calloc, realloc and anonymous
                       mmap by extension modules and native libraries, their
                       stacks ending in the native functions that asked
  --heap-at-exit       memory mode: at the end, the types whose instances grew
                       since the program started (exact counts and bytes),
                       where the new ones alive were allocated (those
                       sampled) and what keeps one alive; on stderr and in
                       the profile's meta (heap_at_exit)
  --heap-top N         --heap-at-exit: how many types (default 5)
  --builtins, --no-builtins
                       calls mode: time C functions (builtins) on their own, as
                       cProfile does (default), or leave them in their caller
  -s, --sort KEY       calls mode: sort the table by a pstats key (calls,
                       cumulative, tottime, ncalls, name, ...; default
                       cumulative); `python -m pyrometer.cprofile` takes
                       python -m cProfile's own options (-o, -s, -m)
  --target PATTERN     lines mode: what to profile line by line (repeatable): a
                       file or directory (globs allowed), a module (pkg.mod), or a
                       function (pkg.mod:func, file.py:Class.meth, func); default:
                       the files under the program's directory (not libraries)
  --no-idle            wall mode: leave out samples of threads off the CPU
  --async              wall mode: asyncio tasks that wait, each under the task
                       that awaits it (gather, TaskGroup, wait_for, await task)
  --native             sampling modes: also show C frames (extensions, the
                       interpreter's own work, libc) where they run, between
                       the Python frames that called them
  --subprocesses       sampling modes: also profile every Python process the
                       program starts (subprocess, multiprocessing with any
                       start method, os.fork), each under its own "pid N" level
  -o, --output FILE    write the profile to FILE instead of printing the report
  --html               write the HTML viewer (to -o FILE.html, else a temporary
                       file opened in a browser)
  --no-source          .pyro and HTML files: leave out the source of the
                       program's files (embedded by default for the viewer's
                       source view; the last lines say which files)
  --format FMT         any format of `pyrometer convert --help`, or text (the
                       report); default: from FILE's extension (.pyro, .prof,
                       .speedscope.json, .pb.gz, .trace.json, .gecko.json,
                       .collapsed, .html, .txt), the report without -o
  --show-all           report: every frame (no collapsing of library code, no
                       threshold)
  --threshold PCT      report: hide subtrees under PCT %% of their thread (0.5)
  --top N              report: rows in the top-functions table (default 15)
  --color, --no-color  report colours (default: only on a terminal)
  --timeline-cap N     timeline capacity in events (default 1000000, 0 = off;
                       --mode timeline keeps the newest, drops the oldest)
  --log-args REGEX     timeline: the arguments and return value (reprs) of
                       each function whose qualified name REGEX matches
  --dump-on SIGNAL     print every thread's Python stack on stderr when the
                       process gets SIGNAL (USR1, QUIT, ...); it goes on running
  --hang S             print every thread's stack if the program still runs
                       after S seconds (a watchdog for hangs)
  --dump-on-fatal      print every thread's stack on SIGSEGV, SIGBUS, SIGFPE,
                       SIGILL or SIGABRT, then die of that signal as before
  --push URL --app-name NAME [--push-interval S] [--push-format pyroscope|otlp]
  [--tags K=V,...]     also send the profile every S seconds (default 10), in
                       the background: to a Pyroscope server as pprof, or to
                       an OpenTelemetry collector as OTLP profiles, tagged
  -h, --help           show this help and exit
  --version            show pyrometer's version and exit

--rate, --show-all and --threshold are for the sampling modes, --timeline-cap
for them and timeline, --no-idle for wall, --builtins/--no-builtins and --sort
for calls and timeline, --top for the sampling modes, calls and timeline,
--log-args for timeline, --target for lines: given to another mode they are an error, not ignored.

The program's sys.argv, __main__, sys.path[0], output, exceptions and exit
status are what plain `python` would give it, and its stacks start at its own
code.
""".replace("%%", "%")
)

from ._shared import EXIT_FAILURE, EXIT_USAGE, Failure, UsageError, output_format, say as _say  # noqa: F401


# Every command is a module of this package: parse(argv) gives its options
# (or "help"), main(options, command) runs it and gives the exit status, and
# its help is help_text() or HELP (this file's, for a command without one).
COMMANDS = ("run", "trace", "convert", "view", "heap", "attach", "dump", "top", "diff", "imports")


def _command(name):
    return importlib.import_module("." + name, __name__)


def parse(argv):
    """Parses pyrometer's arguments.  Returns "help", "version" or
    (command, its options or "help"); UsageError on bad input."""
    if not argv:
        raise UsageError("missing command; try 'pyrometer run script.py' or 'pyrometer --help'")
    command = argv[0]
    if command in ("-h", "--help", "help"):
        return "help"
    if command in ("-V", "--version", "version"):
        return "version"
    if command not in COMMANDS:
        if command.startswith("-"):
            raise UsageError("unknown option %r before the command; try 'pyrometer --help'" % command)
        raise UsageError("unknown command %r; try 'pyrometer run %s'" % (command, command))
    return command, _command(command).parse(argv[1:])


def _help(name):
    module = _command(name)
    return module.help_text() if hasattr(module, "help_text") else getattr(module, "HELP", HELP)


def main(argv=None):
    """Entry point of the ``pyrometer`` command and ``python -m pyrometer``.
    Returns the exit status; the program's own SystemExit, exceptions and
    KeyboardInterrupt propagate so the interpreter ends the process exactly
    as it would have ended the program."""
    if argv is None:
        argv = sys.argv[1:]
    command = _env.command_line(["pyrometer"] + list(argv))
    try:
        parsed = parse(list(argv))
        if parsed == "help":
            sys.stdout.write(HELP)
            return 0
        if parsed == "version":
            sys.stdout.write("pyrometer %s\n" % _env.pyrometer_version())
            return 0
        name, options = parsed
        if options == "help":
            sys.stdout.write(_help(name))
            return 0
        return _command(name).main(options, command)
    except UsageError as exc:
        _say(str(exc))
        return EXIT_USAGE
    except Failure as exc:
        _say(str(exc))
        return exc.status


if __name__ == "__main__":
    sys.exit(main())
