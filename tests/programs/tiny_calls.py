"""Two threads of tiny functions: a loop calls mid(), which calls two small
leaves of one to three microseconds; the stacks change every microsecond or
so.  The truth, measured as it runs: the clock read around calls of each
leaf made in turn as mid() makes them, less the same around a call of an
empty function (the clock reads and the call are the caller's time; what
runs inside each leaf is the leaf's).  The sampler's small cost falls on all
of them alike.  Prints "seconds_a seconds_b".

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


def in_turn(first, spent):
    """Adds the nanoseconds of 105 calls of each leaf and of empty() to
    spent.  The leaves are called in turn, as mid() calls them, and with
    arguments spread as loop() spreads them, evenly over 0-1999 (a step
    prime to 2000, from an offset that turns with `first`): a leaf's cost
    depends on both (small ints are shared, larger ones made, and some
    values cost more than others; a leaf called alone, hundreds of times in
    a row, runs at another speed), by up to four points of the split.  A turn that the other thread or the system broke
    into (over 50 us where one takes a few) is left out whole, so that
    neither leaf is favoured."""
    now = time.perf_counter_ns
    for x in range(first % 19, 2000, 19):
        t0 = now()
        leaf_a(x)
        t1 = now()
        leaf_b(x)
        t2 = now()
        empty(x)
        t3 = now()
        if t3 - t0 < 50000:
            spent[0] += t1 - t0
            spent[1] += t2 - t1
            spent[2] += t3 - t2


def main(seconds):
    # The truth is measured between the main thread's rounds of work, so
    # that it sees the machine as the profiled work does.
    spent = [0, 0, 0]
    rounds = [0]

    def measure():
        in_turn(rounds[0], spent)
        rounds[0] += 1

    worker = threading.Thread(target=loop, args=(seconds,))
    worker.start()
    loop(seconds, measure)
    worker.join()
    print("%.9f %.9f" % ((spent[0] - spent[2]) / 1e9, (spent[1] - spent[2]) / 1e9))


if __name__ == "__main__":
    main(float(sys.argv[1]))
