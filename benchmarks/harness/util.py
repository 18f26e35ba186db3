"""Small shared helpers: progress lines, medians, subprocess capture."""
import os
import subprocess
import sys
import time

_T0 = time.monotonic()


def log(message):
    """A progress line on stderr (stdout is kept for the final report)."""
    elapsed = time.monotonic() - _T0
    sys.stderr.write("[%6.1fs] %s\n" % (elapsed, message))
    sys.stderr.flush()


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2.0


def last_line(text, limit=240):
    """The last non-empty line of a program's output, shortened: the usual
    one-line reason for a failure."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [l.strip() for l in (text or "").splitlines() if l.strip()]
    if not lines:
        return ""
    line = lines[-1]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def describe_status(rc):
    """'exit status N', or 'killed by SIGSEGV (signal 11)' for a negative status."""
    if rc is not None and rc < 0:
        import signal

        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = "signal"
        return "killed by %s (signal %d)" % (name, -rc)
    return "exit status %s" % rc


def capture(argv, timeout=600, env=None, cwd=None):
    """Runs argv; returns (returncode, stdout, stderr) as text.  A missing
    program or a time-out becomes a non-zero status with the reason in
    stderr, never an exception."""
    try:
        p = subprocess.run(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=env, cwd=cwd
        )
    except FileNotFoundError as exc:
        return 127, "", "not found: %s" % exc
    except subprocess.TimeoutExpired:
        return 124, "", "timed out after %ss: %s" % (timeout, " ".join(argv))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def bench_env(venv_bin=None):
    """The environment every measured process gets, the same for plain and
    profiled runs: the caller's, minus variables that change how Python
    starts or buffers, with a fixed hash seed."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONUNBUFFERED", "PYTHONHOME", "PYTHONINSPECT",
                 "PYTHONTRACEMALLOC", "PYTHONDEVMODE", "PYTHONPROFILEIMPORTTIME", "VIRTUAL_ENV",
                 "NO_COLOR"):
        env.pop(name, None)
    env["PYTHONHASHSEED"] = "0"
    if venv_bin:
        env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    return env
