#!/usr/bin/env python3
"""What `pyrometer heap -o` costs beside the terminal report alone: a program
that builds about 300 k tracked objects over CHECKPOINTS checkpoints (one
class tracked, one --why chain) run as plain python, as `pyrometer heap`,
and as `pyrometer heap -o x.pyro` and `-o x.html`, interleaved round after
round; medians of wall time, ratios to the terminal report, file sizes.

    python benchmarks/heap/report_cost.py [--rounds R] [--records N] [--checkpoints C]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROGRAM = """\
import sys
import pyrometer.heap as heap

class Rec:
    def __init__(self, i):
        self.name = "rec-%d" % i
        self.tags = [i, i + 1]

KEEP = []
n, c = int(sys.argv[1]), int(sys.argv[2])
heap.track_class(Rec)  # under plain python too: the same work, no report
for k in range(c):
    KEEP.extend(Rec(i) for i in range(n // c))
    heap.checkpoint("step %d" % k)
print(len(KEEP))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--records", type=int, default=100000)
    ap.add_argument("--checkpoints", type=int, default=4)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="heap-report-")
    prog = os.path.join(tmp, "prog.py")
    with open(prog, "w") as f:
        f.write(PROGRAM)
    args = [prog, str(a.records), str(a.checkpoints)]
    heap = [sys.executable, "-m", "pyrometer", "heap", "--track", "Rec", "--why", "Rec"]
    variants = {
        "python": [sys.executable] + args,
        "heap (terminal)": heap + args,
        "heap -o .pyro": heap + ["-o", os.path.join(tmp, "h.pyro")] + args,
        "heap -o .html": heap + ["-o", os.path.join(tmp, "h.html")] + args,
    }
    times = {k: [] for k in variants}
    names = list(variants)
    for r in range(a.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:  # each round starts elsewhere
            cmd = variants[name]
            t0 = time.perf_counter()
            res = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t0)
            if res.returncode != 0:
                sys.exit("%s failed (%d)" % (name, res.returncode))
    base = statistics.median(times["heap (terminal)"])
    print("%d records, %d checkpoints, %d rounds (median wall s, ratio to the terminal report)"
          % (a.records, a.checkpoints, a.rounds))
    for name, ts in times.items():
        m = statistics.median(ts)
        print("  %-18s %7.3f s  %5.2fx" % (name, m, m / base))
    for f in ("h.pyro", "h.html"):
        print("  %-18s %7.1f KiB" % (f, os.path.getsize(os.path.join(tmp, f)) / 1024))


if __name__ == "__main__":
    main()
