"""A recursive function (fib) called from main for a while."""
import sys
import time


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)  # MARK: recurse


def main(seconds):
    deadline = time.perf_counter() + seconds
    calls = 0
    while time.perf_counter() < deadline:
        fib(18)  # MARK: call
        calls += 1
    print("fib(18) =", fib(18))  # MARK: final


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.8)
