#!/usr/bin/env python3
"""What a deep stack costs the sampler: a recursion DEPTH frames deep spins
at the bottom for SECONDS under `pyrometer run`; prints the samples taken of
those expected, the stacks cut at the walk's limit, torn stacks and the
sampler's CPU as a share of one core, for each run.

    python benchmarks/reliability/deep_stack.py [--depth 15000] [--seconds 4] [--runs 3]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

PROGRAM = r"""
import sys, time
depth, seconds = int(sys.argv[1]), float(sys.argv[2])
sys.setrecursionlimit(depth + 500)
def spin(t):
    x = 0
    while time.perf_counter() < t:
        x += 1
    return x
def down(n, t):
    if n == 0:
        return spin(t)
    return down(n - 1, t)
down(depth, time.perf_counter() + seconds)
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=15000)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        prog = os.path.join(tmp, "deep.py")
        with open(prog, "w") as f:
            f.write(PROGRAM)
        out = os.path.join(tmp, "deep.pyro")
        for _ in range(a.runs):
            subprocess.run([sys.executable, "-m", "pyrometer", "run", "-o", out, prog, str(a.depth), str(a.seconds)],
                           check=True, stderr=subprocess.DEVNULL)
            import pyrometer

            m = pyrometer.load(out).meta
            print(json.dumps({
                "python": "%d.%d" % sys.version_info[:2], "depth": a.depth,
                "taken": "%d/%d" % (m["samples_taken"], m["samples_expected"]),
                "cut": int(m.get("samples_truncated", 0)), "torn": int(m["samples_torn"]),
                "sampler_core_pct": round(100 * m["sampler_cpu_s"] / m["duration_s"], 1),
            }))


if __name__ == "__main__":
    main()
