"""pyrometer — a low-overhead Python profiler with a C core.

    import pyrometer

    with pyrometer.profile() as p:          # rate=1000, mode="wall", idle=True
        work()
    p.print()                                # text report on stderr
    p.write("work.pyro")                     # .pyro / .collapsed / .folded / .txt
    p.stats                                  # per-function figures as dicts
    p.stacks()                               # {thread: {stack: samples}}

    @pyrometer.profile                       # every call profiled;
    def handler(): ...                       # handler.last_profile is the latest

    p = pyrometer.load("work.pyro")          # the same ProfileData type

From a shell: ``pyrometer run [options] script.py [args...]`` or
``python -m pyrometer run -m module [args...]``.
"""
from ._profile import FORMATS, ProfileData, ThreadInfo, load, profile
from . import _memory  # noqa: F401,E402  (profile(mode="memory") is its MemoryProfile)
from ._version import __version__

# The deterministic modes load on first use: every profiled program pays for
# what `import pyrometer` imports before it starts.
_LAZY = {"Profile": "._calls", "LineProfiler": "._lines", "lines": "._lines", "mark": "._calls", "span": "._calls",
         "start_continuous": ".integrations.push"}


def load_ipython_extension(ipython):
    """``%load_ext pyrometer``: the %pyrometer, %%pyrometer and
    %pyrometer_lines magics (integrations/jupyter.py)."""
    from .integrations.jupyter import load_ipython_extension as load

    load(ipython)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError("module 'pyrometer' has no attribute %r" % (name,))

def dump_stacks(file=None):
    """Writes every thread's Python stack (innermost frame first, with the
    OS thread id, running or idle, and who holds the GIL) to file (default
    sys.stderr), read from this process's memory without the GIL, as
    `pyrometer dump PID` reads another process (CPython 3.9-3.15)."""
    import sys

    from . import _native

    stream = sys.stderr if file is None else file
    stream.flush()
    _native._dump_stacks(stream.fileno(), "pyrometer.dump_stacks()")


__all__ = [
    "dump_stacks", "profile", "Profile", "LineProfiler", "lines", "mark", "span", "ProfileData", "ThreadInfo", "load",
    "start_continuous",
    "FORMATS", "__version__",
]
