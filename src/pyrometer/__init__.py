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
from ._version import __version__

# The deterministic modes load on first use: every profiled program pays for
# what `import pyrometer` imports before it starts.
_LAZY = {"Profile": "._calls", "LineProfiler": "._lines", "lines": "._lines", "mark": "._calls", "span": "._calls"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError("module 'pyrometer' has no attribute %r" % (name,))

__all__ = [
    "profile", "Profile", "LineProfiler", "lines", "mark", "span", "ProfileData", "ThreadInfo", "load", "FORMATS",
    "__version__",
]
