"""A 1,000-frame deep stack: deep() recurses 1,000 times, then spin() runs
at the bottom for a while."""
import sys
import time

DEPTH = 1000


def spin(seconds):
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline:  # MARK: spin
        n += 1
    return n


def deep(n, seconds):
    if n == 0:
        return spin(seconds)  # MARK: bottom
    return deep(n - 1, seconds)  # MARK: deep


if __name__ == "__main__":
    sys.setrecursionlimit(DEPTH + 500)
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.8
    deep(DEPTH - 1, seconds)  # deep() appears DEPTH times on the stack
    print("done")
