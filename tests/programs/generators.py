"""A generator pipeline: consume() pulls from squares(), which pulls from
numbers() and calls work() for every item inside the generator."""
import sys
import time


def numbers():
    i = 0
    while True:
        yield i
        i += 1


def work(x):
    acc = 0
    for k in range(200):
        acc = (acc * 31 + x + k) % 1000003  # MARK: work
    return acc


def squares(source):
    for x in source:
        yield work(x)  # MARK: squares


def consume(seconds):
    deadline = time.perf_counter() + seconds
    total = 0
    for value in squares(numbers()):  # MARK: consume
        total += value
        if time.perf_counter() > deadline:
            break
    return total


if __name__ == "__main__":
    consume(float(sys.argv[1]) if len(sys.argv) > 1 else 0.8)
    print("done")
