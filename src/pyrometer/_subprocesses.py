"""``pyrometer run --subprocesses``: profiles every Python process the program
starts, and merges their profiles into the run's, one level per process.

How a process joins:
  - a new interpreter (subprocess, multiprocessing's spawn and forkserver, any
    exec of Python) finds a ``sitecustomize`` in a private directory that the
    run puts first on PYTHONPATH (the environment variable ENV names the
    run's directory).  It takes its own directory off sys.path, starts a
    profile with the run's options, then imports the sitecustomize it hid,
    if there is one, so the program's own start-up hook still runs;
  - a forked child (os.fork, multiprocessing's fork workers, a forkserver's
    workers) starts a profile of its own in an os.register_at_fork hook (the
    sampler thread does not survive fork).
Each child writes DIR/PID.pyro when it ends: at exit (atexit), at os._exit
(which multiprocessing's fork and forkserver workers end with; wrapped in
the child only) and on SIGTERM, which pm_bind_signals.c handles below Python
(a thread of ours writes the file, then the child dies of SIGTERM as it
would have).  A child killed by SIGKILL loses its own samples only.  The run
merges every file at its end, its threads named "pid N name".
"""
import os
import sys

ENV = "PYROMETER_SUBPROCESSES"
_OPTIONS = ("rate", "mode", "idle", "timeline", "async_tasks", "native")
_BOOT = '''\
# pyrometer run --subprocesses: profiles this interpreter, then runs the
# sitecustomize this one hides, if any.
def _pyrometer_boot():
    import os, sys
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if not p or os.path.abspath(p) != here]
    try:
        from pyrometer import _subprocesses
        _subprocesses.child_start()
    except Exception:
        pass
    del sys.modules["sitecustomize"]
    try:
        import sitecustomize
    except ImportError as exc:  # (any Python may read this file: no .name before 3.3)
        if getattr(exc, "name", "sitecustomize") != "sitecustomize":
            raise
        sys.modules["sitecustomize"] = _pyrometer_this


_pyrometer_this = __import__("sys").modules[__name__]
_pyrometer_boot()
del _pyrometer_boot, _pyrometer_this
'''

_current = None  # this process's _Child
_hooked = False  # os.register_at_fork done in this interpreter


# ---- in the run -------------------------------------------------------------


class Run:
    """The run's side: the directory, the environment, the merge."""

    def __init__(self, options):
        import tempfile

        self.pid = os.getpid()
        self.dir = tempfile.mkdtemp(prefix="pyrometer-subprocesses-")
        boot = os.path.join(self.dir, "boot")
        os.mkdir(boot)
        with open(os.path.join(boot, "sitecustomize.py"), "w") as f:
            f.write(_BOOT)
        with open(os.path.join(self.dir, "options"), "w") as f:
            for key in _OPTIONS:
                f.write("%s=%s\n" % (key, getattr(options, key)))
        self.options = options
        # Set in the environment itself (putenv): children inherit it however
        # they are started, and a copy of os.environ passed as env= too.
        old = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = boot + (os.pathsep + old if old else "")
        os.environ[ENV] = self.dir
        _hook_fork()

    def collect(self, native_profile, runner_frames=None, runner_thread=0):
        """Names the run's threads after its pid and merges every child's
        profile into native_profile; returns the number of processes merged.
        The directory goes."""
        import re
        import shutil

        from .cli._shared import say

        label(native_profile, self.pid)
        merged = 0
        Profile = type(native_profile)
        try:
            names = sorted(os.listdir(self.dir), key=lambda n: (len(n), n))
        except OSError:
            names = []
        for name in names:
            m = re.match(r"^([0-9]+)\.pyro$", name)
            if not m:
                continue
            try:
                with open(os.path.join(self.dir, name), "rb") as f:
                    child = Profile.from_pyro(f.read())
                if child.meta.get("forked_from_run") and runner_frames:
                    # A fork of the run's main thread holds the runner's frames.
                    child.reroot(runner_frames, runner_thread)
                label(child, int(m.group(1)))
                native_profile.merge(child)
                merged += 1
            except Exception as exc:
                say("--subprocesses: cannot read the profile of process %s: %s" % (m.group(1), exc))
        native_profile.set_meta("processes", float(merged + 1))
        shutil.rmtree(self.dir, ignore_errors=True)
        return merged


def label(native_profile, pid):
    """Names each thread "pid N name": the report, the viewer and every
    format show a process's threads together, under its pid."""
    names = {}
    for ident, _native_id, name, _root in native_profile.threads():
        names[ident] = "pid %d %s" % (pid, name or "thread")
    native_profile.set_thread_names(names)


# ---- in a child ---------------------------------------------------------------


class _Child:
    def __init__(self, directory, options, forked_from_run):
        from ._profile import profile

        self.dir = directory
        self.pid = os.getpid()
        self.path = os.path.join(directory, "%d.pyro" % self.pid)
        self.done = False
        self.prof = profile(**options)
        self.prof.start()
        native = self.prof.native
        if forked_from_run:
            native.set_meta("forked_from_run", 1.0)
        import threading

        # Named now: a child that SIGTERM ends has its profile written by C,
        # with no Python to name threads then.
        main = threading.main_thread() if forked_from_run is None else threading.current_thread()
        try:
            native.set_thread_name(main.ident, "MainThread", getattr(main, "native_id", 0) or 0)
        except Exception:
            pass
        from . import _profile

        self.native_mod = _profile._native()
        try:
            self.native_mod._sigterm_write(native, self.path)
        except Exception:
            pass

    def finish(self):
        if self.done or os.getpid() != self.pid:
            return
        self.done = True
        try:
            self.prof.stop()
            self.prof.native.write(self.path, "pyro")
        except Exception:
            pass
        try:
            self.native_mod._sigterm_write(None, None)
        except Exception:
            pass


def _options(directory):
    """The run's options: key=value lines (json would cost every child
    5 ms of imports)."""
    out = {}
    with open(os.path.join(directory, "options")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            if key in ("rate",):
                out[key] = float(value)
            elif key == "timeline":
                out[key] = int(value)
            elif key in ("idle", "async_tasks", "native"):
                out[key] = value == "True"
            elif key == "mode":
                out[key] = value
    return out


def child_start():
    """In a new interpreter started under the run (from sitecustomize)."""
    global _current
    directory = os.environ.get(ENV)
    if not directory or not os.path.isdir(directory):
        return
    _current = _Child(directory, _options(directory), None)
    _install_exit_hooks()
    _hook_fork()


def _after_fork_in_child():
    global _current
    directory = os.environ.get(ENV)
    parent = _current
    _current = None
    if not directory or not os.path.isdir(directory):
        return
    try:
        # The run's own process has no _Child: a fork of it is rerooted
        # (its main thread starts in pyrometer's runner).
        _current = _Child(directory, _options(directory), parent is None)
        _install_exit_hooks()
    except Exception:
        _current = None


def _hook_fork():
    global _hooked
    if not _hooked:
        _hooked = True
        os.register_at_fork(after_in_child=_after_fork_in_child)


_real_exit = None


def _install_exit_hooks():
    """atexit, and os._exit wrapped (in this child only)."""
    global _real_exit
    import atexit

    atexit.register(_finish)
    if _real_exit is None:
        _real_exit = os._exit

        def _exit(status):
            _finish()
            _real_exit(status)

        _exit.__name__ = _exit.__qualname__ = "_exit"
        _exit.__doc__ = _real_exit.__doc__
        _exit.__module__ = getattr(_real_exit, "__module__", "posix")
        os._exit = _exit


def _finish():
    child = _current
    if child is not None:
        child.finish()
