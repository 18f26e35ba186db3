"""One region made exactly twice as long: three regions (a call-heavy one, a
loop, a mix) at 30/40/30; the harness runs the calibrated program once as it
is and once with region_calls' work doubled, and checks that each profile
moves region_calls' share as the ground truth predicts
(share s becomes 2s / (1 + s)).

    python slowdown.py '{"rounds": 20, "n": {"region_calls": 600000, "region_loop": 1200000, "region_mixed": 400000}}'
"""
import json
import sys
import time

MASK = 0xFFFFF


def _inc(x, i):
    return (x + i) & MASK


def _twice(x, i):
    return _inc(_inc(x, i), i)


def _bump(x, i):
    return (x + 2 * i) & MASK


def region_calls(n):
    x = 1
    for i in range(n):
        x = _twice(x, i)
    return x


def region_loop(n):
    x = 1
    for i in range(n):
        x = (x * 31 + i) & MASK
    return x


def region_mixed(n):
    x = 1
    for i in range(n):
        x = (x * 17 + i) & MASK
        if i % 8 == 0:
            x = _bump(x, i)
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
    plan = [(region_calls, n.get("region_calls", 600000)), (region_loop, n.get("region_loop", 1200000)),
            (region_mixed, n.get("region_mixed", 400000))]
    wall, cpu, check = run_rounds(plan, p["rounds"])
    print("checksum %d" % check)
    sys.stderr.write("pyroacc: %s\n" % json.dumps({"wall": wall, "cpu": cpu}))


main()
