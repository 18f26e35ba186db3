import gc
import threading
import time


def leaf(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def rec(depth):
    if depth == 0:
        return leaf(20000)
    return rec(depth - 1)


def worker():
    end = time.time() + 0.6
    while time.time() < end:
        rec(3)
        time.sleep(0.002)


def main():
    t = threading.Thread(target=worker)
    t.start()
    end = time.time() + 0.6
    junk = []
    while time.time() < end:
        junk.append([[] for _ in range(2000)])
        gc.collect()
        leaf(5000)
    t.join()


main()
