"""`pyrometer trace` beside its peers, side by side in one run.

For each workload asked for (default: the call-heavy ones below; `--workloads
all`: every workload of benchmarks/workloads, threads, I/O and asyncio
included) at its QUICK_SIZE (times --scale), in a fresh process each,
interleaved round by round:

  plain              python workload.py SIZE
  trace --count      python -m trace --count (stdlib left out, no report)
  coverage.py        python -m coverage run (line coverage)
  cProfile           python -m cProfile -o FILE
  pyrometer count    pyrometer trace --count --coverdir DIR
  pyrometer cov-only pyrometer trace --coverage-only --coverdir DIR
  pyrometer timeline pyrometer run --mode timeline -o FILE.trace.json
  viztracer          python -m viztracer -o FILE.json (when installed: the bench extra)
  line hook floor    pyrometer trace --listfuncs, 3.9-3.11 only: its line hook
                     returns at once, so this is what the interpreter itself
                     charges for calling a C line hook (its list follows the
                     program's output)

Each workload times its own work (`pyrobench: work_s=` on stderr), so start-up
and report writing are not counted.  Printed per workload: the median work
time of each variant over the plain one (x), the same for the best run of each
(best x: less disturbed by other load on the machine), and the added overhead
(median - plain median) of pyrometer count as a fraction of trace's and
coverage.py's, of the timeline as a fraction of viztracer's, and on 3.9-3.11
the line hook floor's added overhead as a fraction of trace's: the part of
count's that no C line hook can avoid.
Targets: pyrometer count <= 1/10 of trace's added overhead and <= coverage.py's;
--coverage-only <= 1.10x on 3.12+; timeline <= 1/2 of viztracer's added overhead.

A workload whose plain run is mostly waiting (io_threads) gives tracers little
to add: there the fractions are noise, and say so when trace's added time is
within the plain run's spread.

Usage: python benchmarks/trace/overhead.py [--rounds N] [--scale X] [--workloads a,b|all]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from harness.workloads import discover  # noqa: E402  (the benchmarks directory is not a package)

DEFAULT = "call_heavy,recursive,generators,loop_numeric"


def chosen(spec):
    """The workloads named by --workloads (a,b,... or all), in that order."""
    found = {w.name: w for w in discover()}
    if spec == "all":
        return list(found.values())
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in found]
    if unknown:
        raise SystemExit("unknown workload %s; there are: %s, or all" % (", ".join(unknown), ", ".join(found)))
    return [found[n] for n in names]


FLOOR = "line hook floor"


def variants(tmp):
    stdlib = os.path.dirname(sysconfig.get_paths()["stdlib"])
    py = sys.executable
    out = {
        "plain": [py],
        "trace --count": [py, "-m", "trace", "--count", "--no-report", "--ignore-dir", sys.base_prefix,
                          "--ignore-dir", stdlib],
        "pyrometer count": [py, "-m", "pyrometer", "trace", "--count", "--coverdir", os.path.join(tmp, "p")],
        "pyrometer cov-only": [py, "-m", "pyrometer", "trace", "--coverage-only", "--coverdir",
                               os.path.join(tmp, "q")],
        "cProfile": [py, "-m", "cProfile", "-o", os.path.join(tmp, "c.prof")],
        "pyrometer timeline": [py, "-m", "pyrometer", "run", "--mode", "timeline", "-o",
                               os.path.join(tmp, "p.trace.json")],
    }
    if sys.version_info < (3, 12):
        out[FLOOR] = [py, "-m", "pyrometer", "trace", "--listfuncs"]
    try:
        import viztracer  # noqa: F401

        out["viztracer"] = [py, "-m", "viztracer", "--quiet", "-o", os.path.join(tmp, "v.json"), "--"]
    except ImportError:
        pass
    try:
        import coverage  # noqa: F401

        out["coverage.py"] = [py, "-m", "coverage", "run", "--data-file", os.path.join(tmp, ".coverage")]
    except ImportError:
        pass
    return out


def work_s(cmd, path, size, expected=None, report_follows=False):
    """The work time of one run; its stdout (the workload's checksum) must be
    the plain run's: a tracer that changed what the program does (threads
    cut short, a loop left early) must not pass for a fast one.  report_follows:
    the variant prints its report after the program's output."""
    r = subprocess.run(cmd + [path, str(size)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=3600,
                       stdin=subprocess.DEVNULL)
    m = re.search(rb"pyrobench: work_s=([0-9.eE+-]+)", r.stderr)
    if r.returncode != 0 or not m:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), r.stderr.decode()[-2000:]))
    if expected is not None and r.stdout[: len(expected) if report_follows else None] != expected:
        raise SystemExit("%s printed %r, the plain run %r" % (" ".join(cmd), r.stdout[-200:], expected[-200:]))
    return float(m.group(1)), r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--workloads", default=DEFAULT, help="comma-separated names, or all")
    args = ap.parse_args()
    workloads = chosen(args.workloads)
    tmp = tempfile.mkdtemp(prefix="pyrometer-trace-bench-")
    try:
        vs = variants(tmp)
        print("Python %s; %d rounds; median work seconds, x = over plain" % (sys.version.split()[0], args.rounds))
        for w in workloads:
            size = max(1, int(w.quick_size * args.scale))
            times = {v: [] for v in vs}
            expected = None
            for _ in range(args.rounds):
                for v, cmd in vs.items():
                    t, out = work_s(cmd, w.path, size, expected, report_follows=v == FLOOR)
                    if v == "plain":
                        expected = out
                    times[v].append(t)
            med = {v: statistics.median(t) for v, t in times.items()}
            best = {v: min(t) for v, t in times.items()}
            plain = med["plain"]
            print("\n%s (size %d): plain %.3f s (best %.3f s)" % (w.name, size, plain, best["plain"]))
            print("  %-20s %9s %8s %8s" % ("", "median", "x", "best x"))
            for v in vs:
                if v != "plain":
                    print("  %-20s %7.3f s %7.2fx %7.2fx" % (v, med[v], med[v] / plain, best[v] / best["plain"]))
            added = {v: max(med[v] - plain, 1e-9) for v in vs}
            ours = added["pyrometer count"]
            spread = max(times["plain"]) - min(times["plain"])
            note = ("  (trace adds less than the plain runs' spread, %.3f s: noise)" % spread
                    if added["trace --count"] <= spread else "")
            print("  pyrometer count added overhead: %.3f of trace's, %s of coverage.py's%s"
                  % (ours / added["trace --count"],
                     "%.2f" % (ours / added["coverage.py"]) if "coverage.py" in added else "n/a", note))
            if FLOOR in added:
                print("  line hook floor added overhead: %.3f of trace's" % (added[FLOOR] / added["trace --count"]))
            if "viztracer" in added:
                print("  pyrometer timeline added overhead: %.2f of viztracer's"
                      % (added["pyrometer timeline"] / added["viztracer"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

if __name__ == "__main__":
    main()
