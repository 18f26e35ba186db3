"""A hot loop on one known line."""
import sys
import time


def hot(n):
    acc = 0
    for i in range(n): acc = (acc * 31 + i) % 1000003  # MARK: hot
    return acc


def main(seconds):
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        hot(20000)
    print("done")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.8)
