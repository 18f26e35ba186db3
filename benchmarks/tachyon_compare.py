#!/usr/bin/env python3
"""pyrometer beside CPython's own sampler (`python -m profiling.sampling`,
3.15+) in one run: slowdown on the suite's workloads, and on a program of
tiny functions the stack-reading errors and the split between two leaves
against the truth the program measures itself.

    python benchmarks/tachyon_compare.py [--rounds 5] [--workloads call_heavy recursive ...]

Run it with a 3.15+ interpreter that has pyrometer installed.  Both sample
every thread at 1 kHz (Tachyon: `-a -r 1khz`), wall mode for the slowdown,
CPU mode for the split (time waiting for the GIL has no unprofiled truth).
Prints a markdown report: medians of interleaved runs, ratios to plain runs.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKLOADS = os.path.join(HERE, "workloads")
TINY = os.path.join(ROOT, "tests", "programs", "tiny_calls.py")


def quick_size(name):
    text = open(os.path.join(WORKLOADS, name + ".py")).read()
    return re.search(r"^QUICK_SIZE = (\d+)", text, re.M).group(1)


def timed(argv):
    t = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        raise SystemExit("failed: %s\n%s" % (" ".join(argv), r.stderr[-2000:]))
    return time.perf_counter() - t, r


def commands(tool, script, args, out, mode):
    py = sys.executable
    if tool == "plain":
        return [py, script] + args
    if tool == "pyrometer":
        return [py, "-m", "pyrometer", "run", "--mode", mode, "-o", out + ".pyro", script] + args
    return [py, "-m", "profiling.sampling", "run", "-a", "-r", "1khz", "--mode", mode, "--collapsed",
            "-o", out + ".collapsed", script] + args


def slowdown(names, rounds, tmp):
    rows = []
    for name in names:
        script, args = os.path.join(WORKLOADS, name + ".py"), [quick_size(name)]
        times = {t: [] for t in ("plain", "pyrometer", "tachyon")}
        for _ in range(rounds):  # interleaved: a slow moment of the machine falls on all three
            for tool in times:
                times[tool].append(timed(commands(tool, script, args, os.path.join(tmp, name), "wall"))[0])
        base = statistics.median(times["plain"])
        rows.append((name, base, statistics.median(times["pyrometer"]) / base,
                     statistics.median(times["tachyon"]) / base))
        sys.stderr.write("  %s: pyrometer %.3fx, tachyon %.3fx\n" % (name, rows[-1][2], rows[-1][3]))
    return rows


def leaf_of(names):
    """'leaf_a' or 'leaf_b' when a stack (outermost first) ends mid -> leaf."""
    names = [n.rsplit(".", 1)[-1] for n in names]
    if len(names) >= 2 and names[-2] == "mid" and names[-1] in ("leaf_a", "leaf_b"):
        return names[-1]
    return None


def split_pyrometer(path):
    import pyrometer

    p = pyrometer.load(path)
    n = {"leaf_a": 0, "leaf_b": 0}
    for stacks in p.stacks().values():
        for stack, weight in stacks.items():
            leaf = leaf_of([f[0] for f in stack])
            if leaf:
                n[leaf] += weight
    torn, taken = p.meta.get("samples_torn", 0), p.meta.get("samples_taken", 0)
    return n["leaf_a"], n["leaf_b"], "%.2f%%" % (100.0 * torn / taken) if taken else "-"


def split_tachyon(path, output):
    n = {"leaf_a": 0, "leaf_b": 0}
    for line in open(path):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not count.isdigit():
            continue
        leaf = leaf_of([f.split(":")[1] if f.count(":") >= 2 else f for f in stack.split(";")])
        if leaf:
            n[leaf] += int(count)
    m = re.search(r"Error rate: ([\d.]+)", output)
    return n["leaf_a"], n["leaf_b"], "%s%%" % m.group(1) if m else "-"


def split(rounds, tmp):
    rows = {t: [] for t in ("pyrometer", "tachyon")}
    for k in range(rounds):
        for tool in rows:
            out = os.path.join(tmp, "tiny-%s-%d" % (tool, k))
            _, r = timed(commands(tool, TINY, ["2"], out, "cpu"))
            truth = re.search(r"^([\d.]+) ([\d.]+)$", r.stdout, re.M)  # the program's line
            spent_a, spent_b = float(truth.group(1)), float(truth.group(2))
            if tool == "pyrometer":
                a, b, err = split_pyrometer(out + ".pyro")
            else:
                a, b, err = split_tachyon(out + ".collapsed", r.stdout + r.stderr)
            rows[tool].append((100.0 * spent_a / (spent_a + spent_b), 100.0 * a / max(1, a + b), err))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workloads", nargs="+", default=["call_heavy", "recursive", "generators", "asyncio_tasks"])
    a = ap.parse_args()
    if sys.version_info < (3, 15):
        raise SystemExit("tachyon_compare.py: needs CPython 3.15+ (profiling.sampling)")
    with tempfile.TemporaryDirectory() as tmp:
        rows = slowdown(a.workloads, a.rounds, tmp)
        parts = split(a.rounds, tmp)
    print("## pyrometer and CPython's sampler, %s\n" % sys.version.split()[0])
    print("Slowdown, whole process, wall mode at 1 kHz, every thread (median of %d interleaved runs):\n" % a.rounds)
    print("| workload | plain s | pyrometer | profiling.sampling |\n|---|---:|---:|---:|")
    for name, base, p, t in rows:
        print("| %s | %.2f | %.3fx | %.3fx |" % (name, base, p, t))
    print("\nTwo threads of one-to-three-microsecond functions (tests/programs/tiny_calls.py), CPU mode: "
          "leaf_a's share of the two leaves against the truth the program measured, and the errors each "
          "reports (pyrometer: torn stacks, not charged; profiling.sampling: its error rate, %):\n")
    print("| profiler | median error, points | worst, points | errors per run |\n|---|---:|---:|---|")
    for tool, runs in parts.items():
        errs = [abs(s - t) for t, s, _ in runs]
        print("| %s | %.1f | %.1f | %s |" % ("pyrometer" if tool == "pyrometer" else "profiling.sampling",
                                              statistics.median(errs), max(errs),
                                              ", ".join(str(e) for _, _, e in runs)))


if __name__ == "__main__":
    main()
