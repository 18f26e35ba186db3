"""``pyrometer imports [options] script.py|-m module|-c command [args...]``:
how long every import of a program takes, self and cumulative.

The program runs in a child interpreter (this one's executable) with
``-X importtime``: the interpreter times each import itself, around exactly
the work of finding and executing the module, and prints one line per import
on stderr.  Those lines are taken out of the child's stderr (everything else
is passed on as it comes) and read by the C reader of importtime logs
(input/pm_importtime_read.c) into a profile whose frames are modules, which
every writer and the viewer take as any other.  Why not an import hook:
ARCHITECTURE.md, "Import time".

The program keeps its argv, standard streams (less the importtime lines) and
exit status."""
import os
import subprocess
import sys
import threading

from ._shared import Failure, UsageError, output_format

USAGE = "usage: pyrometer imports [-o FILE] [--threshold PCT] [--show-all] [--top N] script.py|-m module|-c command [args ...]"

HELP = USAGE + """

Runs the program with `python -X importtime` and reports every import: a tree
of modules (slowest first) with cumulative and self time, on stderr; or the
profile written to FILE (.html: the viewer, an icicle of modules; .pyro,
.importtime (the log tuna reads), or any format of `pyrometer convert --help`).

options:
  -o, --output FILE   write the profile instead of printing the tree
  --threshold PCT     hide imports under PCT % of the total (default 0.5)
  --show-all          every import
  --top N             rows of the table of modules by self time (default 15)
  -h, --help          show this help and exit
"""

PREFIX = b"import time:"


class ImportsOptions:
    is_imports = True

    def __init__(self):
        self.output = None
        self.threshold = 0.5
        self.show_all = False
        self.top = 15
        self.target = None  # ("script", path) | ("-m", module) | ("-c", command)
        self.args = []


def parse(argv):
    o = ImportsOptions()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            return "help"
        if arg in ("-m", "-c"):
            if i + 1 >= len(argv):
                raise UsageError("%s needs a %s" % (arg, "module name" if arg == "-m" else "command"))
            o.target = (arg, argv[i + 1])
            o.args = argv[i + 2:]
            return o
        if arg in ("-o", "--output", "--threshold", "--top"):
            if i + 1 >= len(argv):
                raise UsageError("option %s needs a value" % arg)
            value = argv[i + 1]
            if arg in ("--threshold", "--top"):
                try:
                    number = float(value) if arg == "--threshold" else int(value)
                except ValueError:
                    raise UsageError("%s needs a number (got %r)" % (arg, value)) from None
                setattr(o, arg[2:], number)
            else:
                o.output = value
            i += 2
            continue
        if arg == "--show-all":
            o.show_all = True
        elif arg.startswith("-"):
            raise UsageError("unknown option %r; %s" % (arg, USAGE))
        else:
            o.target = ("script", arg)
            o.args = argv[i + 1:]
            return o
        i += 1
    raise UsageError("missing the program: " + USAGE)


def _relay(stream, log):
    """Copies the child's stderr to ours line by line, keeping the importtime
    lines for the profile."""
    out = getattr(sys.stderr, "buffer", None)
    for line in iter(stream.readline, b""):
        if line.startswith(PREFIX):
            log.append(line)
            continue
        try:
            if out is not None:
                out.write(line)
                out.flush()
            else:
                sys.stderr.write(line.decode("utf-8", "replace"))
                sys.stderr.flush()
        except (OSError, ValueError):
            pass


def measure(target, args=(), env=None):
    """Runs the program with -X importtime: (exit status, log bytes)."""
    kind, value = target
    cmd = [sys.executable, "-X", "importtime"]
    cmd += [value] if kind == "script" else [kind, value]
    cmd += list(args)
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, env=env)
    log = []
    t = threading.Thread(target=_relay, args=(proc.stderr, log), daemon=True)
    t.start()
    try:
        status = proc.wait()
    except KeyboardInterrupt:
        status = proc.wait()
    t.join()
    proc.stderr.close()
    return status, b"".join(log)


def main(o, command=None):
    from .. import _env, _native
    from .._profile import ProfileData

    fmt = output_format(o.output)
    if o.target[0] == "script" and not os.path.isfile(o.target[1]):
        raise Failure("cannot run %s: no such file" % o.target[1])
    status, log = measure(o.target, o.args)
    if not log:
        raise Failure("the program imported nothing that -X importtime reports", status or 1)
    try:
        prof = _native.Profile.from_bytes(log)
    except ValueError as exc:
        raise Failure("cannot read the import times: %s" % exc, status or 1) from None
    prof.set_meta("command", _env.command_line([o.target[1]] + list(o.args)))
    prof.set_meta("python", sys.version.split()[0])
    data = ProfileData(prof)
    try:
        if o.output:
            data.write(o.output, fmt, **({"source": False} if fmt == "html" else {}))
            sys.stderr.write("pyrometer: wrote %s\n" % o.output)
        else:
            data.print(sys.stderr, show_all=o.show_all, threshold=o.threshold, top=o.top)
    except (ValueError, OSError) as exc:
        raise Failure("cannot write %s: %s" % (o.output, exc), status or 1) from None
    if status < 0:
        return 128 - status
    return status
