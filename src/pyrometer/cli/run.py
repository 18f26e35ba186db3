"""``pyrometer run``: runs a program under a profiler of any mode and writes its
profile.  What the program must not notice, and the known limits, are in the
package's docstring (cli/__init__.py)."""
import os
import sys

from .. import _env
from .._profile import EXTENSIONS, FORMATS, MAX_RATE, MODES, SPAN_FORMATS, format_for_path
from ._shared import EXIT_FAILURE, EXIT_USAGE, Failure, UsageError, say as _say

_DETERMINISTIC = ("calls", "timeline", "lines", "memory")

MAX_TIMELINE = 100000000

_VALUE_OPTIONS = {
    "--rate": "rate",
    "--mode": "mode",
    "-o": "output",
    "--output": "output",
    "--format": "format",
    "--threshold": "threshold",
    "--top": "top",
    "--timeline-cap": "timeline",
    "--log-args": "log_args",
    "--target": "target",
    "--memory-rate": "memory_rate",
    "--memory-view": "memory_view",
    "--heap-top": "heap_top",
    "-s": "sort",
    "--sort": "sort",
    "--dump-on": "dump_on",
    "--hang": "hang",
    "--push": "push",
    "--app-name": "app_name",
    "--push-interval": "push_interval",
    "--push-format": "push_format",
    "--tags": "tags",
}
_FLAG_OPTIONS = {
    "--no-idle": ("idle", False),
    "--builtins": ("builtins", True),
    "--no-builtins": ("builtins", False),
    "--native": ("native", True),
    "--async": ("async_tasks", True),
    "--no-source": ("source", False),
    "--dump-on-fatal": ("dump_on_fatal", True),
    "--heap-at-exit": ("heap_at_exit", True),
    "--native-memory": ("native_memory", True),
    "--html": ("html", True),
    "--show-all": ("show_all", True),
    "--color": ("color", True),
    "--colour": ("color", True),
    "--no-color": ("color", False),
    "--no-colour": ("color", False),
    "--subprocesses": ("subprocesses", True),
}


class Options:
    def __init__(self):
        self.rate = 1000.0
        self.mode = "wall"
        self.idle = True
        self.async_tasks = False
        self.native = False
        self.output = None
        self.output_path = None
        self.format = None
        self.show_all = False
        self.threshold = 0.5
        self.top = 15
        self.color = None
        self.timeline = 1000000
        self.log_args = None  # --mode timeline: a compiled regular expression
        self.targets = []
        self.script = None
        self.module = None
        self.command = None
        self.args = []
        self.html = False
        self.open_browser = False
        self.source_root = None
        self.memory_rate = None
        self.memory_view = None
        self.heap_at_exit = False  # memory mode: the heap's growth by type at the end
        self.native_memory = False  # memory mode: malloc and mmap outside the interpreter too
        self.heap_top = 5
        self.builtins = None  # calls mode: cProfile's event set (True) unless --no-builtins
        self.sort = None
        self.source = True
        self.given = set()  # the options the user gave, to refuse those the mode ignores
        self.cprofile_cli = False  # python -m pyrometer.cprofile: cProfile's output
        self.dump_on = 0  # a signal number: every thread's stack on stderr when it comes
        self.hang = 0.0  # seconds: every thread's stack if the program still runs then
        self.dump_on_fatal = False  # stacks on SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT
        self.push = None  # a Pyroscope server's URL (integrations/push.py)
        self.app_name = None
        self.push_interval = 10.0
        self.push_format = "pyroscope"  # or "otlp" (integrations/push.py)
        self.tags = None  # [(key, value)] for the push
        self.subprocesses = False  # also profile every Python process the program starts


# ---- parsing ------------------------------------------------------------


def _convert(dest, option, value):
    if dest == "rate":
        try:
            rate = float(value)
        except ValueError:
            rate = None
        if rate is None or not (0 < rate <= MAX_RATE):  # also rejects nan
            raise UsageError(
                "invalid %s %r: give samples per second, above 0 and at most %d" % (option, value, MAX_RATE)
            )
        return rate
    if dest == "mode":
        if value not in MODES + _DETERMINISTIC:
            raise UsageError(
                "invalid %s %r (choose from %s)" % (option, value, ", ".join(MODES + _DETERMINISTIC))
            )
        return value
    if dest in ("memory_rate", "memory_view"):
        from .. import _memory

        try:
            return _memory.check_memory_rate(value) if dest == "memory_rate" else _memory.check_memory_view(value)
        except ValueError as exc:
            raise UsageError("invalid %s %r: %s" % (option, value, exc)) from None
    if dest == "format":
        if value not in FORMATS:
            raise UsageError("invalid %s %r (choose from %s)" % (option, value, ", ".join(FORMATS)))
        return value
    if dest == "threshold":
        try:
            pct = float(value)
        except ValueError:
            pct = None
        if pct is None or not (0 <= pct <= 100):
            raise UsageError("invalid %s %r: give a percentage from 0 to 100" % (option, value))
        return pct
    if dest == "heap_top":
        try:
            n = int(value, 10)
        except ValueError:
            n = None
        if n is None or not (1 <= n <= 1000):
            raise UsageError("invalid %s %r: give a whole number of types from 1 to 1000" % (option, value))
        return n
    if dest in ("top", "timeline"):
        limit = MAX_TIMELINE if dest == "timeline" else 100000
        try:
            n = int(value, 10)
        except ValueError:
            n = None
        if n is None or not (0 <= n <= limit):
            raise UsageError("invalid %s %r: give a whole number from 0 to %d" % (option, value, limit))
        return n
    if dest == "log_args":
        import re

        try:
            return re.compile(value)
        except re.error as exc:
            raise UsageError("invalid %s %r: %s" % (option, value, exc)) from None
    if dest == "target":
        if not value:
            raise UsageError("%s needs a pattern (a file, module or function)" % option)
        return value
    if dest == "sort":
        from .._calls import SORT_KEYS

        if value not in SORT_KEYS:
            raise UsageError("invalid %s %r (choose from %s)" % (option, value, ", ".join(sorted(SORT_KEYS))))
        return value
    if dest == "dump_on":
        import _signal

        name = value.upper()
        number = int(name) if name.isdigit() else getattr(_signal, name if name.startswith("SIG") else "SIG" + name, None)
        if not isinstance(number, int) or not 0 < number < _signal.NSIG or number in (
                _signal.SIGKILL, _signal.SIGSTOP, _signal.SIGSEGV, _signal.SIGBUS, _signal.SIGFPE, _signal.SIGILL):
            raise UsageError("invalid %s %r: give a signal that can be caught (USR1, SIGUSR2, QUIT, 10, ...)"
                             % (option, value))
        return number
    if dest == "hang":
        try:
            seconds = float(value)
        except ValueError:
            seconds = None
        if seconds is None or not (0 < seconds < 1e9):
            raise UsageError("invalid %s %r: give seconds, above 0" % (option, value))
        return seconds
    if dest == "output":
        if not value:
            raise UsageError("%s needs a file name" % option)
        return value
    if dest == "push":
        if not value.startswith(("http://", "https://")):
            raise UsageError("invalid %s %r: give the server's http:// or https:// URL" % (option, value))
        return value
    if dest == "app_name":
        if not value or any(c in value for c in "{}, \n"):
            raise UsageError("invalid %s %r: a name without spaces, commas or braces" % (option, value))
        return value
    if dest == "tags":
        from ..integrations.push import parse_tags

        try:
            return parse_tags(value)
        except ValueError as exc:
            raise UsageError("invalid %s %r: %s" % (option, value, exc)) from None
    if dest == "push_format":
        if value not in ("pyroscope", "otlp"):
            raise UsageError("invalid %s %r: give pyroscope or otlp" % (option, value))
        return value
    if dest == "push_interval":
        try:
            seconds = float(value)
        except ValueError:
            seconds = None
        if seconds is None or not (0.05 <= seconds <= 3600):
            raise UsageError("invalid %s %r: give seconds from 0.05 to 3600" % (option, value))
        return seconds
    raise AssertionError(dest)


def parse(argv):
    """Parses the arguments after ``run``.  Returns "help" or an Options;
    UsageError on bad input."""
    o = Options()
    i = 0
    n = len(argv)
    while i < n:
        arg = argv[i]
        if arg == "--":
            i += 1
            if i >= n:
                break
            o.script = argv[i]
            o.args = argv[i + 1 :]
            break
        if arg in ("-h", "--help"):
            return "help"
        if arg[:2] in ("-m", "-c") and not arg.startswith("--"):
            # -m MODULE / -c COMMAND, joined (-mpkg) or apart, as python takes them
            value = arg[2:]
            if not value:
                if i + 1 >= n:
                    raise UsageError("-m needs a module name" if arg == "-m" else "-c needs a command")
                value = argv[i + 1]
                i += 1
            setattr(o, "module" if arg[1] == "m" else "command", value)
            o.args = argv[i + 1 :]
            break
        if arg == "-":
            raise UsageError("reading the program from stdin is not supported; give a script file")
        if not arg.startswith("-"):
            o.script = arg
            o.args = argv[i + 1 :]
            break
        # an option
        if arg.startswith("--") and "=" in arg:
            option, value = arg.split("=", 1)
            has_value = True
        elif arg.startswith("-o") and len(arg) > 2:
            option, value = "-o", arg[2:]
            has_value = True
        else:
            option, value, has_value = arg, None, False
        if option in _FLAG_OPTIONS:
            if has_value:
                raise UsageError("option %s takes no value" % option)
            dest, flag = _FLAG_OPTIONS[option]
            setattr(o, dest, flag)
            o.given.add(option)
        elif option in _VALUE_OPTIONS:
            if not has_value:
                if i + 1 >= n:
                    raise UsageError("option %s needs a value" % option)
                i += 1
                value = argv[i]
            dest = _VALUE_OPTIONS[option]
            o.given.add(option)
            if dest == "target":
                o.targets.append(_convert(dest, option, value))
            else:
                setattr(o, dest, _convert(dest, option, value))
        else:
            raise UsageError("unknown option %r; try 'pyrometer run --help'" % option)
        i += 1

    _check_applies(o)
    if o.html:
        if o.format not in (None, "html"):
            raise UsageError("--html and --format %s disagree" % o.format)
        if o.output is not None and format_for_path(o.output, None, strict=False) not in (None, "html"):
            raise UsageError(
                "--html and -o %s disagree: --html writes the HTML viewer, %s names a %s file "
                "(give -o FILE.html, or leave --html out)"
                % (o.output, o.output, format_for_path(o.output, None, strict=False))
            )
        o.format = "html"
        if o.output is None:
            from .. import _view

            o.output = _view.default_html_path(o.script or o.module or "command")
            o.open_browser = True
    if o.script is None and o.module is None and o.command is None:
        raise UsageError("missing the program: pyrometer run [options] script.py [args ...]")
    if o.output is None:
        if o.format == "pyro":
            raise UsageError("--format pyro needs an output file (-o FILE.pyro)")
    else:
        try:
            o.format = format_for_path(o.output, o.format)
        except ValueError:
            raise UsageError(
                "cannot tell the format of %r from its extension (use %s, or --format %s)"
                % (o.output, ", ".join(sorted(EXTENSIONS)), "|".join(FORMATS))
            ) from None
    if o.format in SPAN_FORMATS and o.mode != "timeline":
        raise UsageError("the %s format holds the calls of a timeline as spans: it needs --mode timeline"
                         % o.format)
    if o.mode == "memory" and o.format == "pstats":
        raise UsageError("a memory profile cannot be written as pstats (it holds bytes, not call times); "
                         "use pyro, pprof, speedscope, collapsed, text or html")
    return o


# Options that mean something in some modes only: given in another mode they
# would be ignored silently, so they are refused (option -> (modes, what)).
_SAMPLED = ("wall", "cpu", "gil")
_CALLS = ("calls", "timeline")  # timeline: calls mode that also records every call and return
_MODE_OPTIONS = {
    "--rate": (_SAMPLED, "the sampling modes (wall, cpu, gil)"),
    "--timeline-cap": (_SAMPLED + ("timeline",), "the sampling modes and --mode timeline"),
    "--no-idle": (("wall",), "--mode wall"),
    "--builtins": (_CALLS, "--mode calls and timeline"),
    "--no-builtins": (_CALLS, "--mode calls and timeline"),
    "-s": (_CALLS, "--mode calls and timeline"),
    "--sort": (_CALLS, "--mode calls and timeline"),
    "--target": (("lines",), "--mode lines"),
    "--log-args": (("timeline",), "--mode timeline"),
    "--show-all": (_SAMPLED + ("memory",), "the call tree of the sampling and memory modes"),
    "--threshold": (_SAMPLED + ("memory",), "the call tree of the sampling and memory modes"),
    "--top": (_SAMPLED + _CALLS + ("memory",), "the sampling, calls, timeline and memory modes"),
    "--async": (_SAMPLED, "the sampling modes (wall, cpu, gil)"),
    "--native": (_SAMPLED, "the sampling modes (wall, cpu, gil)"),
    "--memory-rate": (("memory",), "--mode memory"),
    "--memory-view": (("memory",), "--mode memory"),
    "--heap-at-exit": (("memory",), "--mode memory"),
    "--native-memory": (("memory",), "--mode memory"),
    "--heap-top": (("memory",), "--mode memory"),
    "--push": (_SAMPLED, "the sampling modes (wall, cpu, gil)"),
    "--app-name": (_SAMPLED, "the sampling modes (wall, cpu, gil)"),
    "--push-interval": (_SAMPLED, "the sampling modes (wall, cpu, gil)"),
    "--push-format": (_SAMPLED, "the sampling modes (wall, cpu, gil)"),
    "--tags": (_SAMPLED, "the sampling modes (wall, cpu, gil)"),
    "--subprocesses": (_SAMPLED, "the sampling modes (wall, cpu, gil)"),
}


def _check_applies(o):
    if (o.push is None) != (o.app_name is None):
        raise UsageError("--push URL and --app-name NAME go together")
    if o.subprocesses and o.push is not None:
        raise UsageError("--subprocesses and --push do not go together (a push streams one process)")
    for option in ("--push-interval", "--push-format", "--tags"):
        if option in o.given and o.push is None:
            raise UsageError("%s goes with --push URL" % option)
    for option in sorted(o.given):
        rule = _MODE_OPTIONS.get(option)
        if rule is not None and o.mode not in rule[0]:
            raise UsageError("%s is for %s, not --mode %s" % (option, rule[1], o.mode))
    if "--heap-top" in o.given and not o.heap_at_exit:
        raise UsageError("--heap-top goes with --heap-at-exit")
    if o.mode == "timeline" and o.timeline == 0:
        raise UsageError("--mode timeline needs a --timeline-cap above 0")


# ---- checks before running the program -------------------------------------


def _check_output(path):
    """Fails now, before the program runs, if path cannot be written.  What
    path is decides how it will be written (output/pm_file.c): symlinks are
    followed; "-", a FIFO or a character device get the bytes streamed (it
    must be writable); a regular file or a new name is replaced atomically
    (its directory must accept a new file: actually tried); anything else is
    an error naming it."""
    import stat

    if path == "-":
        return
    # stat follows every link, the kernel's own too (/dev/stdout ->
    # /proc/self/fd/1 -> "pipe:[N]"); realpath is for the rest, a dangling
    # last link included.
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
            if not os.access(path, os.W_OK):
                raise Failure("cannot write %s: permission denied" % path, EXIT_USAGE)
            return
        what = (
            "a directory" if stat.S_ISDIR(mode)
            else "a socket" if stat.S_ISSOCK(mode)
            else "a block device" if stat.S_ISBLK(mode)
            else "not a regular file, FIFO or character device"
        )
        raise Failure("cannot write %s: it is %s" % (path, what), EXIT_USAGE)
    directory = os.path.dirname(os.path.realpath(os.path.abspath(path)))
    if not os.path.isdir(directory):
        what = "does not exist" if not os.path.exists(directory) else "is not a directory"
        raise Failure("cannot write %s: %s %s" % (path, directory, what), EXIT_USAGE)
    # os.open, not tempfile (whose import costs more than the rest of start-up).
    probe = os.path.join(directory, ".pyrometer-probe-%d-%s" % (os.getpid(), os.urandom(6).hex()))
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise Failure("cannot write %s: %s" % (path, exc.strerror or exc), EXIT_USAGE) from None
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass


def _load_native():
    try:
        from .. import _native
    except ImportError as exc:
        raise Failure("cannot load the C extension (pyrometer._native): %s" % exc) from None
    try:
        reason = _env.check_python(_native)
    except Exception as exc:
        raise Failure("cannot check this Python: %s" % exc) from None
    if reason:
        raise Failure("Python %s is not supported: %s" % (_env.python_version(), reason))
    return _native


class _ModuleError(Exception):
    pass


class _ProgramDidNotCompile(Exception):
    def __init__(self, error):
        Exception.__init__(self, str(error))
        self.error = error


def _prepare_program(o):
    """Everything about the program that can fail before it runs: returns a
    (kind, target, sys.argv, sys.path[0] or None) tuple."""
    if o.module is not None:
        import runpy

        argv = ["-m"] + list(o.args)
        path0 = os.getcwd()
        saved_argv, saved_path = sys.argv[:], sys.path[:]
        sys.argv[:] = argv
        _set_path0(path0)
        try:
            # Imports the parent packages, as `python -m` does before running.
            runpy._get_module_details(o.module, _ModuleError)
        except _ModuleError as exc:
            raise Failure(str(exc), EXIT_USAGE) from None
        except Exception as exc:  # an odd finder or package failing oddly
            raise Failure(
                "cannot run module %r: %s: %s" % (o.module, type(exc).__name__, exc), EXIT_USAGE
            ) from None
        finally:
            sys.argv[:], sys.path[:] = saved_argv, saved_path
        return ("module", o.module, argv, path0)

    if o.command is not None:
        # As `python -c`: sys.argv[0] "-c", sys.path[0] "" (the cwd), code
        # named "<string>", a __main__ with no __file__.
        try:
            code = compile(o.command + "\n", "<string>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            raise _ProgramDidNotCompile(exc) from None
        # 3.13+ registers the command's source so that tracebacks show its
        # lines (what python -c does, through the same private hook).
        import linecache

        register = getattr(linecache, "_register_code", None)
        if register is not None:
            # 3.13.0 keys the entry by the file name; later versions by the
            # code object, looked up through _getline_from_code.
            key = code if hasattr(linecache, "_getline_from_code") else "<string>"
            register(key, o.command, "<string>")
        return ("command", code, ["-c"] + list(o.args), "")

    script = o.script
    full = _py_abspath(script)
    argv = [script] + list(o.args)
    path0 = os.path.dirname(os.path.realpath(script))
    if os.path.isdir(full) or _is_zip(full):
        if not _has_main(full):
            raise Failure("can't find '__main__' module in %r" % full, EXIT_USAGE)
        return ("main", full, argv, full)
    import io

    try:
        with io.open_code(full) as f:
            source = f.read()
    except OSError as exc:
        raise Failure(
            "can't open file %r: [Errno %s] %s" % (full, exc.errno, exc.strerror or exc), EXIT_USAGE
        ) from None
    # Compiled now, so that a syntax error is reported before profiling
    # starts, exactly as Python reports it (no traceback, exit status 1).
    try:
        code = compile(source, full, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        raise _ProgramDidNotCompile(exc) from None
    return ("script", code, argv, path0)


def _py_abspath(path):
    """The absolute path the way CPython makes __file__ of a script: joined
    to the cwd, not normalised ("./x.py" -> "/cwd/./x.py")."""
    if not path or path == ".":
        return os.getcwd()
    if os.path.isabs(path):
        return path
    return os.path.join(os.getcwd(), path)


def _has_main(path):
    if os.path.isdir(path):
        return any(os.path.isfile(os.path.join(path, n)) for n in ("__main__.py", "__main__.pyc"))
    try:
        import zipfile

        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
        return "__main__.py" in names or "__main__.pyc" in names
    except Exception:
        return False


def _is_zip(path):
    """Whether Python would run path as a zip archive: its own test, the
    zipimport hook (always loaded, unlike zipfile)."""
    if not os.path.isfile(path):
        return False
    import zipimport

    try:
        zipimport.zipimporter(path)
        return True
    except Exception:
        return False


def _set_path0(path0):
    """sys.path[0] as `python` sets it for the program.  pyrometer's own
    launcher got the same slot (its bin directory, or the cwd for -m), so it
    is replaced; with -P / PYTHONSAFEPATH Python adds nothing, nor do we."""
    if getattr(sys.flags, "safe_path", False):
        return
    if sys.path:
        sys.path[0] = path0
    else:
        sys.path.insert(0, path0)


def _fresh_main(file=None):
    """A new __main__ module laid out like the one CPython gives a script."""
    import builtins
    import types

    main = types.ModuleType("__main__")
    d = main.__dict__
    if sys.version_info < (3, 14):
        # CPython's __main__ starts with an empty __annotations__ up to 3.13;
        # from 3.14 annotations are evaluated lazily and it has none.
        d["__annotations__"] = {}
    d["__builtins__"] = builtins
    if file is not None:
        from importlib.machinery import SourceFileLoader

        d["__loader__"] = SourceFileLoader("__main__", file)
        d["__file__"] = file
        if sys.version_info < (3, 15):
            d["__cached__"] = None  # 3.15 no longer sets it on __main__
    sys.modules["__main__"] = main
    return main


# ---- running the program -------------------------------------------------------
# The frames of these three functions are where the program starts: the
# traceback shown for an uncaught exception starts right below them.


def _run_script(code, main):
    exec(code, main.__dict__)
    _wait_for_threads()


def _run_module(name):
    import runpy

    runpy._run_module_as_main(name, alter_argv=True)
    _wait_for_threads()


def _run_main_of(path):
    import runpy

    runpy._run_module_as_main("__main__", alter_argv=False)
    _wait_for_threads()


_PROGRAM_CODES = (_run_script.__code__, _run_module.__code__, _run_main_of.__code__)


# Kinds of frames for Profile.reroot (model/pm_reroot.c).
_CHAIN, _ENTRY, _RUNPY, _DROP, _RUNPY_EXEC, _PASS = 1, 2, 3, 4, 5, 6


def _runner_frames(frame, mode=None):
    """{(file, first line): kind} of the frames that are pyrometer's runner,
    not the program: every frame from the given one (in _run) up to the
    thread's root (a console script, or runpy and pyrometer's __main__),
    the calls that run the program, and runpy's functions.  The profile is
    re-rooted below them, so the program's stacks start at the program."""
    kinds = {}
    while frame is not None:
        code = frame.f_code
        kinds[(code.co_filename, code.co_firstlineno)] = _CHAIN
        frame = frame.f_back
    # The wait for the program's threads is the interpreter's work at exit:
    # a sampled profile shows the main thread waiting there, cProfile's
    # table does not, nor does calls mode's (threading._shutdown and the
    # lock calls under it are not the program's calls).
    wait_kind = _DROP if mode in _CALLS else _ENTRY
    for func, kind in ((_run_script, _ENTRY), (_wait_for_threads, wait_kind), (_run_module, _PASS),
                       (_run_main_of, _PASS)):
        code = func.__code__
        kinds[(code.co_filename, code.co_firstlineno)] = kind
    # Calls mode times builtins: the exec() that _run_script and runpy's
    # _run_code call to run the program is the runner's, not the program's
    # (under cProfile it is the profiler's runctx that calls it).
    kinds[("~", 0, "<built-in method builtins.exec>")] = _ENTRY
    runpy = sys.modules.get("runpy")
    if runpy is not None:
        # The calls on the way to the program's code, and the rest of runpy
        # (finding the module: work for the launcher, dropped whole).
        on_the_way = ("_run_module_as_main", "_run_module_code", "run_module", "run_path")
        for name, value in list(vars(runpy).items()):
            code = getattr(value, "__code__", None)
            if code is not None and code.co_filename == runpy._run_code.__code__.co_filename:
                key = (code.co_filename, code.co_firstlineno)
                if name == "_run_code":
                    kinds[key] = _RUNPY_EXEC
                elif name in on_the_way:
                    kinds[key] = _RUNPY
                else:
                    kinds.setdefault(key, _DROP)
        # runpy's own use of the import system (ModuleSpec.cached, ...) on
        # the way to the program's code is not the program either.
        for name in ("importlib._bootstrap", "importlib._bootstrap_external"):
            for code in _codes_of(sys.modules.get(name)):
                kinds.setdefault((code.co_filename, code.co_firstlineno), _DROP)
    return kinds


def _codes_of(module):
    """The code objects of a module's functions, methods and properties."""
    if module is None:
        return
    for value in list(vars(module).values()):
        members = list(vars(value).values()) if isinstance(value, type) else [value]
        for member in members:
            for func in (member, getattr(member, "__func__", None), getattr(member, "fget", None)):
                code = getattr(func, "__code__", None)
                if code is not None:
                    yield code


def _wait_for_threads():
    """Waits for the program's non-daemon threads, exactly as the interpreter
    does right after the main module ends (threading._shutdown runs the
    threading atexit hooks then joins them, and is idempotent), so that their
    work is inside the profile."""
    import threading

    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()


def _strip_traceback(tb):
    """The part of tb below pyrometer's frames (None if nothing is left)."""
    t = tb
    while t is not None:
        if t.tb_frame.f_code in _PROGRAM_CODES:
            return t.tb_next
        t = t.tb_next
    return tb  # the exception did not come from the program: keep it whole


def _install_traceback_filter(exc):
    """Makes the interpreter print exc as it would without pyrometer: the
    program's sys.excepthook (whatever it is by then) gets the traceback
    without pyrometer's frames."""
    previous = sys.excepthook

    def excepthook(etype, value, tb):
        sys.excepthook = previous
        if value is exc:
            tb = _strip_traceback(tb)
            try:
                # The printers read the exception's own traceback first.
                value.__traceback__ = tb
            except Exception:
                pass
        previous(etype, value, tb)

    sys.excepthook = excepthook


class _Session:
    """One profiled run: owns the profile and makes sure it is written exactly
    once, whichever way the program ends."""

    def __init__(self, options, native, command):
        from .._profile import profile

        self.o = options
        self.native = native
        self.command = command
        if options.mode in _CALLS:
            from .._calls import CallsProfile

            # A timeline shows Python calls unless --builtins asks for C ones.
            default = options.mode == "calls"
            builtins = default if options.builtins is None else options.builtins
            self.prof = CallsProfile(builtins=builtins,
                                     timeline=options.timeline if options.mode == "timeline" else 0,
                                     log_args=options.log_args)
        elif options.mode == "lines":
            from .._lines import LinesProfile

            self.prof = LinesProfile(targets=options.targets, root=options.source_root)
        elif options.mode == "memory":
            from .._memory import DEFAULT_RATE

            self.prof = profile(mode="memory", memory_rate=options.memory_rate or DEFAULT_RATE,
                                memory_view=options.memory_view or "peak", native_memory=options.native_memory)
        else:
            self.prof = profile(
                rate=options.rate, mode=options.mode, idle=options.idle, timeline=options.timeline,
                async_tasks=options.async_tasks, native=options.native,
            )
        self.pid = os.getpid()
        self.started_ok = False
        self.finished = False
        self.sigterm_proxy = None
        self.runner_frames = None
        self.runner_thread = 0
        self.children = None  # --subprocesses: a _subprocesses.Run
        self.heap = None  # --heap-at-exit: a _heapexit.HeapAtExit
        if options.heap_at_exit:
            # Imported before the sampler starts: its imports (json) are
            # not the program's allocations.
            from .. import _heapexit  # noqa: F401

    def heap_start(self):
        """--heap-at-exit: the heap snapshot, right before the program's
        code runs (pyrometer's own start-up objects are older than it)."""
        if not self.o.heap_at_exit or not self.started_ok:
            return
        sampler = self.prof._sampler
        sampler.quiet(True)  # none of this is the program's allocations
        try:
            from .._heapexit import HeapAtExit

            heap = HeapAtExit(sampler, self.o.heap_top)
            heap.start(sys._getframe(1))
            self.heap = heap
        except Exception as exc:
            _say("--heap-at-exit: cannot take the heap snapshot at start (%s): no heap report" % exc)
        finally:
            sampler.quiet(False)

    def _heap_collect(self, by_signal):
        """The census at exit, first thing after the program's code (the
        sampler still running, told to ignore this thread)."""
        heap, self.heap = self.heap, None
        if heap is None:
            return None
        if by_signal:
            _say("--heap-at-exit: the program was ended by SIGTERM: no heap report")
            return None
        heap.sampler.quiet(True)  # none of this is the program's allocations
        try:
            # The program's buffered output is written first (as at exit):
            # text waiting in a stream's buffer is not what the program keeps.
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            heap.collect()
            return heap
        except Exception as exc:
            _say("--heap-at-exit: the heap census failed (%s: %s); the memory profile is kept"
                 % (type(exc).__name__, exc))
            return None
        finally:
            heap.sampler.quiet(False)

    def _heap_store(self, heap):
        """Stacks of the sampled survivors and the meta, before re-rooting
        (which renumbers the nodes)."""
        try:
            heap.finish(self.prof.native)
            return heap
        except Exception as exc:
            _say("--heap-at-exit: the heap report failed (%s: %s); the memory profile is kept"
                 % (type(exc).__name__, exc))
            return None

    def start(self):
        try:
            self.prof.start(command=self.command)
        except RuntimeError as exc:
            # The native side runs its self-check here (the stack reader
            # against sys._getframe()) and says what disagreed.
            raise Failure("cannot start profiling: %s" % exc) from None
        self.started_ok = True
        if self.o.mode == "memory":
            # A stack read for an allocation stops at the frame that runs the
            # program: the launcher's frames around it do not change.
            self.prof._sampler.entry_codes(_PROGRAM_CODES)
        o = self.o
        # The service that a timeline's calls are spans of (the OTLP and
        # Zipkin formats): the program, as an application names itself.
        service = o.app_name or o.module or (os.path.splitext(os.path.basename(o.script))[0] if o.script else None)
        if service:
            self.prof.native.set_meta("service_name", service)
        self.pusher = None
        if self.o.push is not None:
            from ..integrations.push import Pusher

            self.pusher = Pusher(self.prof.native, self.o.push, self.o.app_name, self.o.push_interval,
                                 rate=self.o.rate, mode=self.o.mode, format=self.o.push_format,
                                 tags=dict(self.o.tags or ()))
            if self.runner_frames:
                self.pusher.reroot = (self.runner_frames, self.runner_thread)
            self.pusher.start()

    # SIGTERM: if the program leaves SIGTERM alone, write the profile then
    # die of SIGTERM as the program would have.  The SIGTERM handler is a C
    # one below Python's signal module (pm_bind_signals.c): the program's
    # signal.getsignal(SIGTERM) stays SIG_DFL, and a forked child (a
    # multiprocessing worker) dies of SIGTERM at once, as without pyrometer,
    # instead of inheriting a Python-level handler that a worker blocked in
    # sem_wait never runs.  In this process the C handler forwards to
    # Python's handler of a proxy signal (a real-time one the program leaves
    # alone), whose Python callable is _on_sigterm.  _signal is what signal
    # wraps, without the enum import signal costs at start-up.
    def install_sigterm(self):
        import _signal as signal

        try:
            if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
                return
            proxy = None
            # Python's table says SIG_DFL for a signal handled below it (the
            # sampler's capture signal): the kernel has the last word.
            for candidate in range(signal.SIGRTMAX, signal.SIGRTMIN, -1):
                if signal.getsignal(candidate) == signal.SIG_DFL and self.native._signal_free(candidate):
                    proxy = candidate
                    break
            if proxy is None:
                return
            signal.signal(proxy, self._on_sigterm)
            if not self.native._sigterm_install(proxy):
                signal.signal(proxy, signal.SIG_DFL)
                return
            self.sigterm_proxy = proxy
            os.register_at_fork(after_in_child=self._forget_sigterm)
        except (ValueError, OSError, AttributeError):
            pass  # not the main thread, or no such signals on this platform

    def _forget_sigterm(self):
        """In a forked child: no Python-level handler of ours survives (the C
        one already lets SIGTERM kill the child)."""
        proxy, self.sigterm_proxy = self.sigterm_proxy, None
        if proxy is not None:
            import _signal as signal

            try:
                if signal.getsignal(proxy) == self._on_sigterm:
                    signal.signal(proxy, signal.SIG_DFL)
            except Exception:
                pass

    def _uninstall_sigterm(self):
        if self.sigterm_proxy is None:
            return
        try:
            self.native._sigterm_uninstall()
        except Exception:
            pass
        self._forget_sigterm()

    def _on_sigterm(self, signum, frame):
        import _signal as signal

        if not self.finished and os.getpid() == self.pid:
            self.finish(by_signal=True)
        self._uninstall_sigterm()
        os.kill(os.getpid(), signal.SIGTERM)
        # Only reached if SIGTERM is blocked in this thread; it is pending and
        # kills the process as soon as it is unblocked.  Be sure anyway.
        import time

        time.sleep(1)
        os._exit(128 + signal.SIGTERM)

    def finish(self, by_signal=False):
        """Stops the sampler and writes the profile; returns False if the
        profile could not be written where asked.  Runs at most once."""
        if self.finished:
            return True
        self.finished = True
        self._uninstall_sigterm()
        if os.getpid() != self.pid or not self.started_ok:
            return True  # a forked child, or nothing was collected
        heap = self._heap_collect(by_signal)
        try:
            self.prof.stop()
        except Exception as exc:
            _say("stopping the sampler failed: %s" % exc)
        if getattr(self, "pusher", None) is not None:
            p = self.pusher.stop()
            if p.queue or p.dropped:
                _say("%d of the profile's intervals could not be pushed to %s" % (len(p.queue) + p.dropped,
                                                                                   self.o.push))
        if self.o.mode == "timeline":
            dropped = self.prof.native.counts().get("events_dropped", 0)
            if dropped:
                _say("timeline: the oldest %d events (calls and returns) were dropped; the newest %d are kept "
                     "(--timeline-cap)" % (dropped, self.o.timeline))
            not_shown = self.prof.native.meta.get("log_args_dropped")
            if not_shown:
                _say("--log-args: %d calls and returns were not shown: only so many different texts are kept "
                     "(each is an entry of the profile)" % not_shown)
        if heap is not None:
            heap = self._heap_store(heap)
        # Lines mode has no stacks to re-root (a node per target function).
        if self.runner_frames and self.o.mode != "lines":
            try:
                self.prof.native.reroot(self.runner_frames, self.runner_thread)
            except Exception as exc:  # the profile is still whole: write it
                _say("cannot drop pyrometer's own frames: %s" % exc)
        if self.children is not None:
            self.children.collect(self.prof.native, self.runner_frames, self.runner_thread)
        if self.o.format in ("pyro", "html") and self.o.source_root and self.o.source:
            from .. import _view

            _view.embed_sources(self.prof.native, self.o.source_root)
        written = self._emit()
        if heap is not None:
            self._heap_print(heap)
        return written

    def _heap_print(self, heap):
        """The --heap-at-exit section on stderr, after the memory report."""
        from .._heapexit import text

        try:
            sys.stdout.flush()
        except Exception:
            pass
        try:
            sys.stderr.write(text(heap.report))
            sys.stderr.flush()
        except Exception as exc:
            _say("--heap-at-exit: cannot print the heap report (%s)" % exc)

    def finish_at_exit(self):
        """--subprocesses: the profile is written at the interpreter's exit,
        after the program's atexit functions (multiprocessing's among them,
        which end its daemonic workers: their profiles are in by then)."""
        if os.getpid() != self.pid or self.finished:
            return
        if not self.finish():
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(EXIT_FAILURE)

    def _emit(self):
        o = self.o
        from .._profile import default_color, default_width

        report = dict(show_all=o.show_all, threshold=o.threshold, top=o.top)
        if o.mode in _CALLS:
            # cProfile's table: every row unless --top says otherwise.
            report["top"] = o.top if "--top" in o.given else None
            report["sort"] = o.sort or "cumulative"
            if o.cprofile_cli:  # exactly what python -m cProfile prints
                report.update(strip_dirs=True, quality=False)
        try:
            if o.output is None:
                stream = sys.stdout if o.cprofile_cli else sys.stderr
                if o.format == "collapsed":
                    stream.write(self.prof.to_bytes("collapsed").decode("utf-8", "replace"))
                    stream.flush()
                else:
                    color = default_color(stream) if o.color is None else o.color
                    self.prof.print(stream, color=color, width=default_width(stream), **report)
                return True
            # The program's buffered output goes first into a stream we share
            # (-o -, /dev/stdout, a pipe): a file is written in one go below.
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            if o.format == "text":
                color = bool(o.color)  # a file gets colours only when asked
                self.prof.write(o.output_path, "text", color=color, width=100, **report)
            elif o.format == "html":
                self.prof.write(o.output_path, o.format, source=o.source)
            else:
                self.prof.write(o.output_path, o.format)
            if not o.cprofile_cli:
                _say("wrote %s%s" % (o.output, self._sources_note() if o.format in ("pyro", "html") else ""))
            if o.open_browser:
                from .. import _view

                _view.open_in_browser(o.output_path)
            return True
        except Exception as exc:  # never lose the profile: save it elsewhere
            reason = str(exc)
            if not reason.startswith("cannot write"):
                reason = "cannot write %s: %s" % (o.output or "the report", reason)
            saved = self._save_fallback()
            if saved:
                reason += "; profile saved to %s" % saved
            _say(reason)
            return False

    def _sources_note(self):
        """Which of the program's files a .pyro or HTML file carries whole
        (for the viewer's source view): said, since such files get shared."""
        files = sorted(k[len("source:"):] for k in self.prof.native.meta if k.startswith("source:"))
        if not files:
            return ""
        shown = ", ".join(files[:5]) + (" and %d more" % (len(files) - 5) if len(files) > 5 else "")
        return ", with the source of %d file%s embedded (--no-source leaves it out): %s" % (
            len(files), "" if len(files) == 1 else "s", shown)

    def _save_fallback(self):
        import tempfile

        try:
            fd, path = tempfile.mkstemp(prefix="pyrometer-%d-" % os.getpid(), suffix=".pyro")
            os.close(fd)
            self.prof.write(path, "pyro")
            return path
        except Exception:
            return None


def _launcher_files():
    """The files of the frames below the program's on the main thread
    (pyrometer's runner, python -m's runpy, the pyrometer script)."""
    import runpy

    from . import __file__ as cli_file

    files = {__file__, cli_file, runpy.__file__, "<frozen runpy>", os.path.abspath(sys.argv[0])}
    main = sys.modules.get("pyrometer.__main__")
    if main is not None:
        files.add(main.__file__)
    return sorted(f for f in files if f)


def main(o, command):
    native = _load_native()
    if o.output is not None:
        _check_output(o.output)
        # The program may chdir; the file goes where the user meant.
        o.output_path = o.output if o.output == "-" else os.path.abspath(o.output)
    try:
        kind, target, argv, path0 = _prepare_program(o)
        o.source_root = path0
    except _ProgramDidNotCompile as exc:
        error = exc.error.with_traceback(None)  # Python shows no frames for it
        sys.excepthook(type(error), error, None)
        return EXIT_FAILURE
    session = _Session(o, native, command)
    session.runner_frames = _runner_frames(sys._getframe(), o.mode)
    import _thread

    session.runner_thread = _thread.get_ident()
    if o.dump_on or o.hang or o.dump_on_fatal:
        # Before the sampler: its fault guard hands on the faults it does
        # not own to the handler in place when it starts (ours).
        try:
            native._watch_start(o.hang, o.dump_on, o.dump_on_fatal, _launcher_files())
        except RuntimeError as exc:
            raise Failure("cannot watch this process's stacks: %s" % exc) from None
    session.start()  # the self-check: Failure before anything changed
    if o.subprocesses:
        import atexit

        from .. import _subprocesses

        session.children = _subprocesses.Run(o)
        # Registered before the program imports anything: it runs last.
        atexit.register(session.finish_at_exit)

    # From here on the process belongs to the program.
    sys.argv[:] = argv
    _set_path0(path0)
    main = _fresh_main(target.co_filename if kind == "script" else None)
    session.install_sigterm()
    session.heap_start()
    try:
        if kind in ("script", "command"):
            _run_script(target, main)
        elif kind == "module":
            _run_module(target)
        else:
            _run_main_of(target)
    except BaseException as exc:
        if not o.subprocesses:
            session.finish()
        if not isinstance(exc, SystemExit):
            _install_traceback_filter(exc)
        raise
    if o.subprocesses:
        return 0  # finished at exit
    if not session.finish():
        return EXIT_FAILURE  # the program succeeded but its profile was not written
    if o.log_args is not None and not session.prof.native.meta.get("log_args_matched"):
        # Said after the profile is written: the run is kept, the pattern was wrong.
        _say("--log-args %r matched no function that ran: no arguments were logged" % o.log_args.pattern)
        return EXIT_FAILURE
    return 0


