"""A program for the push tests (tests/test_web.py, tests/test_otlp_profiles.py):
1.5 s of work in one function, then "done"."""
import time


def pushed_marker():
    end = time.perf_counter() + 1.5
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


pushed_marker()
print("done")
