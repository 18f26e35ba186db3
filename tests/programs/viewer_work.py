"""A small program for the viewer tests: two threads, a few hot functions."""
import threading
import time


def leaf_hot(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def middle(n):
    return leaf_hot(n) + leaf_hot(n // 2)


def sleeper():
    time.sleep(0.15)


def worker():
    end = time.time() + 0.3
    while time.time() < end:
        middle(20000)
    sleeper()


def main():
    t = threading.Thread(target=worker, name="worker-thread")
    t.start()
    end = time.time() + 0.3
    while time.time() < end:
        middle(30000)
    t.join()


if __name__ == "__main__":
    main()
