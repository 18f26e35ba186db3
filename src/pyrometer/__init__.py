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
from ._env import pyrometer_version as _pyrometer_version
from ._calls import Profile
from ._lines import LineProfiler, lines
from ._profile import FORMATS, ProfileData, ThreadInfo, load, profile

__version__ = _pyrometer_version()

__all__ = ["profile", "Profile", "LineProfiler", "lines", "ProfileData", "ThreadInfo", "load", "FORMATS", "__version__"]
