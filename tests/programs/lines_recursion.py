"""A recursive function whose lines take measurable time: line times must
add up to the function's own time, not count nested calls twice."""
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def rec(n):
    spin(0.002)  # MARK: rec-spin
    if n:  # MARK: rec-test
        rec(n - 1)  # MARK: rec-call
    return n  # MARK: rec-return


t0 = time.perf_counter()
rec(20)
print("outer %.6f" % (time.perf_counter() - t0))
