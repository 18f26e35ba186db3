"""What the scenario programs share: their regions run in rounds, each call
timed with the wall clock and the thread's CPU clock (the program's own
ground truth), and the report the harness reads.

    run([(region_function, default total count), ...])

reads the parameters from argv[1] (JSON: {"rounds": R, "n": {region name:
total count}}), prints a checksum on stdout and the per-region times on
stderr as `pyroacc: {"wall": {...}, "cpu": {...}}`.
"""
import json
import sys
import time


def run_rounds(plan, rounds):
    """Calls each region once per round with its share of the region's total
    count, timing each call."""
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


def run(regions, rounds=20):
    p = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    n = p.get("n", {})
    plan = [(f, n.get(f.__name__, default)) for f, default in regions]
    wall, cpu, check = run_rounds(plan, p.get("rounds", rounds))
    print("checksum %d" % check)
    sys.stderr.write("pyroacc: %s\n" % json.dumps({"wall": wall, "cpu": cpu}))
