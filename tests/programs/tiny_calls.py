"""Two threads of tiny functions: a loop calls mid(), which calls two small
leaves of one to three microseconds; the stacks change every microsecond or
so.  The truth, measured as it runs: the seconds that the same
number of calls of each leaf take alone, less the same loop calling an empty
function (the loop and the call are the caller's time; what runs inside each
leaf is the leaf's).  The sampler's small cost falls on all of them alike.
Prints "seconds_a seconds_b".

    tiny_calls.py SECONDS"""
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


def loop(seconds, measure=None):
    end = time.perf_counter() + seconds
    s = 0
    while time.perf_counter() < end:
        for i in range(2000):
            s += mid(i)
        if measure is not None:
            measure()
    return s


def alone(leaf, calls):
    t = time.perf_counter()
    for i in range(calls):
        leaf(i)
    return time.perf_counter() - t


def main(seconds):
    # The truth is measured between the main thread's rounds of work, so
    # that it sees the machine as the profiled work does; the fastest round
    # of each is the least disturbed (by the other thread's turns with the
    # GIL, or the rest of the machine).
    best = [float("inf")] * 3

    def measure():
        for k, leaf in enumerate((leaf_a, leaf_b, empty)):
            best[k] = min(best[k], alone(leaf, 500))

    worker = threading.Thread(target=loop, args=(seconds,))
    worker.start()
    loop(seconds, measure)
    worker.join()
    print("%.9f %.9f" % (best[0] - best[2], best[1] - best[2]))


if __name__ == "__main__":
    main(float(sys.argv[1]))
