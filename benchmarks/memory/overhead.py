#!/usr/bin/env python3
"""Memory profilers' overhead side by side: pyrometer's memory mode at its
default rate and at --memory-rate 1 (every allocation), tracemalloc, and
memray, Fil and Scalene (when installed: the bench extra), on
allocation-heavy code.

    python benchmarks/memory/overhead.py [--rounds N] [--size N]
    python benchmarks/memory/overhead.py --workloads [--full] [--rounds N] [--rates BYTES ...]
    python benchmarks/memory/overhead.py --builds OLD/bin/python NEW/bin/python [--rounds N] [--size N]
                                         [--workload NAME] [--memory-rate BYTES]
    python benchmarks/memory/overhead.py --native [--rounds N] [--size N]
    python benchmarks/memory/overhead.py --real [--rounds N] [--busy N]

Two measurements, both as ratios to plain runs interleaved with them (the
order shuffled every round; the machine is noisy, so only ratios of
interleaved runs mean anything):

1. in one process: the research's microbenchmark (100k dicts kept, 100k
   temporaries; ~1.9 M allocations), timed with process CPU time around the
   work alone, profilers started and stopped around each timed run;
2. whole processes: benchmarks/workloads/alloc_heavy.py under each tool,
   the child's CPU time (user + system, from wait4), start-up included.

Prints a markdown table per measurement: min and median ratio per tool.
--workloads instead runs every workload of benchmarks/workloads plain and
under the default rate (or under each --rates value, in the same rounds),
and gives the geomean of the median ratios.
--builds compares pyrometer builds (each installed in its own venv): whole
processes of one workload (alloc_heavy.py unless --workload) at
--memory-rate 1 (unless --memory-rate) under each interpreter given,
interleaved with plain runs of the first.
--native instead runs sqlite_work.py (sqlite's own mallocs, under Python
calls) whole: plain, pyrometer at the default rate with and without
--native-memory, and the peers that see native allocations (memray, Fil).
--real instead runs every tool of the whole-process measurement on the real
programs from PyPI of ../deterministic/real (Jinja2, docutils, pyflakes,
Markdown: the bench extra), optionally beside --busy spinning processes."""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(os.path.dirname(HERE), "workloads", "alloc_heavy.py")
NATIVE_WORKLOAD = os.path.join(HERE, "sqlite_work.py")
REAL = os.path.join(os.path.dirname(HERE), "deterministic", "real")


def work(n=100000):
    out = []
    for i in range(n):
        out.append({"id": i, "name": "item%d" % i, "tags": [str(i), str(i + 1)]})
    s = 0
    for i in range(n):
        t = ("x%d" % i, [i, i])
        s += len(t[0])
    return out


def in_process(rounds):
    import tracemalloc

    import pyrometer
    from pyrometer._memory import DEFAULT_RATE

    def plain():
        t = time.process_time()
        r = work()
        return time.process_time() - t, r

    def memory(rate):
        def run():
            with pyrometer.profile(mode="memory", memory_rate=rate):
                t = time.process_time()
                r = work()
                dt = time.process_time() - t
            return dt, r
        return run

    def traced():
        tracemalloc.start(1)
        t = time.process_time()
        r = work()
        dt = time.process_time() - t
        tracemalloc.stop()
        return dt, r

    modes = {
        "plain": plain,
        "pyrometer (default rate)": memory(DEFAULT_RATE),
        "pyrometer --memory-rate 1": memory(1),
        "tracemalloc start(1)": traced,
    }
    return _interleave(modes, rounds)


def _interleave(modes, rounds):
    times = {name: [] for name in modes}
    names = list(modes)
    for _ in range(rounds):
        random.shuffle(names)
        for name in names:
            dt, r = modes[name]()
            del r
            times[name].append(dt)
    return times


def _child_cpu(cmd):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
    if proc.returncode != 0:
        raise RuntimeError("%s failed (%s)" % (" ".join(cmd), proc.returncode))
    return usage.ru_utime + usage.ru_stime, None


def processes(rounds, size, native=False, work=None):
    """Every tool on `work SIZE` (alloc_heavy.py, or sqlite_work.py with
    native), whole processes interleaved with plain ones."""
    py = sys.executable
    tmp = tempfile.mkdtemp(prefix="pyrometer-membench-")
    work = work or (NATIVE_WORKLOAD if native else WORKLOAD)
    modes = {
        "plain": lambda: _child_cpu([py, work, str(size)]),
        "pyrometer (default rate)": lambda: _child_cpu(
            [py, "-m", "pyrometer", "run", "--mode", "memory", "-o", os.path.join(tmp, "a.pyro"), work, str(size)]),
    }
    if native:
        modes["pyrometer --native-memory"] = lambda: _child_cpu(
            [py, "-m", "pyrometer", "run", "--mode", "memory", "--native-memory", "-o", os.path.join(tmp, "n.pyro"),
             work, str(size)])
    else:
        modes["pyrometer --memory-rate 1"] = lambda: _child_cpu(
            [py, "-m", "pyrometer", "run", "--mode", "memory", "--memory-rate", "1", "-o", os.path.join(tmp, "b.pyro"),
             work, str(size)])
        modes["tracemalloc (-X tracemalloc=1)"] = lambda: _child_cpu([py, "-X", "tracemalloc=1", work, str(size)])
    if subprocess.run([py, "-c", "import memray"], stderr=subprocess.DEVNULL).returncode == 0:
        out = os.path.join(tmp, "m.bin")

        def memray_run():
            if os.path.exists(out):
                os.unlink(out)
            return _child_cpu([py, "-m", "memray", "run", "-q", "-o", out, work, str(size)])

        def memray_py():
            if os.path.exists(out):
                os.unlink(out)
            return _child_cpu([py, "-m", "memray", "run", "-q", "--trace-python-allocators", "-o", out,
                               work, str(size)])

        modes["memray run"] = memray_run
        if not native:
            modes["memray --trace-python-allocators"] = memray_py
    fil = os.path.join(os.path.dirname(py), "fil-profile")
    if os.access(fil, os.X_OK):
        # Fil tracks every allocation of the peak (no sampling) and writes
        # its report (SVG flame graphs, HTML) at exit.
        modes["Fil (fil-profile run)"] = lambda: _child_cpu(
            [fil, "-o", os.path.join(tmp, "fil"), "--no-browser", "run", work, str(size)])
    if not native and subprocess.run([py, "-c", "import scalene"], stderr=subprocess.DEVNULL).returncode == 0:
        # Scalene's default run profiles CPU and memory (sampled allocations).
        modes["Scalene (scalene run)"] = lambda: _child_cpu(
            [py, "-m", "scalene", "run", "-o", os.path.join(tmp, "s.json"), work, "---", str(size)])
    try:
        return _interleave(modes, rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _median(values):
    return sorted(values)[len(values) // 2]


def real_programs(rounds, busy=0):
    """Every tool of processes() on the real programs from PyPI of
    ../deterministic/real (the bench extra), one program after another;
    per program the median ratio to its plain runs, then the geomean."""
    py = sys.executable
    spinners = [subprocess.Popen([py, "-c", "while True: pass"]) for _ in range(busy)]
    rows, tools = [], None
    try:
        for name, path, size in _programs(REAL, full=True):
            times = processes(rounds, size, work=path)
            base = _median(times["plain"])
            tools = [t for t in times if t != "plain"]
            rows.append((name, base, [_median(times[t]) / base for t in tools]))
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    return _ratio_table("Real programs from PyPI, whole processes: tool / plain, median child CPU of %d rounds, "
                        "%d busy process(es) beside" % (rounds, busy), "program", tools or [], rows, "%.2fx")


def _ratio_table(title, first, labels, rows, fmt):
    """Markdown: per row (name, plain s, [ratio per label]), then the geomean
    of each column."""
    import math

    lines = ["### " + title, "", "| %s | plain s | %s |" % (first, " | ".join(labels)),
             "|---|---|" + "---|" * len(labels)]
    for name, base, ratios in rows:
        lines.append("| %s | %.3f | %s |" % (name, base, " | ".join(fmt % r for r in ratios)))
    geos = [math.exp(sum(math.log(r[2][i]) for r in rows) / len(rows)) if rows else float("nan")
            for i in range(len(labels))]
    lines.append("| **geomean** | | %s |" % " | ".join("**%s**" % (fmt % g) for g in geos))
    return "\n".join(lines) + "\n"


def _programs(where, full):
    """(name, path, size) of each program in `where` that states its sizes."""
    import glob
    import re

    for path in sorted(glob.glob(os.path.join(where, "*.py"))):
        with open(path) as f:
            m = re.search(r"^%s = (\d+)" % ("FULL_SIZE" if full else "QUICK_SIZE"), f.read(), re.M)
        if m:
            yield os.path.basename(path)[:-3], path, m.group(1)


def every_workload(rounds, full, rates=None):
    """pyrometer's default rate (or each of `rates`, interleaved in the same
    rounds) against plain on every workload of benchmarks/workloads (whole
    processes, child CPU), and the geomean per rate."""
    py = sys.executable
    rates = rates or [None]  # None: the default rate, no --memory-rate
    labels = [str(r) if r else "default rate" for r in rates]
    tmp = tempfile.mkdtemp(prefix="pyrometer-membench-")
    rows = []
    try:
        for name, path, size in _programs(os.path.dirname(WORKLOAD), full):
            out = os.path.join(tmp, "w.pyro")
            modes = {"plain": lambda: _child_cpu([py, path, size])}
            for rate, label in zip(rates, labels):
                modes[label] = (lambda rate=rate: _child_cpu(
                    [py, "-m", "pyrometer", "run", "--mode", "memory", "-o", out]
                    + (["--memory-rate", str(rate)] if rate else []) + [path, size]))
            times = _interleave(modes, rounds)
            base = _median(times["plain"])
            rows.append((name, base, [_median(times[label]) / base for label in labels]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _ratio_table("Every workload, whole processes: pyrometer --mode memory / plain, median child CPU",
                        "workload", labels, rows, "%.3fx")


def builds(pythons, rounds, size, workload=WORKLOAD, rate=1):
    """Memory mode at `rate` under each build's interpreter, whole processes."""
    tmp = tempfile.mkdtemp(prefix="pyrometer-membench-")
    modes = {"plain": lambda: _child_cpu([pythons[0], workload, str(size)])}
    for py in pythons:
        modes["--memory-rate %d, %s" % (rate, py)] = (lambda py=py: _child_cpu(
            [py, "-m", "pyrometer", "run", "--mode", "memory", "--memory-rate", str(rate), "-o",
             os.path.join(tmp, "b.pyro"), workload, str(size)]))
    try:
        return _interleave(modes, rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def table(title, times):
    base = sorted(times["plain"])
    lines = ["### " + title, "", "| tool | min ratio | median ratio | plain min s |", "|---|---|---|---|"]
    for name, ts in times.items():
        ts = sorted(ts)
        lines.append("| %s | %.2fx | %.2fx | %.3f |" % (
            name, ts[0] / base[0], ts[len(ts) // 2] / base[len(base) // 2], base[0]))
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--size", type=int, default=45, help="alloc_heavy.py SIZE for the process runs")
    ap.add_argument("--skip-processes", action="store_true")
    ap.add_argument("--workloads", action="store_true",
                    help="only: the default rate on every workload (quick sizes), and the geomean")
    ap.add_argument("--full", action="store_true", help="with --workloads: full sizes")
    ap.add_argument("--rates", nargs="+", type=int, metavar="BYTES",
                    help="with --workloads: these --memory-rate values side by side instead of the default")
    ap.add_argument("--native", action="store_true",
                    help="only: whole sqlite_work.py processes, with and without --native-memory, beside memray and Fil")
    ap.add_argument("--builds", nargs="+", metavar="PYTHON",
                    help="only: memory mode under each of these interpreters (one venv per build)")
    ap.add_argument("--workload", metavar="NAME", default="alloc_heavy",
                    help="with --builds: the workload of benchmarks/workloads to run")
    ap.add_argument("--memory-rate", type=int, default=1, metavar="BYTES", help="with --builds: the rate")
    ap.add_argument("--real", action="store_true",
                    help="only: every tool on the real programs from PyPI (the bench extra), and the geomean")
    ap.add_argument("--busy", type=int, default=0, metavar="N", help="with --real: N spinning processes beside")
    a = ap.parse_args(argv)
    print("Python %s\n" % sys.version.split()[0])
    if a.real:
        print(real_programs(a.rounds, a.busy))
        return
    if a.builds:
        workload = os.path.join(os.path.dirname(HERE), "workloads", a.workload + ".py")
        if not os.path.exists(workload):
            raise SystemExit("overhead.py: no workload %r in benchmarks/workloads" % a.workload)
        print(table("Whole processes, builds interleaved: workloads/%s.py %d at --memory-rate %d (child CPU time)" % (
            a.workload, a.size, a.memory_rate), builds(a.builds, a.rounds, a.size, workload, a.memory_rate)))
        return
    if a.workloads:
        print(every_workload(a.rounds, a.full, a.rates))
        return
    if a.native:
        print(table("Whole processes: memory/sqlite_work.py %d (child CPU time)" % a.size,
                    processes(a.rounds, a.size, native=True)))
        return
    print(table("In one process: 100k dicts kept + 100k temporaries (CPU time of the work)", in_process(a.rounds)))
    if not a.skip_processes:
        print(table("Whole processes: workloads/alloc_heavy.py %d (child CPU time)" % a.size,
                    processes(a.rounds, a.size)))


if __name__ == "__main__":
    main()
