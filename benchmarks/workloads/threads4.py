"""Four CPU-bound Python threads at once (they share the GIL, so the
interpreter switches between them every few milliseconds): each runs a mix of
small function calls, dict updates and integer arithmetic on its own data.
Profilers must sample (or trace) all four threads.

    python threads4.py SIZE        # SIZE = work units (x1000) per thread
"""
import sys
import threading
import time

DESCRIPTION = "4 CPU-bound threads contending for the GIL"
FULL_SIZE = 580
QUICK_SIZE = 175
THREADS = 4


def mix(a, b):
    return (a * 2654435761 + b) & 0xFFFFFFFF


def bucket(counts, key):
    counts[key] = counts.get(key, 0) + 1


def unit(state, counts, i):
    state = mix(state, i)
    bucket(counts, state & 63)
    if state & 1:
        state = mix(state, state >> 7)
    return state


def worker(index, size, out):
    state = index + 1
    counts = {}
    for i in range(size * 1000):
        state = unit(state, counts, i)
    out[index] = (state, sorted(counts.items())[:4])


def work(size):
    out = [None] * THREADS
    threads = [threading.Thread(target=worker, args=(i, size, out), name="worker-%d" % i) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return "threads4 size=%d results=%s" % (size, out)


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else FULL_SIZE
    t0 = time.perf_counter()
    result = work(size)
    elapsed = time.perf_counter() - t0
    print(result)
    sys.stderr.write("pyrobench: work_s=%.6f\n" % elapsed)


if __name__ == "__main__":
    main()
