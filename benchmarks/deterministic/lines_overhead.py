"""Lines-mode overhead, side by side in one run.

For each workload, the hot function runs (>= 1 s plain) in a fresh process:

  plain            python, no profiler
  pyrometer lines  `pyrometer run --mode lines --target FILE:FUNC`
  LineProfiler     pyrometer.LineProfiler(func).runcall (in-process API)
  line_profiler    line_profiler.LineProfiler(func).runcall, when installed

once with the hot function as the target, and once with the hot code *not* a
target (the target is another, idle function in the same file): then 3.12+
should cost nothing (line events only on target code objects).  The child
times the workload itself, so start-up and report writing are not counted.
Runs are interleaved (one of each variant per round); the ratio is of
medians (and best-of ratios, less sensitive to a noisy machine).
Usage: python lines_overhead.py [--rounds N] [--scale X] [--no-line-profiler]
"""
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.abspath(__file__)


# ---- workloads (run in the child) ------------------------------------------------------


def tight(n):
    acc = 0
    for i in range(n):
        x = (i * 7) % 13
        acc += x * x
        if x > 6:
            acc -= 1
    return acc


def typical(n):
    counts = {}
    out = []
    for i in range(n):
        word = "w%d" % (i % 97)
        counts[word] = counts.get(word, 0) + 1
        if len(word) > 2:
            out.append(word.upper())
    return len(out) + len(counts)


def idle():
    return 0


SIZES = {"tight": 10_000_000, "typical": 3_000_000}


def child(work, variant, target, scale):
    fn = globals()[work]
    n = int(SIZES[work] * scale)
    tgt = fn if target == "hot" else idle
    lp = None
    if variant == "api":
        import pyrometer

        lp = pyrometer.LineProfiler(tgt)
    elif variant == "line_profiler":
        import line_profiler

        lp = line_profiler.LineProfiler(tgt)
    t0 = time.perf_counter()  # imports and set-up above are not timed
    if lp is None:
        fn(n)
    else:
        lp.enable_by_count()
        try:
            fn(n)
        finally:
            lp.disable_by_count()
    dt = time.perf_counter() - t0
    print("TIME %.6f" % dt)


# ---- the driver ---------------------------------------------------------------------------


def has_line_profiler():
    try:
        import line_profiler  # noqa: F401

        return True
    except ImportError:
        return False


def run_one(work, variant, target, scale, tmp):
    args = [work, variant, target, str(scale)]
    if variant == "cli":
        func = work if target == "hot" else "idle"
        cmd = [sys.executable, "-m", "pyrometer", "run", "--mode", "lines", "--target", "%s:%s" % (HERE, func),
               "-o", os.path.join(tmp, "out.pyro"), HERE, "--child"] + args
    else:
        cmd = [sys.executable, HERE, "--child"] + args
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    for line in r.stdout.decode().splitlines():
        if line.startswith("TIME "):
            return float(line.split()[1])
    raise RuntimeError("child failed: %s\n%s" % (" ".join(cmd), r.stderr.decode()[-2000:]))


def main(argv):
    if argv and argv[0] == "--child":
        child(argv[1], argv[2], argv[3], float(argv[4]))
        return 0
    rounds, scale, skip_lp = 5, 1.0, False
    i = 0
    while i < len(argv):
        if argv[i] == "--rounds":
            rounds = int(argv[i + 1])
            i += 2
        elif argv[i] == "--no-line-profiler":
            skip_lp = True
            i += 1
        elif argv[i] == "--scale":
            scale = float(argv[i + 1])
            i += 2
        else:
            raise SystemExit("usage: lines_overhead.py [--rounds N] [--scale X] [--no-line-profiler]")
    variants = ["plain", "cli", "api"]
    lp = not skip_lp and has_line_profiler()
    if lp:
        variants.append("line_profiler")
    print("python %s, %s; line_profiler: %s; %d rounds, medians"
          % (platform.python_version(), platform.machine(), "installed" if lp else ("skipped" if skip_lp else "unavailable (not installed)"),
             rounds))
    cases = [(w, t) for w in ("tight", "typical") for t in ("hot", "other")]
    times = {(w, t, v): [] for w, t in cases for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for w, t in cases:
                for v in variants:
                    if v == "plain" and t == "other":
                        continue  # one plain figure per workload
                    times[(w, t, v)].append(run_one(w, v, t, scale, tmp))
    names = {"cli": "pyrometer --mode lines", "api": "pyrometer.LineProfiler", "line_profiler": "line_profiler"}
    print("%-9s %-18s %9s  %s" % ("workload", "hot code is", "plain s", "  ".join("%22s" % names[v] for v in variants[1:])))
    for w, t in cases:
        base = statistics.median(times[(w, "hot", "plain")])
        best = min(times[(w, "hot", "plain")])
        cells = []
        for v in variants[1:]:
            cells.append("%8.2fx (best %5.2fx)" % (statistics.median(times[(w, t, v)]) / base,
                                                min(times[(w, t, v)]) / best))
        print("%-9s %-18s %9.3f  %s" % (w, "the target" if t == "hot" else "not a target", base, "  ".join(cells)))
    if not lp and not skip_lp:
        print("line_profiler: unavailable (pip install line_profiler to compare)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
