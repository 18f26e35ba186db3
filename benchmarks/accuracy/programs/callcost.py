"""Not a scenario: measures what a deterministic profiler adds per Python
call.  region_calls makes N calls of an empty function; the harness compares
its inclusive time in a profile with its time in plain runs.

    python callcost.py '{"rounds": 5, "n": {"region_calls": 300000}}'
"""
import json
import sys
import time


def _empty(i):
    return 0


def region_calls(n):
    x = 0
    for i in range(n):
        x += _empty(i)
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
    p = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {"rounds": 5, "n": {}}
    plan = [(region_calls, p["n"].get("region_calls", 300000))]
    wall, cpu, check = run_rounds(plan, p["rounds"])
    print("checksum %d" % check)
    sys.stderr.write("pyroacc: %s\n" % json.dumps({"wall": wall, "cpu": cpu}))


main()
