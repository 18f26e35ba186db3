"""A periodic workload in step with a 1 kHz sampler: every 1 ms period spends
its first A µs in region_a and the rest in region_b, each spinning until a
deadline on the wall clock (30/70 by default).

    python periodic.py '{"periods": 400, "period_us": 1000, "a_us": 300}'

A sampler that wakes at a fixed phase of the same 1 ms grid would see only one
of the two regions (aliasing); one whose wake-ups drift or jitter sees both in
proportion.  The schedule is kept on absolute deadlines; a period the program
falls behind in (it was not scheduled) starts a new grid.
"""
import json
import sys
import time


def region_a(deadline):
    pc = time.perf_counter
    spins = 0
    while pc() < deadline:
        spins += 1
    return spins


def region_b(deadline):
    pc = time.perf_counter
    spins = 0
    while pc() < deadline:
        spins += 1
    return spins


def main():
    p = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    periods = p.get("periods", 400)
    period = p.get("period_us", 1000) * 1e-6
    a = p.get("a_us", 300) * 1e-6
    pc, tt = time.perf_counter, time.thread_time
    wall = {"region_a": 0.0, "region_b": 0.0}
    cpu = dict(wall)
    regrids = 0
    t = pc()
    for _ in range(periods):
        w0, c0 = pc(), tt()
        region_a(t + a)
        c1, w1 = tt(), pc()
        region_b(t + period)
        c2, w2 = tt(), pc()
        wall["region_a"] += w1 - w0
        wall["region_b"] += w2 - w1
        cpu["region_a"] += c1 - c0
        cpu["region_b"] += c2 - c1
        t += period
        if w2 > t + period:
            t = pc()
            regrids += 1
    # Spin counts vary from run to run: the checksum is the work plan.
    print("checksum %d" % periods)
    sys.stderr.write("pyroacc: %s\n" % json.dumps({"wall": wall, "cpu": cpu, "regrids": regrids}))


main()
