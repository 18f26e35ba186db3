"""The sampler's own cost with and without --async: `pyrometer run` on
many_tasks.py (N tasks, the loop thread mostly waiting, or busy with --burn), the two runs
interleaved, the sampler's CPU seconds per second of run (meta sampler_cpu_s
/ duration_s) and the program's throughput (its tasks' wake-ups per second;
the ratio on / off in parentheses).

    python benchmarks/async/cost.py [--rounds 3] [--burn MS] [N ...]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def one(n, seconds, use_async, burn_ms):
    import pyrometer

    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "p.pyro")
        cmd = [sys.executable, "-m", "pyrometer", "run", "-o", out]
        if use_async:
            cmd.append("--async")
        cmd += [os.path.join(HERE, "many_tasks.py"), str(n), str(seconds), str(burn_ms)]
        proc = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        meta = pyrometer.load(out).meta
        return meta["sampler_cpu_s"] / meta["duration_s"], int(proc.stdout.split()[-1]) / seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--burn", type=float, default=0.0, help="ms of CPU per wake-up (a busy loop)")
    ap.add_argument("n", type=int, nargs="*", default=[10, 100, 1000])
    a = ap.parse_args()
    print("python %s, %.2f ms of CPU per wake-up" % (sys.version.split()[0], a.burn))
    print("%6s  %22s  %8s  %24s" % ("tasks", "sampler CPU/s off / on", "ratio", "program wake-ups/s off / on"))
    for n in a.n:
        off, on = [], []
        for _ in range(a.rounds):
            off.append(one(n, a.seconds, False, a.burn))
            on.append(one(n, a.seconds, True, a.burn))
        c0 = statistics.median(x[0] for x in off)
        c1 = statistics.median(x[0] for x in on)
        w0 = statistics.median(x[1] for x in off)
        w1 = statistics.median(x[1] for x in on)
        print("%6d  %10.4f / %-10.4f  %6.2fx  %10.0f / %-10.0f (%.3f)" % (n, c0, c1, c1 / c0 if c0 else 0, w0, w1, w1 / w0))


if __name__ == "__main__":
    main()
