"""Function-bias sweep: the same arithmetic done as one tiny function call per
step (region_calls) and written out inline (region_inline).

    python bias.py '{"rounds": 20, "n": {"region_calls": 800000, "region_inline": 1800000}}'

A profiler whose per-call cost leaks into the caller's time, or that samples
call-heavy code unevenly, over-weights region_calls.
"""
import json
import sys
import time

MASK = 0xFFFFF


def _step(x, i):
    return (x * 31 + i) & MASK


def region_calls(n):
    x = 1
    for i in range(n):
        x = _step(x, i)
    return x


def region_inline(n):
    x = 1
    for i in range(n):
        x = (x * 31 + i) & MASK
    return x


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
    plan = [(region_calls, n.get("region_calls", 800000)), (region_inline, n.get("region_inline", 1800000))]
    wall, cpu, check = run_rounds(plan, p["rounds"])
    print("checksum %d" % check)
    sys.stderr.write("pyroacc: %s\n" % json.dumps({"wall": wall, "cpu": cpu}))


main()
