"""The profilers compared, as a table of command builders.

Each entry says how to run a script under that profiler in a benchmark venv
(writing its output to a file, as a user saving a profile would), where it
comes from (the standard library, this repository, or PyPI specs to try in
order) and, optionally, how to read figures from a run (samples taken...).

To add a peer: append a Profiler.  It is installed into every venv, probed on
a tiny program, and reported as "unavailable: reason" wherever it cannot be
installed or does not run; it is never silently dropped.
"""
import json
import os
import re
import shutil
import tempfile

from .envs import dist_version, pip, pip_error
from .util import bench_env, capture, describe_status, last_line, log

RATE_HZ = 1000  # every sampling profiler runs at 1 kHz (1 ms interval)


class Ctx:
    """Where a profiler runs: the interpreter and the directory of its
    scripts (a benchmark venv's bin/, or, with --in-place, the directory of
    the interpreter given, never resolved, so a venv's python stays in its
    venv)."""

    def __init__(self, python, venv=None, in_place=False):
        self.python = python
        self.venv = venv
        self.in_place = in_place
        self.bin = os.path.join(venv, "bin") if venv else os.path.dirname(python)
        self.env = bench_env(self.bin)

    def tool(self, name):
        """A console script: next to the interpreter, else on PATH (only
        out-of-process samplers are run this way: they need not belong to
        the measured interpreter)."""
        path = os.path.join(self.bin, name)
        if os.access(path, os.X_OK) or not self.in_place:
            return path
        return shutil.which(name) or path


class Profiler:
    """name: the column key; label: the column title; kind: control,
    sampling, deterministic or memory (the report groups the columns by it);
    build(ctx, script, args, out) -> argv, where
    out is a path prefix for the profiler's output file; pip: PyPI specs to
    try in order (empty: nothing to install); dist: the distribution whose
    version is reported; parse_run(stdout, stderr) -> dict of per-run figures;
    clean_stdout(text) -> the program's own output, for profilers that print
    on it;
    collect(ctx, out_paths) -> list of per-run dicts read after the runs."""

    def __init__(self, name, label, kind, build, pip=(), dist=None, default=True, settings="",
                 parse_run=None, collect=None, needs_pyrometer=False, clean_stdout=None):
        self.name = name
        self.label = label
        self.kind = kind
        self.build = build
        self.pip = list(pip)
        self.dist = dist
        self.default = default
        self.settings = settings
        self.parse_run = parse_run
        self.collect = collect
        self.needs_pyrometer = needs_pyrometer
        self.clean_stdout = clean_stdout or (lambda text: text)


# ---- per-run figures ---------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _pyspy_figures(stdout, stderr):
    m = re.search(r"Samples: (\d+) Errors: (\d+)", stdout + stderr)
    return {"samples": int(m.group(1)), "errors": int(m.group(2))} if m else {}


def _austin_figures(stdout, stderr):
    text = _ANSI.sub("", stderr)
    out = {}
    m = re.search(r"Error rate\s*:\s*(\d+)/(\d+)", text)
    if m:
        out["errors"], out["samples"] = int(m.group(1)), int(m.group(2))
    m = re.search(r"Sampling duration\s*:\s*([0-9.]+)\s*s", text)
    if m:
        out["duration_s"] = float(m.group(1))
    m = re.search(r"Long sampling rate\s*:\s*(\d+)/(\d+)", text)
    if m:
        out["long_samples"] = int(m.group(1))
    return out


def _tachyon_figures(stdout, stderr):
    """CPython 3.15's sampler: 'Captured N samples in T seconds' and 'Error
    rate: X' (percent) after the run."""
    text = stdout + stderr
    out = {}
    m = re.search(r"Captured (\d+) samples in ([0-9.]+) seconds", text)
    if m:
        out["samples"], out["duration_s"] = int(m.group(1)), float(m.group(2))
    m = re.search(r"Error rate: ([0-9.]+)", text)
    if m and "samples" in out:
        out["errors"] = round(float(m.group(1)) * out["samples"] / 100.0)
    return out


def _tachyon_stdout(text):
    """Its summary (and any warning after it) follows the program's output
    on stdout, from the 'Captured N samples' line on."""
    m = re.search(r"^Captured \d+ samples in ", text, flags=re.M)
    return text[: m.start()] if m else text


def _pyspy_stdout(text):
    """py-spy prints its own messages on the program's stdout: a first line
    and a blank line before the program starts, a blank line and its closing
    lines after it ends.  The program's output is what lies between."""
    text = re.sub(r"\Apy-spy> [^\n]*\n\n?", "", text)
    end = text.find("\npy-spy> ")
    if end >= 0:
        text = text[: end]
    return re.sub(r"^py-spy> [^\n]*\n?", "", text, flags=re.M)


_LOAD_META = r"""
import json, sys
import pyrometer
out = []
for path in sys.argv[1:]:
    try:
        # Scalars only, and no embedded source text ("source:FILE" keys).
        out.append({k: v for k, v in pyrometer.load(path).meta.items()
                    if not k.startswith("source:") and (isinstance(v, (int, float, bool)) or v is None
                                                        or (isinstance(v, str) and len(v) <= 500))})
    except Exception as exc:
        out.append({"error": "%s: %s" % (type(exc).__name__, exc)})
print(json.dumps(out))
"""


def _pyrometer_collect(ctx, paths):
    """Reads the .pyro files' meta with the venv's pyrometer (after the timed
    runs, so loading costs nothing measured)."""
    if not paths:
        return []
    rc, out, err = capture([ctx.python, "-c", _LOAD_META] + list(paths), timeout=300, env=ctx.env)
    if rc:
        return [{"error": "cannot load profiles: " + last_line(err)} for _ in paths]
    metas = json.loads(out.strip().splitlines()[-1])
    for m in metas:
        if "error" in m:
            continue
        exp, taken = m.get("samples_expected"), m.get("samples_taken")
        dur, cpu = m.get("duration_s"), m.get("sampler_cpu_s")
        m["taken_ratio"] = taken / exp if exp else None
        m["achieved_hz"] = taken / dur if dur else None
        m["sampler_cpu_share"] = cpu / dur if dur and cpu is not None else None
        m["torn_ratio"] = (m.get("samples_torn") or 0) / taken if taken else None
    return metas


# ---- the table -----------------------------------------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))
TRACEMALLOC_RUN = os.path.join(HERE, "tracemalloc_run.py")


def _plain(ctx, script, args, out):
    return [ctx.python, script] + list(args)


def _pyrometer(mode, ext, *options):
    def build(c, s, a, o):
        argv = [c.python, "-m", "pyrometer", "run"]
        if mode in ("wall", "cpu"):
            argv += ["--rate", str(RATE_HZ)]
        if mode != "wall":
            argv += ["--mode", mode]
        return argv + list(options) + ["-o", o + ext, s] + a
    return build


def _scalene(*options):
    # scalene 2.x: `scalene run [options] prog.py --- prog-args`.
    return lambda c, s, a, o: [c.python, "-m", "scalene", "run"] + list(options) + ["-o", o + ".json", s, "---"] + a


PROFILERS = [
    Profiler("aa", "plain (A/A)", "control", _plain,
             settings="the plain run again: the noise floor of this machine (ideal 1.00x)"),

    # ---- sampling: every one at 1 kHz (a 1 ms interval) ----
    Profiler("pyrometer", "pyrometer wall", "sampling", _pyrometer("wall", ".pyro"),
             dist="pyrometer", settings="pyrometer run --rate 1000 -o out.pyro (wall mode, the default)",
             collect=_pyrometer_collect, needs_pyrometer=True),
    Profiler("pyrometer-cpu", "pyrometer cpu", "sampling", _pyrometer("cpu", ".pyro"),
             dist="pyrometer", settings="pyrometer run --rate 1000 --mode cpu -o out.pyro",
             collect=_pyrometer_collect, needs_pyrometer=True),
    Profiler("pyinstrument", "pyinstrument", "sampling",
             lambda c, s, a, o: [c.python, "-m", "pyinstrument", "-i", "0.001", "-r", "pyisession",
                                 "-o", o + ".pyisession", s] + a,
             pip=["pyinstrument"], dist="pyinstrument",
             settings="python -m pyinstrument -i 0.001 -r pyisession -o out.pyisession"),
    Profiler("py-spy", "py-spy", "sampling",
             lambda c, s, a, o: [c.tool("py-spy"), "record", "-r", str(RATE_HZ), "-f", "raw", "-o", o + ".txt",
                                 "--", c.python, s] + a,
             pip=["py-spy"], dist="py-spy", parse_run=_pyspy_figures, clean_stdout=_pyspy_stdout,
             settings="py-spy record -r 1000 -f raw -o out.txt -- python ... (default: pauses the process per sample)"),
    Profiler("py-spy-nb", "py-spy nonblocking", "sampling",
             lambda c, s, a, o: [c.tool("py-spy"), "record", "--nonblocking", "-r", str(RATE_HZ), "-f", "raw",
                                 "-o", o + ".txt", "--", c.python, s] + a,
             pip=["py-spy"], dist="py-spy", parse_run=_pyspy_figures, clean_stdout=_pyspy_stdout,
             settings="py-spy record --nonblocking -r 1000 -f raw -o out.txt -- python ..."),
    Profiler("tachyon", "profiling.sampling", "sampling",
             lambda c, s, a, o: [c.python, "-m", "profiling.sampling", "run", "-a", "-r", "1khz", "--collapsed",
                                 "-o", o + ".txt", s] + a,
             default=False, parse_run=_tachyon_figures, clean_stdout=_tachyon_stdout,
             settings="python -m profiling.sampling run -a -r 1khz --collapsed (CPython 3.15+'s own sampler, "
                      "every thread, wall mode; run it only there)"),
    Profiler("austin", "austin", "sampling",
             lambda c, s, a, o: [c.tool("austin"), "-i", "1ms", "-o", o + ".austin", c.python, s] + a,
             # 4.x wheels need glibc 2.38; 3.x wheels are manylinux2010.
             pip=["austin-dist", "austin-dist<4"], dist="austin-dist", parse_run=_austin_figures,
             settings="austin -i 1ms -o out.austin python ... (wall mode; austin-dist 4.x wheels need glibc 2.38, "
                      "so 3.x is used where 4.x does not run)"),
    Profiler("scalene-cpu", "scalene --cpu-only", "sampling", _scalene("--cpu-only", "--cpu-sampling-rate", "0.001"),
             pip=["scalene"], dist="scalene",
             settings="python -m scalene run --cpu-only --cpu-sampling-rate 0.001 -o out.json prog.py --- args "
                      "(signal-driven CPU sampling at 1 ms; its default is 10 ms)"),

    # ---- deterministic: every call (or line) ----
    Profiler("cProfile", "cProfile", "deterministic",
             lambda c, s, a, o: [c.python, "-m", "cProfile", "-o", o + ".prof", s] + a,
             settings="python -m cProfile -o out.prof (standard library)"),
    Profiler("profile", "profile", "deterministic",
             lambda c, s, a, o: [c.python, "-m", "profile", "-o", o + ".prof", s] + a,
             settings="python -m profile -o out.prof (standard library, pure Python)"),
    Profiler("yappi", "yappi", "deterministic",
             lambda c, s, a, o: [c.python, "-m", "yappi", "-o", o + ".prof", "-f", "pstat", s] + a,
             pip=["yappi"], dist="yappi", settings="python -m yappi -o out.prof -f pstat (default: CPU clock, all threads)"),
    Profiler("pyrometer-calls", "pyrometer calls", "deterministic", _pyrometer("calls", ".prof"),
             dist="pyrometer", settings="pyrometer run --mode calls -o out.prof (pstats file, like cProfile's)",
             needs_pyrometer=True),
    Profiler("pyrometer-lines", "pyrometer lines", "deterministic", _pyrometer("lines", ".pyro"),
             dist="pyrometer", settings="pyrometer run --mode lines -o out.pyro (default targets: the files under "
                                        "the program's directory, i.e. every line of the workload)",
             needs_pyrometer=True),
    Profiler("line_profiler", "line_profiler", "deterministic",
             lambda c, s, a, o: [c.python, "-m", "kernprof", "-l", "-q", "-p", s, "-o", o + ".lprof", s] + a,
             pip=["line_profiler"], dist="line_profiler",
             settings="python -m kernprof -l -q -p prog.py -o out.lprof prog.py (-p prog.py: every function of the "
                      "workload file is profiled line by line, nothing else; the same code as pyrometer lines)"),
    Profiler("viztracer", "viztracer", "deterministic",
             lambda c, s, a, o: [c.python, "-m", "viztracer", "--quiet", "-o", o + ".json", "--", s] + a,
             pip=["viztracer"], dist="viztracer",
             settings="python -m viztracer --quiet -o out.json -- prog.py (every call and return into its default "
                      "ring buffer of 1M entries, written as JSON at exit)"),

    # ---- memory ----
    Profiler("pyrometer-mem", "pyrometer", "memory", _pyrometer("memory", ".pyro"),
             dist="pyrometer", needs_pyrometer=True,
             settings="pyrometer run --mode memory -o out.pyro (one allocation in every 64 KiB on average sampled "
                      "with its stack, blocks of that size or more all; peak, live, allocated and leaks)"),
    Profiler("pyrometer-mem-exact", "pyrometer exact", "memory", _pyrometer("memory", ".pyro", "--memory-rate", "1"),
             dist="pyrometer", needs_pyrometer=True,
             settings="pyrometer run --mode memory --memory-rate 1 -o out.pyro (every allocation with its stack)"),
    Profiler("pyrometer-mem-native", "pyrometer native", "memory",
             _pyrometer("memory", ".pyro", "--native-memory"), dist="pyrometer", needs_pyrometer=True, default=False,
             settings="pyrometer run --mode memory --native-memory -o out.pyro (the default rate, and malloc, "
                      "calloc, realloc and anonymous mmap by extension modules and libraries too)"),
    Profiler("memray", "memray", "memory",
             lambda c, s, a, o: [c.python, "-m", "memray", "run", "-q", "-o", o + ".bin", s] + a,
             pip=["memray"], dist="memray",
             settings="python -m memray run -q -o out.bin (every allocation above pymalloc, Python stacks)"),
    Profiler("tracemalloc", "tracemalloc", "memory",
             lambda c, s, a, o: [c.python, "-X", "tracemalloc=1", TRACEMALLOC_RUN, o + ".snapshot", s] + a,
             settings="python -X tracemalloc=1 harness/tracemalloc_run.py out.snapshot prog.py (standard library; "
                      "1 frame per allocation from interpreter start; the wrapper runs the program as __main__ and "
                      "dumps a snapshot at exit)"),
    Profiler("fil", "Fil", "memory",
             lambda c, s, a, o: [c.tool("fil-profile"), "-o", o + ".fil", "--no-browser", "run", s] + a,
             pip=["filprofiler"], dist="filprofiler",
             settings="fil-profile -o out.fil --no-browser run prog.py (every allocation alive at the peak, kept "
                      "exactly; its report written at exit)"),
    Profiler("scalene-mem", "scalene CPU+memory", "memory", _scalene("--memory"),
             pip=["scalene"], dist="scalene",
             settings="python -m scalene run --memory -o out.json prog.py --- args (CPU at its default 10 ms and "
                      "sampled allocations, through its LD_PRELOAD allocator)"),
]

BY_NAME = {p.name: p for p in PROFILERS}


def select(names=None):
    if not names:
        return [p for p in PROFILERS if p.default]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise SystemExit("benchmarks: unknown profiler(s) %s; known: %s" % (", ".join(unknown), ", ".join(BY_NAME)))
    # Keep the table's order; the control and pyrometer always come along.
    wanted = set(names) | {"aa", "pyrometer"}
    return [p for p in PROFILERS if p.name in wanted]


# ---- availability -----------------------------------------------------------------

_PROBE_SCRIPT = """\
import time
t = time.perf_counter()
x = 0
def f(i):
    return i + 1
while time.perf_counter() - t < 0.6:
    x = f(x)
print("pyrobench-probe-ok")
"""


def probe(ctx, profiler):
    """Runs the profiler on a tiny program (twice at most: a busy machine can
    make an attaching profiler miss a short program); returns None when it
    works, else the reason it does not."""
    reason = _probe_once(ctx, profiler)
    if reason is not None:
        reason = _probe_once(ctx, profiler)
    return reason


def _probe_once(ctx, profiler):
    with tempfile.TemporaryDirectory(prefix="pyrobench-probe-") as tmp:
        script = os.path.join(tmp, "probe.py")
        with open(script, "w") as f:
            f.write(_PROBE_SCRIPT)
        argv = profiler.build(ctx, script, [], os.path.join(tmp, "out"))
        rc, out, err = capture(argv, timeout=120, env=ctx.env, cwd=tmp)
        out = profiler.clean_stdout(out)
        if rc == 0 and out.strip() == "pyrobench-probe-ok":
            return None
        if rc == 0:
            return "runs, but the program's output changed: %r" % out.strip()[:120]
        return "%s: %s" % (describe_status(rc), last_line(_ANSI.sub("", err or out)) or "(no message)")


def prepare(ctx, profilers, pyrometer_status):
    """Installs (when missing) and probes every profiler in this venv.
    Returns {name: {"status": "ok"|"unavailable", "version", "reason", "notes"}}."""
    result = {}
    for prof in profilers:
        info = {"status": "ok", "version": None, "reason": None, "notes": []}
        result[prof.name] = info
        if prof.needs_pyrometer and pyrometer_status["status"] != "ok":
            info.update(status="unavailable", reason="pyrometer: " + pyrometer_status["reason"])
            continue
        if prof.kind == "control":
            continue
        if ctx.in_place:
            # Nothing is installed: a peer runs if the interpreter has it.
            installed = dist_version(ctx.python, prof.dist) if prof.dist else "stdlib"
            reason = probe(ctx, prof)
            if reason and prof.pip and not installed:
                reason = "not installed in %s (--in-place installs nothing)" % ctx.python
            info["version"] = installed
            if reason:
                info.update(status="unavailable", reason=reason)
            continue
        if not prof.pip:
            info["version"] = dist_version(ctx.python, prof.dist) if prof.dist else "stdlib"
            reason = probe(ctx, prof)
            if reason:
                info.update(status="unavailable", reason=reason)
            continue
        reason = None
        installed = dist_version(ctx.python, prof.dist)
        if installed:
            reason = probe(ctx, prof)
            if reason is None:
                info["version"] = installed
                continue
            info["notes"].append("%s %s installed but does not run: %s" % (prof.dist, installed, reason))
        for i, spec in enumerate(prof.pip):
            log("installing %s into %s" % (spec, ctx.venv))
            args = ["install", "--quiet"] + (["--force-reinstall"] if installed else []) + [spec]
            rc, out, err = pip(ctx.python, *args)
            if rc:
                reason = "pip install %s failed: %s" % (spec, pip_error(err or out))
                info["notes"].append(reason)
                continue
            installed = dist_version(ctx.python, prof.dist)
            reason = probe(ctx, prof)
            if reason is None:
                break
            reason = "%s %s does not run: %s" % (prof.dist, installed, reason)
            info["notes"].append(reason)
        if reason is None:
            info["version"] = installed
        else:
            info.update(status="unavailable", reason=reason, version=installed)
    return result
