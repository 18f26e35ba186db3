"""``pyrometer dump PID``: every thread's Python stack in another process
right now (innermost frame first, as tracebacks read from the bottom), with
the thread's name (threading's, as py-spy shows it; the OS name for a thread
threading does not know), native id, whether it holds the GIL and whether it is
on a CPU; ``--locals`` adds bounded reprs of simple local variables (str,
int, float, bool, None; other objects by type name); ``--json`` prints one
JSON document instead."""
import itertools
import json
import sys

from ._shared import Failure, UsageError

from .attach import open_target, parse_args

HELP = """\
usage: pyrometer dump PID [--json] [--locals]

Prints the Python stack of every thread of process PID (CPython 3.9-3.15)
without stopping it.

options:
  --json      one JSON document: {"pid", "python", "threads": [{"native_id",
              "ident", "name", "os_name", "gil", "status", "frames":
              [{"function", "file", "line", "locals"}], "truncated"}]},
              innermost frame first; "name" is threading's name of the
              thread (the OS name when it has none), "os_name" the OS's;
              "truncated" when the stack is deeper than a dump reads
  --locals    local variables of each frame (str, int, float, bool and None
              shown, strings cut at 80 characters; other objects as <type>)
"""


REPEATS = 3  # a frame repeated in a row shown this many times, then counted


class Options:
    is_dump = True
    usage = "pyrometer dump PID [--json] [--locals]"

    def __init__(self):
        self.pid = None
        self.json = False
        self.locals = False


def parse(argv):
    flags = {"--json": "json", "--locals": "locals", "-l": "locals"}
    return parse_args("dump", argv, Options(), {}, flags, UsageError)


def snapshot(remote, with_locals):
    """The dump as plain data (what --json prints)."""
    info = remote.info()
    threads = []
    for t in remote.dump(locals=with_locals):
        frames = []
        for name, filename, line, local_vars in t["frames"]:
            frame = {"function": name, "file": filename, "line": line}
            if with_locals:
                frame["locals"] = dict(local_vars or [])
            frames.append(frame)
        threads.append({
            "native_id": t["native_id"], "ident": t["ident"], "name": t["name"], "os_name": t["os_name"],
            "gil": t["gil"],
            "status": "running" if t["running"] else "idle", "complete": t["ok"],
            "truncated": t["truncated"], "frames": frames,
        })
    return {"pid": info["pid"], "python": info["python"], "threads": threads}


def format_text(snap):
    lines = ["Process %d: Python %s, %d thread%s" % (
        snap["pid"], snap["python"], len(snap["threads"]), "" if len(snap["threads"]) == 1 else "s")]
    for t in snap["threads"]:
        flags = [t["status"]]
        if t["gil"]:
            flags.append("holds the GIL")
        if not t["complete"]:
            flags.append("stack changed while read: partial")
        lines.append("")
        lines.append("Thread %d %r (%s)" % (t["native_id"], t["name"], ", ".join(flags)))
        if not t["frames"]:
            lines.append("    (no Python frames)")
        # A recursion's repeats folded as a traceback folds them (frames
        # whose locals differ are not repeats).
        for f, run in itertools.groupby(t["frames"]):
            n = len(list(run))
            for _ in range(min(n, REPEATS)):
                lines.append("    %s (%s:%d)" % (f["function"], f["file"], f["line"]))
                for k, v in (f.get("locals") or {}).items():
                    lines.append("        %s = %s" % (k, v))
            if n > REPEATS:
                lines.append("    [previous frame repeated %d more times]" % (n - REPEATS))
        if t["truncated"]:
            lines.append("    ... the outermost frames are not shown (deeper than a dump reads)")
    return "\n".join(lines) + "\n"


def main(o, command=None):
    remote = open_target(o.pid, Failure)
    try:
        snap = snapshot(remote, o.locals)
    except RuntimeError as exc:
        raise Failure("cannot read the stacks of process %d: %s" % (o.pid, exc)) from None
    if o.json:
        json.dump(snap, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_text(snap))
    sys.stdout.flush()
    return 0
