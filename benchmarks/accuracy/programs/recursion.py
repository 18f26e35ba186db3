"""Deep against shallow: the same number of calls of the same small function,
once as a 400-frame recursion (region_deep) and once one frame below the
region (region_shallow).

    python recursion.py '{"rounds": 20, "n": {"region_deep": 200, "region_shallow": 200}}'

A sampler that truncates or drops deep stacks, or tears them while copying,
loses region_deep's frame at the bottom of the stack and under-counts it.
"""
import json
import sys
import time

DEPTH = 400
K = 12


def _deep(d):
    s = 0
    for i in range(K):
        s += i
    if d:
        s += _deep(d - 1)
    return s


def _shallow():
    s = 0
    for i in range(K):
        s += i
    return s


def region_deep(n):
    t = 0
    for _ in range(n):
        t += _deep(DEPTH)
    return t


def region_shallow(n):
    t = 0
    for _ in range(n):
        for _ in range(DEPTH + 1):
            t += _shallow()
    return t


def run_rounds(plan, rounds):
    """Calls each region once per round with its share of the region's total
    count, timing each call with the wall clock and this thread's CPU clock:
    the program's own ground truth."""
    wall = {f.__name__: 0.0 for f, _ in plan}
    cpu = dict(wall)
    check = 0
    pc, tt = time.perf_counter, time.thread_time
    for k in range(rounds):
        for f, total in plan:
            arg = total // rounds + (1 if k < total % rounds else 0)
            w0, c0 = pc(), tt()
            check += f(arg)
            c1, w1 = tt(), pc()
            wall[f.__name__] += w1 - w0
            cpu[f.__name__] += c1 - c0
    return wall, cpu, check


def main():
    p = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {"rounds": 20, "n": {}}
    n = p["n"]
    plan = [(region_deep, n.get("region_deep", 200)), (region_shallow, n.get("region_shallow", 200))]
    wall, cpu, check = run_rounds(plan, p["rounds"])
    print("checksum %d" % check)
    sys.stderr.write("pyroacc: %s\n" % json.dumps({"wall": wall, "cpu": cpu}))


main()
