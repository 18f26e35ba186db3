"""Allocation-heavy code: builds and drops many small objects, dicts, lists,
tuples and strings, some of them in reference cycles (so the cyclic garbage
collector runs too), the way record-shuffling application code does.

    python alloc_heavy.py SIZE     # SIZE = batches (x10) of 200 records
"""
import sys
import time

DESCRIPTION = "short-lived small objects, dicts, lists, strings; GC cycles"
FULL_SIZE = 150
QUICK_SIZE = 45


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Slotted:
    __slots__ = ("key", "items", "parent")

    def __init__(self, key, items, parent):
        self.key = key
        self.items = items
        self.parent = parent


class Node:
    """Parent <-> child links make cycles that only the GC frees."""

    def __init__(self, parent):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


def make_record(i, seed):
    tags = ["t%d" % ((i + k) % 17) for k in range(i % 4 + 1)]
    point = Point(i * 0.5, seed % 97)
    return {
        "id": i,
        "name": "rec-%d-%d" % (seed, i),
        "tags": tags,
        "where": point,
        "pair": (i, seed),
        "extra": {"a": i & 7, "b": [seed, i]},
    }


def batch(seed):
    records = [make_record(i, seed) for i in range(200)]
    index = {}
    for r in records:
        for t in r["tags"]:
            index.setdefault(t, []).append(r["id"])
    root = Node(None)
    slots = []
    for r in records[::4]:
        child = Node(root)
        Node(child)
        slots.append(Slotted(r["name"], list(r["tags"]), child))
    total = 0
    for r in records:
        total += r["where"].x > 10 and len(r["name"]) or r["extra"]["a"]
    joined = ",".join(sorted(index))
    return total + len(joined) + sum(len(v) for v in index.values()) + len(slots)


def work(size):
    checksum = 0
    for seed in range(size * 10):
        checksum = (checksum * 33 + batch(seed)) % 1000000007
    return "alloc_heavy size=%d checksum=%d" % (size, checksum)


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else FULL_SIZE
    t0 = time.perf_counter()
    result = work(size)
    elapsed = time.perf_counter() - t0
    print(result)
    sys.stderr.write("pyrobench: work_s=%.6f\n" % elapsed)


if __name__ == "__main__":
    main()
