"""``pyrometer trace``: the stdlib ``trace`` module's modes, counted in C.

``pyrometer trace [options] script.py|-m module [args...]`` runs
the program as ``pyrometer run`` does (same argv, ``__main__``, output,
exceptions and exit status) with the line counter of
``bind/pm_bind_trace.c``, which sees the events ``sys.settrace`` gives
``python -m trace``, so the counts are the same.  The results are handed to
the stdlib's own ``trace.CoverageResults``, so the ``.cover`` files, the
summary table and the function lists are in trace's exact layout.
"""
import os
import sys

from ._shared import EXIT_FAILURE, EXIT_USAGE, Failure, UsageError

DEFAULT_LIMIT = 1000000

HELP = """\
usage: pyrometer trace [options] script.py [args ...]
       pyrometer trace [options] -m module [args ...]

Runs a Python program and reports what `python -m trace` reports: line
counts, the functions called, who called whom, or each line as it runs.
Code of the standard library and of pyrometer is left out.

modes (at least one):
  -c, --count          count each line's executions; writes an annotated
                       MODULE.cover per file (beside the source, or in
                       --coverdir), `    N: ` before lines that ran
  --coverage-only      with --count: whether each line ran, not how often
                       (3.12+: a line costs nothing after its first run)
  -l, --listfuncs      list the functions called
  -T, --trackcalls     list the calling relationships (caller -> callee)
  -t, --trace          print each line as it runs (time in seconds, thread
                       name, file(line): source) on stderr or --trace-file

options:
  -C, --coverdir DIR   directory for the .cover files
  --missing            mark lines never run with `>>>>>> `
  -s, --summary        a summary table (lines, cov%%, module, path) per file
  --trace-file FILE    where --trace writes (default: stderr)
  --limit N            --trace: lines printed at most (default %d)
  --ignore-module MODS modules to leave out (comma-separated; a package
                       leaves out its submodules; repeatable)
  --ignore-dir DIRS    directories to leave out (%s-separated; $prefix and
                       $exec_prefix are expanded; repeatable)
  --target PATTERN     trace only these: a file or directory (globs allowed)
                       or a module (pkg.mod); repeatable
  --include-stdlib     also trace the standard library
  -h, --help           show this help and exit
""" % (DEFAULT_LIMIT, os.pathsep)


class Options:
    def __init__(self):
        self.count = self.coverage_only = self.listfuncs = self.trackcalls = self.trace = False
        self.missing = self.summary = self.include_stdlib = False
        self.coverdir = self.trace_file = None
        self.limit = DEFAULT_LIMIT
        self.ignore_modules = []
        self.ignore_dirs = []
        self.targets = []
        self.script = self.module = self.command = None
        self.args = []
        self.is_trace = True


_FLAGS = {
    "-c": "count", "--count": "count", "--coverage-only": "coverage_only",
    "-l": "listfuncs", "--listfuncs": "listfuncs", "-T": "trackcalls", "--trackcalls": "trackcalls",
    "-t": "trace", "--trace": "trace", "--missing": "missing", "-s": "summary", "--summary": "summary",
    "--include-stdlib": "include_stdlib",
}
_VALUES = {
    "-C": "coverdir", "--coverdir": "coverdir", "--trace-file": "trace_file", "--limit": "limit",
    "--ignore-module": "ignore_modules", "--ignore-dir": "ignore_dirs", "--target": "targets",
}


def parse(argv):
    """The arguments after ``trace``: "help" or an Options."""
    o = Options()
    i, n = 0, len(argv)
    while i < n:
        arg = argv[i]
        if arg in ("-h", "--help"):
            return "help"
        if arg == "--":
            if i + 1 < n:
                o.script, o.args = argv[i + 1], argv[i + 2:]
            break
        if arg == "-m" or (arg.startswith("-m") and not arg.startswith("--")):
            value = arg[2:] or (argv[i + 1] if i + 1 < n else None)
            if not value:
                raise UsageError("-m needs a module name")
            o.module = value
            o.args = argv[i + (1 if arg[2:] else 2):]
            break
        if not arg.startswith("-") or arg == "-":
            if arg == "-":
                raise UsageError("reading the program from stdin is not supported; give a script file")
            o.script, o.args = arg, argv[i + 1:]
            break
        option, value = (arg.split("=", 1) + [None])[:2] if arg.startswith("--") else (arg, None)
        if option in _FLAGS:
            if value is not None:
                raise UsageError("option %s takes no value" % option)
            setattr(o, _FLAGS[option], True)
        elif option in _VALUES:
            if value is None:
                if i + 1 >= n:
                    raise UsageError("option %s needs a value" % option)
                i += 1
                value = argv[i]
            _set_value(o, option, _VALUES[option], value)
        else:
            raise UsageError("unknown option %r; try 'pyrometer trace --help'" % option)
        i += 1
    # -c is --count, as in trace: a program is a script or -m module.
    if not (o.count or o.coverage_only or o.listfuncs or o.trackcalls or o.trace):
        raise UsageError("give at least one of --count, --coverage-only, --listfuncs, --trackcalls, --trace")
    if o.coverage_only:
        o.count = True
        if o.trace:
            raise UsageError("--coverage-only counts each line once, so it cannot --trace every line")
    for option, given in (("--coverdir", o.coverdir), ("--missing", o.missing), ("--summary", o.summary)):
        if given and not o.count:
            raise UsageError("%s is for --count (or --coverage-only)" % option)
    if o.trace_file is not None and not o.trace:
        raise UsageError("--trace-file is for --trace")
    if o.coverdir is not None and os.path.exists(o.coverdir) and not os.path.isdir(o.coverdir):
        raise UsageError("--coverdir %r is not a directory" % o.coverdir)
    if o.script is None and o.module is None:
        raise UsageError("missing the program: pyrometer trace [options] script.py [args ...]")
    return o


def _set_value(o, option, dest, value):
    if dest == "limit":
        try:
            limit = int(value, 10)
        except ValueError:
            limit = 0
        if limit <= 0:
            raise UsageError("invalid %s %r: give a whole number of lines above 0" % (option, value))
        o.limit = limit
    elif dest == "ignore_modules":
        o.ignore_modules += [m.strip() for m in value.split(",") if m.strip()]
    elif dest == "ignore_dirs":
        o.ignore_dirs += [_expand_dir(d) for d in value.split(os.pathsep) if d]
    elif dest == "targets":
        if not value:
            raise UsageError("%s needs a file, directory or module" % option)
        o.targets.append(value)
    else:
        if not value:
            raise UsageError("%s needs a path" % option)
        setattr(o, dest, value)


def _expand_dir(d):
    """As trace does: $prefix and $exec_prefix, then an absolute, normal path."""
    d = d.replace("$prefix", os.path.join(sys.base_prefix, "lib", "python" + sys.version[:3].rstrip(".")))
    d = d.replace("$exec_prefix", os.path.join(sys.base_exec_prefix, "lib", "python" + sys.version[:3].rstrip(".")))
    return os.path.normpath(os.path.abspath(os.path.expanduser(d)))


# ---- what is traced ----------------------------------------------------------


def _stdlib_dirs():
    """The standard library's directories, and the site-packages directories
    (third-party code, not the stdlib, even where they sit inside a stdlib
    directory: a venv's platstdlib is the venv's own lib/pythonX.Y)."""
    import site
    import sysconfig

    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix, "installed_base": sys.base_prefix,
            "installed_platbase": sys.base_exec_prefix}
    dirs, sites = set(), set()
    for paths in (sysconfig.get_paths(), sysconfig.get_paths(vars=base)):
        for key in ("stdlib", "platstdlib"):
            if paths.get(key):
                dirs.add(os.path.normpath(paths[key]))
        for key in ("purelib", "platlib"):
            if paths.get(key):
                sites.add(os.path.normpath(paths[key]))
    for prefix in (sys.base_prefix, sys.base_exec_prefix):
        dirs.add(os.path.join(prefix, "lib", "python%d.%d" % sys.version_info[:2]))
    try:
        sites.update(os.path.normpath(d) for d in site.getsitepackages())
    except Exception:  # some embedded or old site modules lack it
        pass
    return sorted(dirs), sorted(sites)


class _Scope:
    """Decides, once per code object, whether it is traced."""

    def __init__(self, o):
        import trace

        own = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        dirs = list(o.ignore_dirs) + [own]
        self.stdlib, self.sites = ([], []) if o.include_stdlib else _stdlib_dirs()
        self.ignore = trace._Ignore(o.ignore_modules, dirs)
        self.targets = [_target(t) for t in o.targets]
        self.by_file = {}

    def __call__(self, code):
        filename = code.co_filename
        answer = self.by_file.get(filename)
        if answer is None:
            answer = self.by_file[filename] = self._decide(filename)
        return answer

    def _decide(self, filename):
        import trace

        if filename.startswith("<frozen ") and self.stdlib:
            return False
        path = os.path.abspath(filename) if not filename.startswith("<") else filename
        if any(path.startswith(d + os.sep) for d in self.stdlib) and not any(
                path.startswith(d + os.sep) for d in self.sites):
            return False
        if self.ignore.names(filename, trace._modname(filename)):
            return False
        if self.targets:
            return any(t(path) for t in self.targets)
        return True


def _target(pattern):
    import fnmatch
    import glob

    if os.path.exists(pattern) or glob.has_magic(pattern):
        full = os.path.normpath(os.path.abspath(pattern))
        if os.path.isdir(full):
            return lambda path: path.startswith(full + os.sep)
        return lambda path: fnmatch.fnmatch(path, full) or path == full

    def in_module(path):
        import trace

        name = trace._fullmodname(path)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        return name == pattern or name.startswith(pattern + ".")

    return in_module


def _check_targets(targets, path):
    """A --target that names no file and no module on the program's path is
    a mistake the user wants to hear of before the program runs (found
    without importing anything: the program's imports stay its own)."""
    import glob

    for t in targets:
        if os.path.exists(t) or glob.has_magic(t):
            continue
        rel = t.replace(".", os.sep)
        if not any(os.path.isfile(os.path.join(d or os.curdir, rel + ".py")) or
                   os.path.isdir(os.path.join(d or os.curdir, rel)) for d in path):
            raise UsageError("--target %r matched no code: no such file, directory or module" % t)


def _thread_name():
    import threading

    return threading.current_thread().name


# ---- names as trace gives them -----------------------------------------------


class _Names:
    """(filename, modulename, funcname) of a code object, funcname with its
    class as trace finds it (the one function holding the code, the one
    dict holding the function, the one class holding the dict)."""

    def __init__(self):
        self.cache = {}

    def __call__(self, code):
        key = id(code)
        got = self.cache.get(key)
        if got is None:
            got = self.cache[key] = self._name(code)
        return got

    @staticmethod
    def _name(code):
        import gc
        import inspect
        import trace

        filename = code.co_filename
        modulename = trace._modname(filename) if filename else None
        funcname = code.co_name
        funcs = [f for f in gc.get_referrers(code) if inspect.isfunction(f)]
        if len(funcs) == 1:
            dicts = [d for d in gc.get_referrers(funcs[0]) if isinstance(d, dict)]
            if len(dicts) == 1:
                classes = [c for c in gc.get_referrers(dicts[0]) if hasattr(c, "__bases__")]
                if len(classes) == 1:
                    funcname = "%s.%s" % (classes[0].__name__, funcname)
        return filename, modulename, funcname


class _Classifier:
    """classify(code) for the counter: the scope, plus the names of traced
    code taken while its function is alive (for --listfuncs/--trackcalls)."""

    def __init__(self, scope, names):
        self.scope = scope
        self.names = names

    def __call__(self, code):
        traced = self.scope(code)
        if traced and self.names is not None:
            self.names(code)
        return traced


# ---- running -------------------------------------------------------------------


def main(o, command=None):
    from . import run as runmod

    native = runmod._load_native()
    if o.coverdir is not None:
        o.coverdir = os.path.abspath(o.coverdir)
        try:
            os.makedirs(o.coverdir, exist_ok=True)
        except OSError as exc:
            raise Failure("cannot make --coverdir %r: %s" % (o.coverdir, exc.strerror or exc), EXIT_USAGE) from None
    trace_out = None
    if o.trace_file is not None:
        try:
            trace_out = open(o.trace_file, "w", encoding="utf-8", errors="replace")
        except OSError as exc:
            raise Failure("cannot write --trace-file %r: %s" % (o.trace_file, exc.strerror or exc)) from None
    try:
        kind, target, argv, path0 = runmod._prepare_program(o)
    except runmod._ProgramDidNotCompile as exc:
        error = exc.error.with_traceback(None)
        sys.excepthook(type(error), error, None)
        return EXIT_FAILURE
    _check_targets(o.targets, [path0] + sys.path[1:])
    names = _Names() if (o.listfuncs or o.trackcalls) else None
    counter = native.LineCounter(
        _Classifier(_Scope(o), names), count=o.count, first_only=o.coverage_only,
        calls=o.listfuncs or o.trackcalls, callers=o.trackcalls,
        log_limit=o.limit if o.trace else 0, thread_name=_thread_name,
    )
    cwd = os.getcwd()  # the program may chdir; relative paths are the user's
    pid = os.getpid()  # a forked child that returns here writes nothing
    sys.argv[:] = argv
    runmod._set_path0(path0)
    main_mod = runmod._fresh_main(target.co_filename if kind == "script" else None)
    restore = _resolve_module_first(target) if kind == "module" else None
    counter.enable()
    try:
        if kind in ("script", "command"):
            runmod._run_script(target, main_mod)
        elif kind == "module":
            runmod._run_module(target)
        else:
            runmod._run_main_of(target)
    except BaseException as exc:
        counter.disable()
        if restore:
            restore()
        if os.getpid() == pid:
            _report(o, counter, names, trace_out, cwd)
        if not isinstance(exc, SystemExit):
            runmod._install_traceback_filter(exc)
        raise
    counter.disable()
    if restore:
        restore()
    if os.getpid() == pid:
        _report(o, counter, names, trace_out, cwd)
    return 0


def _resolve_module_first(name):
    """Finds -m's module before tracing starts, as `python -m trace --module`
    does, so that the import system's finders (site-packages ones included)
    run only for the program's own imports while counted.  runpy is then
    handed the answer (its own _run_module_as_main runs the program, so the
    program's frames and tracebacks are python -m's); returns the undo."""
    import runpy

    original = runpy._get_module_details
    try:
        details = original(name)
    except Exception:
        return None  # runpy says what is wrong when it runs

    def known(mod_name, error=ImportError):
        if mod_name == name:
            return details
        return original(mod_name, error)

    runpy._get_module_details = known

    def restore():
        if runpy._get_module_details is known:
            runpy._get_module_details = original

    return restore


def _report(o, counter, names, trace_out, cwd):
    """Writes what was asked for; never raises (the program's own ending must
    stay what it was), a failure is one line on stderr."""
    from ._shared import say as _say

    try:
        saved = os.getcwd()
    except OSError:
        saved = None
    try:
        os.chdir(cwd)
        if o.trace:
            _write_log(o, counter, trace_out)
        _write_results(o, counter, names)
        if counter.oom:
            _say("out of memory while tracing: some events were not counted")
    except Exception as exc:
        _say("cannot write the results: %s: %s" % (type(exc).__name__, exc))
    finally:
        if saved is not None and saved != cwd:
            try:
                os.chdir(saved)
            except OSError:
                pass


def _write_log(o, counter, out):
    import linecache

    from ._shared import say as _say

    codes, threads = counter.codes, counter.threads
    stream = out or sys.stderr
    write = stream.write
    for thread, idx, line, t in counter.log():
        filename = codes[idx].co_filename
        write("%.6f %s %s(%d): %s" % (t, threads[thread], os.path.basename(filename), line,
                                      linecache.getline(filename, line) or "\n"))
    stream.flush()
    if out is not None:
        out.close()
    if counter.dropped:
        _say("--trace: %d more lines ran after the first %d (--limit)" % (counter.dropped, o.limit))


def _write_results(o, counter, names):
    import trace

    codes = counter.codes
    counts = {}
    if o.count:
        for idx, line, n in counter.counts():
            key = (codes[idx].co_filename, line)
            # A line shared by two code objects (a class statement and its
            # body) adds up, as trace counts it; covered is covered once.
            counts[key] = 1 if o.coverage_only else counts.get(key, 0) + n
    calledfuncs = {}
    callers = {}
    if names is not None:
        if o.listfuncs:
            for idx in counter.called():
                calledfuncs[names(codes[idx])] = 1
        if o.trackcalls:
            for parent, child in counter.pairs():
                callers[(names(codes[parent]), names(codes[child]))] = 1
    results = trace.CoverageResults(counts=counts, calledfuncs=calledfuncs, callers=callers)
    results.write_results(show_missing=o.missing, summary=o.summary, coverdir=o.coverdir)
