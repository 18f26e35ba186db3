"""Work split across threads: three threads, each running its own pure-Python
region (no calls inside) and sharing the GIL.  They go in rounds, meeting at a
barrier before each (outside the regions), so the same three threads contend
in every round.  The CPU time is split 50/30/20 by default; the wall time each
thread spends in its region (running or waiting for the GIL) follows from it:
a lighter thread's region ends earlier in the round, so the wall split is
flatter than the CPU split.

    python threads.py '{"rounds": 20, "n": {"region_t1": 600000, "region_t2": 360000, "region_t3": 240000}}'

Each thread times its own region with the wall clock and its own CPU clock.
"""
import json
import sys
import threading
import time


def region_t1(n):
    acc = 0
    for i in range(n):
        acc = (acc * 7 + i) % 1000003
    return acc


def region_t2(n):
    acc = 0
    for i in range(n):
        acc = (acc * 11 + i) % 1000033
    return acc


def region_t3(n):
    acc = 0
    for i in range(n):
        acc = (acc * 13 + i) % 1000037
    return acc


def _worker(fn, n, rounds, start, out):
    pc, tt = time.perf_counter, time.thread_time
    wall = cpu = 0.0
    check = 0
    for k in range(rounds):
        arg = n // rounds + (1 if k < n % rounds else 0)
        start.wait()
        w0, c0 = pc(), tt()
        check += fn(arg)
        c1, w1 = tt(), pc()
        wall += w1 - w0
        cpu += c1 - c0
    out[fn.__name__] = (wall, cpu, check)


def main():
    p = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {"rounds": 20, "n": {}}
    n = p["n"]
    fns = [(region_t1, 600000), (region_t2, 360000), (region_t3, 240000)]
    start = threading.Barrier(len(fns))
    out = {}
    threads = [threading.Thread(target=_worker, args=(f, n.get(f.__name__, d), p["rounds"], start, out),
                                name=f.__name__[len("region_"):]) for f, d in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("checksum %d" % sum(v[2] for v in out.values()))
    sys.stderr.write("pyroacc: %s\n" % json.dumps({"wall": {k: v[0] for k, v in out.items()},
                                                   "cpu": {k: v[1] for k, v in out.items()}}))


main()
