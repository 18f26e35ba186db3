"""Recursion DEPTH deep (default 15,000) with work at the bottom."""
import sys
import time

depth = int(sys.argv[1]) if len(sys.argv) > 1 else 15000
sys.setrecursionlimit(depth + 200)


def down(n):
    if n == 0:
        end = time.perf_counter() + 0.05
        while time.perf_counter() < end:
            pass
        return 0
    return 1 + down(n - 1)


print(down(depth))
