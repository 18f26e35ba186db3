"""``pyrometer attach PID``: samples another Python process (3.9-3.15, any
version of Python running pyrometer) into the same profile model as
``pyrometer run``, until --duration, Ctrl-C or the target's exit; then the
report, or -o FILE in any format.  The target is read with process_vm_readv
(pm_remote*.c) and never stopped.  ``open_target`` is shared with ``dump``
and ``top``: every way a pid cannot be read is one line."""
import os
import sys
import time

from ._shared import Failure, UsageError

HELP = """\
usage: pyrometer attach PID [--duration S] [--rate HZ] [--mode wall|cpu] [--blocking] [-o FILE] [--format FMT]

Samples the Python process PID (CPython 3.9-3.15) without stopping it, until
--duration seconds have passed, Ctrl-C, or the process ends; then prints the
report, or writes the profile to FILE (every format of `pyrometer convert`).

options:
  --duration S    seconds to record (default: until Ctrl-C or the process ends)
  --rate HZ       samples per second (default 100)
  --mode wall|cpu wall: every thread, running or waiting (default);
                  cpu: only threads on a CPU, weighted by CPU time
  -o, --output FILE
  --format FMT    default: from FILE's extension, the report without -o
  --top N         report: rows in the top-functions table (default 15)
  --blocking      stop the process's threads (ptrace) while each sample is
                  read: every stack exact, at the cost of pausing the target

Reading another process needs the same user and kernel.yama.ptrace_scope 0,
or root / CAP_SYS_PTRACE.
"""


class Options:
    is_attach = True
    usage = "pyrometer attach PID [--duration S]"

    def __init__(self):
        self.pid = None
        self.duration = None
        self.rate = 100.0
        self.mode = "wall"
        self.output = None
        self.format = None
        self.top = 15
        self.blocking = False


def parse_pid(text, UsageError):
    try:
        pid = int(text)
    except (TypeError, ValueError):
        raise UsageError("PID must be a process id (a positive integer), not %r" % (text,)) from None
    if pid <= 0:
        raise UsageError("PID must be a positive integer, not %d" % pid)
    return pid


def _number(option, value, UsageError, low=0.0):
    try:
        v = float(value)
    except ValueError:
        raise UsageError("%s needs a number, not %r" % (option, value)) from None
    if not v > low or v != v or v == float("inf"):
        raise UsageError("%s must be a number above %g, not %r" % (option, low, value))
    return v


def parse_args(command, argv, o, values, flags, UsageError):
    """The arguments of a command that reads a pid: options taking a value
    (values: option -> function(option, value) -> (attribute, converted)),
    flags (option -> attribute set True) and one PID, into o.  Returns o, or
    "help"."""
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("-h", "--help"):
            return "help"
        if "=" in a and a.startswith("--"):
            a, value = a.split("=", 1)
            args.insert(0, value)
        if a in values:
            if not args:
                raise UsageError("%s needs a value" % a)
            attribute, converted = values[a](a, args.pop(0))
            setattr(o, attribute, converted)
        elif a in flags:
            setattr(o, flags[a], True)
        elif a.startswith("-") and a != "-":
            raise UsageError("unknown option %r for %s; try 'pyrometer %s --help'" % (a, command, command))
        elif o.pid is None:
            o.pid = parse_pid(a, UsageError)
        else:
            raise UsageError("%s takes one PID, not also %r" % (command, a))
    if o.pid is None:
        raise UsageError("%s needs a PID; usage: %s" % (command, o.usage))
    return o


def sampling_values(command, UsageError):
    """--rate and --mode, as attach and top take them."""

    def rate(option, value):
        v = _number(option, value, UsageError)
        if v > 100000:
            raise UsageError("--rate must be at most 100000")
        return "rate", v

    def mode(option, value):
        if value not in ("wall", "cpu"):
            raise UsageError("--mode must be wall or cpu for %s, not %r" % (command, value))
        return "mode", value

    return {"--rate": rate, "--mode": mode}


def parse(argv):
    values = sampling_values("attach", UsageError)
    values.update({
        "--duration": lambda a, v: ("duration", _number(a, v, UsageError)),
        "-o": lambda a, v: ("output", v),
        "--output": lambda a, v: ("output", v),
        "--format": lambda a, v: ("format", v),
        "--top": lambda a, v: ("top", int(_number(a, v, UsageError))),
    })
    o = parse_args("attach", argv, Options(), values, {"--blocking": "blocking"}, UsageError)
    if isinstance(o, str):
        return o
    if o.output is not None or o.format is not None:
        from .._profile import format_for_path

        try:
            o.format = format_for_path(o.output or "", o.format, strict=o.output is not None)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return o


def open_target(pid, Failure):
    """The target as a _native.Remote, or Failure with one line."""
    try:
        from .. import _native
    except ImportError as exc:
        raise Failure("cannot load the C extension (pyrometer._native): %s" % exc) from None
    if sys.platform != "linux":
        raise Failure("reading another process is supported on Linux only")
    try:
        return _native.Remote(pid)
    except RuntimeError as exc:
        # (code, message): the code is pm_remote.h's reason
        message = exc.args[1] if len(exc.args) == 2 and isinstance(exc.args[0], int) else str(exc)
        raise Failure(message) from None


def record(remote, profile, seconds, rate, mode, blocking, Failure):
    """Samples into profile for `seconds` (None: until Ctrl-C or the end of
    the target).  Returns "duration", "interrupted" or "exited"."""
    try:
        remote.start(profile, mode=mode, rate=rate, blocking=blocking)
    except RuntimeError as exc:
        raise Failure(str(exc)) from None
    deadline = None if seconds is None else time.monotonic() + seconds
    why = "duration"
    try:
        while True:
            left = 0.25 if deadline is None else min(0.25, deadline - time.monotonic())
            if left <= 0:
                break
            if remote.sample(left):
                why = "exited"
                break
    except KeyboardInterrupt:
        why = "interrupted"
    finally:
        remote.finish()
    return why


def main(o, command=None):
    from .. import _env, _native
    from .._profile import ProfileData, default_color, default_width

    if o.output is not None:
        from .run import _check_output

        _check_output(o.output)
    remote = open_target(o.pid, Failure)
    info = remote.info()
    native_profile = _native.Profile()
    native_profile.set_meta("python", info["python"])
    native_profile.set_meta("command", _env.command_line(["pyrometer", "attach", str(o.pid)]))
    native_profile.set_meta("pyrometer", _env.pyrometer_version())
    native_profile.set_meta("start_unix", time.time())
    try:
        cmdline = open("/proc/%d/cmdline" % o.pid, "rb").read().split(b"\0")
        native_profile.set_meta("target_command", " ".join(os.fsdecode(a) for a in cmdline if a))
    except OSError:
        pass
    sys.stderr.write("pyrometer: attached to process %d (Python %s); %s\n" % (
        o.pid, info["python"],
        "recording for %gs" % o.duration if o.duration else "Ctrl-C to stop"))
    sys.stderr.flush()
    why = record(remote, native_profile, o.duration, o.rate, o.mode, o.blocking, Failure)
    if why == "exited":
        sys.stderr.write("pyrometer: process %d ended; the profile holds everything until then\n" % o.pid)
    data = ProfileData(native_profile)
    try:
        if o.output is None and o.format in (None, "text"):
            data.print(sys.stdout, color=default_color(sys.stdout), width=default_width(sys.stdout), top=o.top)
            return 0
        if o.output is None:
            out = data.to_bytes(o.format)
            sys.stdout.buffer.write(out)
            sys.stdout.flush()
            return 0
        data.write(o.output, o.format)
    except (OSError, ValueError, RuntimeError) as exc:
        raise Failure("cannot write %s: %s" % (o.output or "the report", exc)) from None
    sys.stderr.write("pyrometer: wrote %s\n" % o.output)
    return 0
