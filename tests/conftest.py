"""Shared helpers: run programs under `python -m pyrometer run` and plainly,
load the profiles they write, and look at their stacks."""
import http.server
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

# A shell without job control starts background commands with SIGINT
# ignored, and children inherit it: Python then never turns Ctrl-C into
# KeyboardInterrupt.  The suite and the programs it starts run as from a
# terminal (a handled signal is back at its default in a child).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

TESTS = Path(__file__).resolve().parent
PROGRAMS = TESTS / "programs"


def program(name):
    return str(PROGRAMS / name)


def line_of(name, mark):
    """The line number of the line marked ``# MARK: mark`` in a program."""
    for number, text in enumerate((PROGRAMS / name).read_text().splitlines(), 1):
        if text.rstrip().endswith("# MARK: " + mark):
            return number
    raise AssertionError("no line marked %r in %s" % (mark, name))


def _env(extra=None):
    env = dict(os.environ)
    env.pop("PYTHONSTARTUP", None)
    env.pop("PYTHONUNBUFFERED", None)  # keep buffering as in a normal run
    env.pop("NO_COLOR", None)
    if extra:
        env.update(extra)
    return env


def pyrometer_cmd(*args):
    return [sys.executable, "-m", "pyrometer"] + [str(a) for a in args]


def run_pyrometer(*args, cwd=None, input=None, timeout=120, env=None):
    """`python -m pyrometer ARGS`, captured as bytes."""
    return subprocess.run(
        pyrometer_cmd(*args),
        cwd=str(cwd) if cwd else None,
        input=input,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=timeout,
        env=_env(env),
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def run_plain(*args, cwd=None, input=None, timeout=120, env=None):
    """`python ARGS` without pyrometer, captured as bytes."""
    return subprocess.run(
        [sys.executable] + [str(a) for a in args],
        cwd=str(cwd) if cwd else None,
        input=input,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=timeout,
        env=_env(env),
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def build_extension(directory, name, source):
    """Compiles C source as the extension module `name` in directory, with
    this Python's compiler and headers."""
    import sysconfig

    (directory / (name + ".c")).write_text(source)
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    target = directory / (name + sysconfig.get_config_var("EXT_SUFFIX"))
    subprocess.run(cc + ["-O1", "-shared", "-fPIC", "-I", sysconfig.get_paths()["include"],
                         str(directory / (name + ".c")), "-o", str(target)], check=True)


def pyrometer_lines(stderr):
    """pyrometer's own lines in a stderr (bytes or str)."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    return [line for line in stderr.splitlines() if line.startswith("pyrometer: ")]


def wrote_only(stderr, out):
    """Whether pyrometer's only line says it wrote out (a .pyro or HTML file
    also says which source files it embeds)."""
    lines = pyrometer_lines(stderr)
    wrote = "pyrometer: wrote %s" % out
    return len(lines) == 1 and (lines[0] == wrote or lines[0].startswith(wrote + ", with the source of "))


def without_pyrometer_lines(stderr):
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    return "".join(
        line for line in stderr.splitlines(True) if not line.startswith("pyrometer: ")
    )


def profile_program(tmp_path, name, *prog_args, options=(), timeout=120, cwd=None, output="out.pyro"):
    """Runs a program under pyrometer writing a .pyro file; returns
    (completed process, loaded ProfileData).  Fails with the program's stderr if
    anything went wrong."""
    import pyrometer

    out = tmp_path / output
    proc = run_pyrometer(
        "run", "-o", out, *options, program(name), *prog_args, cwd=cwd, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert wrote_only(proc.stderr, out), proc.stderr
    return proc, pyrometer.load(out)


def phase_bounds(stdout, prof):
    """{name: (t0, t1)} from a program's "phase NAME T0 T1" lines (time.time()),
    moved onto prof's clock: seconds since the zero of its heap timeline and
    allocation records (meta timeline_epoch_ns)."""
    epoch = int(prof.meta["timeline_epoch_ns"]) / 1e9
    out = {}
    for line in (stdout.decode() if isinstance(stdout, bytes) else stdout).splitlines():
        if line.startswith("phase "):
            _, name, t0, t1 = line.split()
            out[name] = (float(t0) - epoch, float(t1) - epoch)
    return out


def names(stack):
    return [frame[0] for frame in stack]


def short(name):
    """A function's bare name: 3.11+ reports qualified names (Class.method,
    outer.<locals>.inner), older versions the bare code name."""
    return name.rsplit(".", 1)[-1]


# Names CPython gives code objects itself: real functions, never a
# profiler's pseudo-frame (3.12+ also names a generic class's type-parameter
# scope "<generic parameters of C>").
CPYTHON_CODE_NAMES = ("<module>", "<lambda>", "<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>", "<annotate>")


def pseudo_frame(name):
    """Whether a frame's name is one no code object has."""
    return (name.startswith("<") and name not in CPYTHON_CODE_NAMES
            and not name.startswith("<generic parameters of "))


def all_stacks(profile, metric="samples"):
    """Every (thread, stack, weight) of a profile."""
    for thread, stacks in profile.stacks(metric).items():
        for stack, weight in stacks.items():
            yield thread, stack, weight


@pytest.fixture
def native():
    from pyrometer import _native

    return _native


class _Collector(http.server.BaseHTTPRequestHandler):
    """A loopback backend: keeps every POST (path, Content-Type, body) and
    answers `status` (a list: one status per request in turn, the last one
    repeated)."""
    status = [200]
    bodies = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cls = type(self)
        cls.bodies.append((self.path, self.headers["Content-Type"], body))
        self.send_response(cls.status[min(len(cls.bodies), len(cls.status)) - 1])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def collector():
    """(handler class, base URL) of a loopback HTTP server collecting POSTs."""
    handler = type("Handler", (_Collector,), {"bodies": [], "status": [200]})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield handler, "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()
