"""Time in C code: a pure-Python loop, SHA-256 of a 256 KiB buffer (hashlib
releases the GIL while it hashes) and sorting a 20,000-float list (C code
that holds the GIL), a third each by default.

    python c_code.py '{"rounds": 20, "n": {"region_python": 400000, "region_c_nogil": 200, "region_c_gil": 100}}'
"""
import hashlib
import json
import sys
import time

_BUF = bytes(range(256)) * 1024
_DATA = [((i * 7919) % 10007) / 7.0 for i in range(20000)]


def region_python(n):
    acc = 0
    for i in range(n):
        acc = (acc * 7 + i) % 1000003
    return acc


def region_c_nogil(n):
    acc = 0
    for _ in range(n):
        acc += hashlib.sha256(_BUF).digest()[0]
    return acc


def region_c_gil(n):
    acc = 0
    for _ in range(n):
        acc += int(sorted(_DATA)[0])
    return acc


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
    plan = [(region_python, n.get("region_python", 400000)), (region_c_nogil, n.get("region_c_nogil", 200)),
            (region_c_gil, n.get("region_c_gil", 100))]
    wall, cpu, check = run_rounds(plan, p["rounds"])
    print("checksum %d" % check)
    sys.stderr.write("pyroacc: %s\n" % json.dumps({"wall": wall, "cpu": cpu}))


main()
