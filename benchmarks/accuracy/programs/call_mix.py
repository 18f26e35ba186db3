"""A call-heavy region (small methods, constructors, closures, a helper
chain) against a call-free one (a float and integer loop), 70/30 by default.

    python call_mix.py '{"rounds": 20, "n": {"region_call_heavy": 80000, "region_call_free": 1200000}}'
"""
import json
import sys
import time


class _Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def add(self, other):
        return _Vec(self.x + other.x, self.y + other.y)

    def dot(self, other):
        return self.x * other.x + self.y * other.y


def _scaled(k):
    def scale(v):
        return _Vec(v.x * k, v.y * k)
    return scale


def _clamp(v):
    return v % 1000003


def _mix(a, b):
    return _clamp(a * 7 + b)


def region_call_heavy(n):
    acc = 0
    half = _scaled(1)
    v = _Vec(1, 2)
    w = _Vec(3, 5)
    for i in range(n):
        u = half(v.add(w))
        acc = _mix(acc, u.dot(w) + i)
    return acc


def region_call_free(n):
    acc = 0
    f = 1.0
    for i in range(n):
        f = f * 0.999999 + 0.5
        acc = (acc * 7 + i) % 1000003
    return acc + int(f)


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
    plan = [(region_call_heavy, n.get("region_call_heavy", 80000)),
            (region_call_free, n.get("region_call_free", 1200000))]
    wall, cpu, check = run_rounds(plan, p["rounds"])
    print("checksum %d" % check)
    sys.stderr.write("pyroacc: %s\n" % json.dumps({"wall": wall, "cpu": cpu}))


main()
