"""Exceptions raised through several frames and caught, over and over."""
import sys
import time


class Boom(Exception):
    pass


def compute(n):
    acc = 0
    for k in range(n):
        acc = (acc * 31 + k) % 1000003
    return acc


def level3(i):
    compute(300)
    raise Boom(i)  # MARK: raise


def level2(i):
    return level3(i)  # MARK: level2


def level1(i):
    try:
        return level2(i)  # MARK: level1
    except Boom:
        return handle(i)


def handle(i):
    return compute(200)


def main(seconds):
    deadline = time.perf_counter() + seconds
    caught = 0
    i = 0
    while time.perf_counter() < deadline:
        level1(i)
        i += 1
        caught += 1
    print("caught", "many" if caught > 10 else caught)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.8)
