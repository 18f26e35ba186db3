"""Generator pipelines: values flow through chains of generators (filter,
map, sliding window, batching), nested generators delegate with `yield from`
(a recursive tree walk, a flattener), and a coroutine-style generator takes
values with send().  Every value suspends and resumes several frames, so the
stack changes on every step without deep calls.

    python generators.py SIZE      # SIZE = rounds (x1000 values each)
"""
import sys
import time

DESCRIPTION = "generator pipelines, yield from delegation, send(): frames suspended and resumed"
FULL_SIZE = 2400
QUICK_SIZE = 720


def numbers(start, count):
    n = start
    for _ in range(count):
        n = (n * 1103515245 + 12345) & 0x7FFFFFFF
        yield n


def only_odd(values):
    for v in values:
        if v & 1:
            yield v


def scaled(values, factor):
    for v in values:
        yield (v * factor) % 1000003


def windows(values, width):
    window = []
    for v in values:
        window.append(v)
        if len(window) == width:
            yield sum(window)
            window.pop(0)


def walk(depth, label):
    """A complete binary tree walked by recursive delegation: each value
    passes up through `depth` suspended generators."""
    if depth == 0:
        yield label
        return
    yield from walk(depth - 1, label * 2)
    yield from walk(depth - 1, label * 2 + 1)


def flatten(nested):
    for item in nested:
        if isinstance(item, list):
            yield from flatten(item)
        else:
            yield item


def averager():
    """A coroutine: send() numbers, it yields the running mean (scaled)."""
    total = 0
    count = 0
    mean = 0
    while True:
        value = yield mean
        total += value
        count += 1
        mean = total // count


def one_round(r):
    pipeline = windows(scaled(only_odd(numbers(r, 1000)), 7), 4)
    checksum = sum(pipeline)
    checksum += sum(walk(7, r & 15))
    nested = [[i, [i + 1, [i + 2]]] for i in range(0, 60, 3)]
    checksum += sum(flatten(nested))
    avg = averager()
    next(avg)
    for v in numbers(r + 1, 200):
        last = avg.send(v & 0xFFFF)
    avg.close()
    return checksum + last


def work(size):
    checksum = 0
    for r in range(size):
        checksum = (checksum * 31 + one_round(r)) % 1000000007
    return "generators size=%d checksum=%d" % (size, checksum)


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else FULL_SIZE
    t0 = time.perf_counter()
    result = work(size)
    elapsed = time.perf_counter() - t0
    print(result)
    sys.stderr.write("pyrobench: work_s=%.6f\n" % elapsed)


if __name__ == "__main__":
    main()
