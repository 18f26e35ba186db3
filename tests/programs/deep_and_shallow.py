"""The same small function called as a 400-frame recursion (in deep()) and
one frame below shallow(), in turns of several milliseconds, for a while.
Prints the seconds each of the two spent, measured at their boundaries.

    deep_and_shallow.py SECONDS"""
import sys
import time

DEPTH = 400


def step(d):
    s = 0
    for i in range(12):
        s += i
    if d:
        s += step(d - 1)
    return s


def deep(n):
    for _ in range(n):
        step(DEPTH)


def shallow(n):
    for _ in range(n * (DEPTH + 1)):
        step(0)


def main(seconds):
    spent = {deep: 0.0, shallow: 0.0}
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for region in (deep, shallow):
            t = time.perf_counter()
            region(40)
            spent[region] += time.perf_counter() - t
    print("%.6f %.6f" % (spent[deep], spent[shallow]))


if __name__ == "__main__":
    main(float(sys.argv[1]))
