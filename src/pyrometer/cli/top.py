"""``pyrometer top PID``: a live view of where another Python process spends
its time: functions by own and total share of the samples over the last few
seconds, redrawn in place every second.  ``q`` or Ctrl-C quits and gives the
terminal back as it was (echo, line mode, cursor)."""
import os
import select
import sys
import time

from ._shared import Failure, UsageError

from .attach import _number, open_target, parse_args, sampling_values

HELP = """\
usage: pyrometer top PID [--rate HZ] [--window S] [--mode wall|cpu] [--rows N]

A live table of the functions of process PID (CPython 3.9-3.15): share of
the samples in which each is running (own) or on the stack (total), over the
last --window seconds (default 3), redrawn every second.  q or Ctrl-C quits.

options:
  --rate HZ        samples per second (default 100)
  --window S       seconds the figures cover (default 3)
  --mode wall|cpu  wall: every thread (default); cpu: threads on a CPU only
  --rows N         functions shown (default: what fits the terminal)
"""


class Options:
    is_top = True
    usage = "pyrometer top PID"

    def __init__(self):
        self.pid = None
        self.rate = 100.0
        self.window = 3.0
        self.mode = "wall"
        self.rows = None


def parse(argv):
    values = sampling_values("top", UsageError)
    values.update({
        "--window": lambda a, v: ("window", _number(a, v, UsageError)),
        "--rows": lambda a, v: ("rows", int(_number(a, v, UsageError))),
    })
    return parse_args("top", argv, Options(), values, {}, UsageError)


class _Terminal:
    """cbreak mode without echo, the cursor hidden, restored on exit."""

    def __init__(self, stream_in, stream_out):
        self.fd = stream_in.fileno() if stream_in.isatty() else None
        self.out = stream_out
        self.saved = None

    def __enter__(self):
        if self.fd is not None:
            import termios
            import tty

            self.saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        self.out.write("\x1b[?25l")
        self.out.flush()
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
        self.out.write("\x1b[?25h\n")
        self.out.flush()
        return False

    def quit_pressed(self):
        if self.fd is None:
            return False
        while select.select([self.fd], [], [], 0)[0]:
            key = os.read(self.fd, 1)
            if key in (b"q", b"Q", b""):
                return True
        return False


def _table(windows, info, o, rate_seen, ended):
    """The screen: totals over the windows kept."""
    own, total, where = {}, {}, {}
    samples = 0
    for stats, n in windows:
        samples += n
        for s in stats:
            key = (s["function"], s["file"], s["line"])
            own[key] = own.get(key, 0) + s["self_samples"]
            total[key] = total.get(key, 0) + s["samples"]
            where[key] = "%s:%d" % (os.path.basename(s["file"]), s["line"])
    try:
        columns, lines = os.get_terminal_size()
    except OSError:
        columns, lines = 0, 0
    columns, lines = columns or 100, lines or 30  # a terminal that gives no size (0 x 0)
    rows = o.rows or max(5, lines - 5)
    out = ["pyrometer top: process %d, Python %s, %s mode, %.0f samples/s over the last %.0fs%s" % (
        o.pid, info["python"], o.mode, rate_seen, o.window, " (process ended)" if ended else ""),
        "", "%7s %7s  %s" % ("%Own", "%Total", "Function (file:line)")]
    order = sorted(own, key=lambda k: (-own[k], -total[k]))
    for key in order[:rows]:
        pct = lambda v: 100.0 * v / samples if samples else 0.0  # noqa: E731
        out.append(("%6.1f%% %6.1f%%  %s (%s)" % (pct(own[key]), pct(total[key]), key[0], where[key]))[:columns])
    out.append("")
    out.append("q or Ctrl-C quits")
    return "\x1b[H\x1b[2J" + "\n".join(out)


def main(o, command=None):
    from .. import _native
    from .._profile import ProfileData

    remote = open_target(o.pid, Failure)
    info = remote.info()
    windows = []
    ended = False
    with _Terminal(sys.stdin, sys.stdout) as term:
        try:
            while True:
                profile = _native.Profile()
                remote.start(profile, mode=o.mode, rate=o.rate)
                start = time.monotonic()
                try:
                    while not ended and time.monotonic() - start < 1.0:
                        ended = remote.sample(0.1)
                        if term.quit_pressed():
                            return 0
                finally:
                    remote.finish()
                data = ProfileData(profile)
                taken = data.meta.get("samples_taken", 0) or 0
                metric = "cpu" if o.mode == "cpu" else "samples"
                stats = data.func_stats(metric)
                windows.append((stats, sum(s["self_samples"] for s in stats)))
                windows = windows[-max(1, int(round(o.window))):]
                sys.stdout.write(_table(windows, info, o, taken / max(1e-9, time.monotonic() - start), ended))
                sys.stdout.flush()
                if ended:
                    return 0
        except KeyboardInterrupt:
            return 0
