"""The sampler's own cost with and without --async: `pyrometer run` on
many_tasks.py (N tasks, the loop thread mostly waiting), the two runs
interleaved, the sampler's CPU seconds per second of run (meta sampler_cpu_s
/ duration_s) and the program's wall time.

    python benchmarks/async/cost.py [--rounds 3] [N ...]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def one(n, seconds, use_async):
    import pyrometer

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "p.pyro")
        cmd = [sys.executable, "-m", "pyrometer", "run", "-o", out]
        if use_async:
            cmd.append("--async")
        cmd += [os.path.join(HERE, "many_tasks.py"), str(n), str(seconds)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        meta = pyrometer.load(out).meta
        return meta["sampler_cpu_s"] / meta["duration_s"], wall, meta.get("async_ticks_read", 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("n", type=int, nargs="*", default=[10, 100, 1000])
    a = ap.parse_args()
    print("python %s" % sys.version.split()[0])
    print("%6s  %22s  %22s  %8s" % ("tasks", "sampler CPU/s off / on", "program wall off / on", "ratio"))
    for n in a.n:
        off, on = [], []
        for _ in range(a.rounds):
            off.append(one(n, a.seconds, False))
            on.append(one(n, a.seconds, True))
        c0 = statistics.median(x[0] for x in off)
        c1 = statistics.median(x[0] for x in on)
        w0 = statistics.median(x[1] for x in off)
        w1 = statistics.median(x[1] for x in on)
        print("%6d  %10.4f / %-10.4f  %9.2f s / %-8.2f s  %6.2fx" % (n, c0, c1, w0, w1, c1 / c0 if c0 else 0))


if __name__ == "__main__":
    main()
