"""Facts about the running interpreter that go into a profile: the version
strings, the command line and the directories whose code counts as library
code in the report."""
import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def pyrometer_version():
    # A constant, not importlib.metadata: that import alone costs tens of
    # milliseconds of every profiled program's start-up.
    from ._version import __version__

    return __version__


def python_version():
    return "%d.%d.%d" % sys.version_info[:3]


_warned = False


def check_python(native):
    """None when pyrometer can sample here, else why not (one line).  A
    CPython newer than the newest tested runs only when the C core could
    check its layout (_Py_DebugOffsets, the self-check); it then says so on
    stderr, one line, once per process."""
    global _warned
    ok, message = native.supported()
    if not ok:
        return message
    if message and not _warned:
        _warned = True
        try:
            sys.stderr.write("pyrometer: warning: %s\n" % message)
            sys.stderr.flush()
        except Exception:
            pass
    return None


# shlex.quote's rule, without shlex: its import (and re's) would be a
# quarter of pyrometer's start-up.
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-")


def _quote(s):
    if not s:
        return "''"
    if all(c in _SAFE for c in s):
        return s
    return "'" + s.replace("'", "'\"'\"'") + "'"


def command_line(argv=None):
    argv = sys.argv if argv is None else argv
    return " ".join(_quote(str(a)) for a in argv)


def library_prefixes():
    """Directory prefixes (each ending in a separator) under which files are
    library code: the standard library, site-packages (of the venv and of the
    base installation, user site too), the lib directories of sys.prefix and
    sys.base_prefix, the console scripts' directory, and pyrometer's own
    package.  Both the path as Python
    reports it and its realpath are listed, so symlinked installs match."""
    import sysconfig

    dirs = []
    try:
        paths = sysconfig.get_paths()
    except Exception:
        paths = {}
    # "scripts" and the interpreter's directory hold console scripts such
    # as pyrometer's own launcher (the bottom frame of a profiled program).
    for key in ("stdlib", "platstdlib", "purelib", "platlib", "scripts"):
        if paths.get(key):
            dirs.append(paths[key])
    if sys.executable:
        dirs.append(os.path.dirname(sys.executable))
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        for lib in ("lib", "lib64"):
            dirs.append(os.path.join(prefix, lib))
    try:
        import site

        dirs.extend(site.getsitepackages())
        user = site.getusersitepackages()
        if isinstance(user, str):
            dirs.append(user)
    except Exception:
        pass
    dirs.append(_PACKAGE_DIR)

    out = ["<frozen "]  # frozen stdlib modules (importlib, runpy on 3.11+)
    seen = set(out)
    for d in dirs:
        if not d:
            continue
        for variant in (os.path.abspath(d), os.path.realpath(d)):
            p = variant.rstrip(os.sep) + os.sep
            if p not in seen:
                seen.add(p)
                out.append(p)
    return tuple(out)
