"""Two pure-Python threads that take turns with the GIL (each holds it
about half the time and waits for it the other half) beside a thread
blocked on an Event (it never asks for the GIL).

    gil_wait.py SECONDS"""
import sys
import threading
import time


def spin(end):
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x


def main(seconds):
    end = time.perf_counter() + seconds
    done = threading.Event()
    blocked = threading.Thread(target=done.wait, name="blocked")
    blocked.start()
    spinners = [threading.Thread(target=spin, args=(end,), name="spin-%d" % i) for i in range(2)]
    for t in spinners:
        t.start()
    for t in spinners:
        t.join()
    done.set()
    blocked.join()


main(float(sys.argv[1]))
