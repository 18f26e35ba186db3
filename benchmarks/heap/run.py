#!/usr/bin/env python3
"""pyrometer.heap beside objgraph and Pympler on a heap of about 1 M tracked
objects (250 k records, each with a str, a 2-item list and a dict holding a
list, under one module-level dict): census, growth, retention chains, deep
size, and what the index and a snapshot keep per object.

    python benchmarks/heap/run.py [--records N] [--rounds R] [--no-pympler]

Each round runs every operation of every tool once, interleaved; the table
gives medians over the rounds of the CPU time of each call (all of them are
single-threaded: CPU time is what a shared, loaded machine distorts least)
and of its wall time, and the ratio peer/pyrometer of the CPU times.  Pympler's
asizeof of the whole structure takes seconds a call: it runs once per round
like the rest unless --no-pympler.  Targets (1 M objects): census <= 0.2 s,
growth <= 0.25 s, first why_alive <= 0.5 s with the index, later ones
<= 10 ms, deep size <= 0.3 s, index <= 40 bytes per object."""
import argparse
import gc
import inspect
import statistics
import sys
import time

import objgraph

from pyrometer import heap

try:
    from pympler import asizeof
except ImportError:  # pragma: no cover
    asizeof = None


class Rec:
    def __init__(self, i):
        self.name = "rec-%d" % i
        self.tags = [i, i + 1]
        self.meta = {"k": [i]}


REGISTRY = {}


WALL = {}


def timed(fn, *args):
    """(CPU seconds, result); the wall seconds go to WALL[fn]."""
    w0, t0 = time.perf_counter(), time.process_time()
    result = fn(*args)
    t1, w1 = time.process_time(), time.perf_counter()
    WALL.setdefault(getattr(fn, "__qualname__", str(fn)), []).append(w1 - w0)
    return t1 - t0, result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=250000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-pympler", action="store_true")
    a = ap.parse_args()
    REGISTRY["bucket"] = [Rec(i) for i in range(a.records)]
    gc.collect()
    bucket = REGISTRY["bucket"]
    target = bucket[len(bucket) // 2]
    times = {}

    def note(key, seconds):
        times.setdefault(key, []).append(seconds)

    extra = []
    for r in range(a.rounds):
        note(("census", "pyrometer"), timed(heap.census)[0])
        note(("census", "objgraph most_common_types"), timed(objgraph.most_common_types, 5)[0])

        s = heap.snapshot()
        objgraph.growth(limit=None)
        extra.append([Rec(-i) for i in range(1000)])
        note(("growth (+1000 objects)", "pyrometer"), timed(heap.growth, s)[0])
        note(("growth (+1000 objects)", "objgraph growth"), timed(objgraph.growth, None)[0])
        snap_bytes = s.nbytes / max(1, s.nobjects)
        del s

        t0 = time.process_time()
        with heap.Index() as ix:
            chain = ix.why_alive(target)
            note(("why_alive, first (with index)", "pyrometer"), time.process_time() - t0)
            later = []
            for k in range(20):
                later.append(timed(ix.why_alive, bucket[(k * 7919) % len(bucket)])[0])
            note(("why_alive, later query", "pyrometer"), statistics.median(later))
            index_bytes = ix.nbytes / ix.nobjects
            nobjects, nedges = ix.nobjects, ix.nedges
        dt, theirs = timed(objgraph.find_backref_chain, target, inspect.ismodule)
        note(("why_alive, first (with index)", "objgraph find_backref_chain"), dt)
        assert len(chain.chains[0].objects) <= len(theirs)

        dt, ours = timed(heap.deep_size, REGISTRY)
        note(("deep size of the structure", "pyrometer"), dt)
        if asizeof is not None and not a.no_pympler:
            dt, ref = timed(asizeof.asizeof, REGISTRY)
            note(("deep size of the structure", "pympler asizeof"), dt)
            assert abs(ours - ref) <= 0.02 * ref, (ours, ref)
        print("round %d done" % (r + 1), file=sys.stderr)

    print("Python %s, %d tracked objects, %d references between them" % (sys.version.split()[0], nobjects, nedges))
    print("index: %.1f bytes/object kept; snapshot address set: %.1f bytes/object" % (index_bytes, snap_bytes))
    print("%-32s %-30s %10s %8s" % ("operation", "tool", "CPU s", "ratio"))
    ops = []
    for op, tool in times:
        if op not in ops:
            ops.append(op)
    for op in ops:
        mine = statistics.median(times[(op, "pyrometer")])
        for (o, tool), values in times.items():
            if o == op:
                m = statistics.median(values)
                print("%-32s %-30s %10.4f %8s" % (op, tool, m, "1.0" if tool == "pyrometer" else "%.1fx" % (m / mine)))
    print("wall medians (s): " + ", ".join("%s %.3f" % (k, statistics.median(v)) for k, v in sorted(WALL.items())))
    print("load average: %.1f %.1f %.1f" % __import__("os").getloadavg())


if __name__ == "__main__":
    main()
