"""`pyrometer trace` beside its peers, side by side in one run.

For each call-heavy workload of benchmarks/workloads (QUICK_SIZE, or --scale),
in a fresh process each, interleaved round by round:

  plain              python workload.py SIZE
  trace --count      python -m trace --count (stdlib left out, no report)
  coverage.py        python -m coverage run (line coverage)
  cProfile           python -m cProfile -o FILE
  pyrometer count    pyrometer trace --count --coverdir DIR
  pyrometer cov-only pyrometer trace --coverage-only --coverdir DIR
  pyrometer timeline pyrometer run --mode timeline -o FILE.trace.json
  viztracer          python -m viztracer -o FILE.json (when installed: the bench extra)

Each workload times its own work (`pyrobench: work_s=` on stderr), so start-up
and report writing are not counted.  Printed per workload: the median work
time of each variant over the plain one (x), the same for the best run of each
(best x: less disturbed by other load on the machine), and the added overhead
(median - plain median) of pyrometer count as a fraction of trace's and
coverage.py's, of the timeline as a fraction of viztracer's.
Targets: pyrometer count <= 1/10 of trace's added overhead and <= coverage.py's;
--coverage-only <= 1.10x on 3.12+; timeline <= 1/2 of viztracer's added overhead.

Usage: python benchmarks/trace/overhead.py [--rounds N] [--scale X] [--workloads a,b]
"""
import argparse
import ast
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = os.path.join(os.path.dirname(HERE), "workloads")
DEFAULT = "call_heavy,recursive,generators,loop_numeric"


def quick_size(name):
    tree = ast.parse(open(os.path.join(WORKLOADS, name + ".py")).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "QUICK_SIZE":
            return node.value.value
    raise SystemExit("no QUICK_SIZE in %s" % name)


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


def work_s(cmd, path, size):
    r = subprocess.run(cmd + [path, str(size)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=3600)
    m = re.search(rb"pyrobench: work_s=([0-9.eE+-]+)", r.stderr)
    if r.returncode != 0 or not m:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), r.stderr.decode()[-2000:]))
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--workloads", default=DEFAULT)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="pyrometer-trace-bench-")
    try:
        vs = variants(tmp)
        print("Python %s; %d rounds; median work seconds, x = over plain" % (sys.version.split()[0], args.rounds))
        for name in args.workloads.split(","):
            path = os.path.join(WORKLOADS, name + ".py")
            size = max(1, int(quick_size(name) * args.scale))
            times = {v: [] for v in vs}
            for _ in range(args.rounds):
                for v, cmd in vs.items():
                    times[v].append(work_s(cmd, path, size))
            med = {v: statistics.median(t) for v, t in times.items()}
            best = {v: min(t) for v, t in times.items()}
            plain = med["plain"]
            print("\n%s (size %d): plain %.3f s (best %.3f s)" % (name, size, plain, best["plain"]))
            print("  %-20s %9s %8s %8s" % ("", "median", "x", "best x"))
            for v in vs:
                if v != "plain":
                    print("  %-20s %7.3f s %7.2fx %7.2fx" % (v, med[v], med[v] / plain, best[v] / best["plain"]))
            added = {v: max(med[v] - plain, 1e-9) for v in vs}
            ours = added["pyrometer count"]
            print("  pyrometer count added overhead: %.3f of trace's, %s of coverage.py's"
                  % (ours / added["trace --count"],
                     "%.2f" % (ours / added["coverage.py"]) if "coverage.py" in added else "n/a"))
            if "viztracer" in added:
                print("  pyrometer timeline added overhead: %.2f of viztracer's"
                      % (added["pyrometer timeline"] / added["viztracer"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
