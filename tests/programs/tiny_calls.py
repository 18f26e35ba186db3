"""Two threads of tiny functions: a loop calls mid(), which calls two small
leaves, a few hundred nanoseconds each; the stacks change every fraction of a
microsecond.  Then the truth: the seconds that the same number of calls of
each leaf take alone, less the same loop calling an empty function (the loop
and the call are the caller's time; what runs inside each leaf is the leaf's).
The sampler's small cost falls on all of them alike.  Prints
"seconds_a seconds_b".

    tiny_calls.py SECONDS"""
import sys
import threading
import time


def leaf_a(x):
    s = x
    for i in range(12):
        s += i
    return s


def leaf_b(x):
    s = x
    for i in range(36):
        s ^= i
    return s


def empty(x):
    return x


def mid(x):
    return leaf_a(x) + leaf_b(x)


def loop(seconds):
    end = time.perf_counter() + seconds
    s = 0
    while time.perf_counter() < end:
        for i in range(2000):
            s += mid(i)
    return s


def alone(leaf, calls):
    t = time.perf_counter()
    for i in range(calls):
        leaf(i)
    return time.perf_counter() - t


def main(seconds):
    worker = threading.Thread(target=loop, args=(seconds,))
    worker.start()
    loop(seconds)
    worker.join()
    # Interleaved rounds, the fastest of each: the least disturbed by the
    # rest of the machine.
    rounds = [(alone(leaf_a, 20000), alone(leaf_b, 20000), alone(empty, 20000)) for _ in range(30)]
    best_a, best_b, best_0 = (min(r[k] for r in rounds) for k in range(3))
    print("%.6f %.6f" % (best_a - best_0, best_b - best_0))


if __name__ == "__main__":
    main(float(sys.argv[1]))
