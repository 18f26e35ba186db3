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
Targets: <= 2x on the target; <= 1.02x when the hot code is not a target
(3.12+).
Usage: python lines_overhead.py [--rounds N] [--scale X] [--no-line-profiler] [--json PATH]
"""
import json
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

VARIANTS = {"cli": "pyrometer --mode lines", "api": "pyrometer.LineProfiler", "line_profiler": "line_profiler"}
CASES = [(w, t) for w in ("tight", "typical") for t in ("hot", "other")]


def has_line_profiler(python):
    return subprocess.run([python, "-c", "import line_profiler"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def run_one(python, work, variant, target, scale, tmp):
    args = [work, variant, target, str(scale)]
    if variant == "cli":
        func = work if target == "hot" else "idle"
        cmd = [python, "-m", "pyrometer", "run", "--mode", "lines", "--target", "%s:%s" % (HERE, func),
               "-o", os.path.join(tmp, "out.pyro"), HERE, "--child"] + args
    else:
        cmd = [python, HERE, "--child"] + args
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    for line in r.stdout.decode().splitlines():
        if line.startswith("TIME "):
            return float(line.split()[1])
    raise RuntimeError("child failed: %s\n%s" % (" ".join(cmd), r.stderr.decode()[-2000:]))


def measure(python=sys.executable, rounds=5, scale=1.0, line_profiler=True, log=lambda *a: None):
    """Every case under every variant in `python`, interleaved; a ratio is
    the median of per-round ratios to the same round's plain run."""
    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    variants = ["cli", "api"]
    lp = "skipped"
    if line_profiler:
        lp = "installed" if has_line_profiler(python) else "unavailable (not installed)"
        if lp == "installed":
            variants.append("line_profiler")
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for w, t in CASES:
                if t == "hot":  # one plain run per workload and round
                    times.setdefault((w, "plain"), []).append(run_one(python, w, "plain", "hot", scale, tmp))
                for v in variants:
                    times.setdefault((w, t, v), []).append(run_one(python, w, v, t, scale, tmp))
    rows = []
    for w, t in CASES:
        plain = times[(w, "plain")]
        row = {"workload": w, "hot_is_target": t == "hot", "plain_s": statistics.median(plain), "ratios": {}}
        for v in variants:
            row["ratios"][v] = statistics.median(x / p for x, p in zip(times[(w, t, v)], plain))
        rows.append(row)
        log("  %s %s %s" % (w, t, " ".join("%s %.2fx" % kv for kv in row["ratios"].items())))
    return {"python": version, "machine": platform.machine(), "rounds": rounds, "scale": scale,
            "line_profiler": lp, "rows": rows}


def markdown(results):
    """One table for a list of measure() results (one per Python)."""
    out = ["| python | workload | hot code is | plain s | %s | target |" % " | ".join(VARIANTS.values()),
           "|---|---|---|---:|" + "---:|" * len(VARIANTS) + "---|"]
    for res in results:
        for row in res["rows"]:
            cells = ["%.2fx" % row["ratios"][v] if v in row["ratios"] else "n/a" for v in VARIANTS]
            cli = row["ratios"]["cli"]
            if row["hot_is_target"]:
                verdict = "<= 2x: %s" % ("MET" if cli <= 2.0 else "**MISSED** (%.2fx)" % cli)
            elif tuple(int(x) for x in res["python"].split(".")[:2]) >= (3, 12):
                verdict = "<= 1.02x: %s" % ("MET" if cli <= 1.02 else "**MISSED** (%.2fx)" % cli)
            else:
                verdict = "(no target before 3.12)"
            out.append("| %s | %s | %s | %.3f | %s | %s |" % (
                res["python"], row["workload"], "the target" if row["hot_is_target"] else "not a target",
                row["plain_s"], " | ".join(cells), verdict))
    return "\n".join(out) + "\n"


def main(argv):
    if argv and argv[0] == "--child":
        child(argv[1], argv[2], argv[3], float(argv[4]))
        return 0
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--no-line-profiler", action="store_true")
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    res = measure(sys.executable, a.rounds, a.scale, not a.no_line_profiler, log=lambda m: print(m, file=sys.stderr))
    print("python %s, %s; line_profiler: %s; %d rounds, medians of per-round ratios"
          % (res["python"], res["machine"], res["line_profiler"], a.rounds))
    sys.stdout.write(markdown([res]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
