"""Two threads of tiny functions: a loop calls mid(), which calls two small
leaves of one to three microseconds; the stacks change every microsecond or
so.  The truth, measured before and after, on the main thread alone: rounds of the
same loop whose mid() calls one leaf and an empty function in the other's
place, and one that calls two empty functions, in turn; a leaf's time is
the median round with it less the median round with neither.  So each leaf
is timed in the calling pattern and with the arguments of the profiled
loop, and the clock is read around whole rounds, never around one call (a
clock read around each call, taken while a second thread shared the
interpreter, gave leaf_a 3-5 points more than a hardware sampler, perf,
found on 3.15).  The sampler's small cost falls on all of them alike.
Prints "seconds_a seconds_b": each leaf's time in one round.

    tiny_calls.py SECONDS"""
import statistics
import sys
import threading
import time


def leaf_a(x):
    s = x
    for i in range(24):
        s += i
    return s


def leaf_b(x):
    s = x
    for i in range(72):
        s ^= i
    return s


def empty(x):
    return x


def mid(x):
    return leaf_a(x) + leaf_b(x)


def mid_without_b(x):
    return leaf_a(x) + empty(x)


def mid_without_a(x):
    return empty(x) + leaf_b(x)


def mid_without_both(x):
    return empty(x) + empty(x)


def loop(seconds):
    end = time.perf_counter() + seconds
    s = 0
    while time.perf_counter() < end:
        for i in range(2000):
            s += mid(i)
    return s


def round_ns(caller):
    t0 = time.perf_counter_ns()
    for i in range(2000):
        caller(i)
    return time.perf_counter_ns() - t0


def truth(seconds):
    """(ns of leaf_a, ns of leaf_b) in one round of 2000 calls: medians over
    rounds of the three variants in turn, so that none is favoured by
    what else the machine does meanwhile."""
    variants = (mid_without_b, mid_without_a, mid_without_both)
    times = {v: [] for v in variants}
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for v in variants:
            times[v].append(round_ns(v))
    med = {v: statistics.median(t) for v, t in times.items()}
    return med[mid_without_b] - med[mid_without_both], med[mid_without_a] - med[mid_without_both]


def main(seconds):
    # Timed alone, never while the second thread runs (it would stop rounds
    # midway), and both before and after the profiled loop: this machine's
    # speed for one leaf against the other drifts by a point or two from
    # one second to the next, which the mean of two seconds apart evens out
    # in part.
    a0, b0 = truth(0.4)
    worker = threading.Thread(target=loop, args=(seconds,))
    worker.start()
    loop(seconds)
    worker.join()
    a1, b1 = truth(0.4)
    print("%.9f %.9f" % ((a0 + a1) / 2e9, (b0 + b1) / 2e9))


if __name__ == "__main__":
    main(float(sys.argv[1]))
