"""A pure-Python thread beside a thread that compresses with zlib, which
releases the GIL while it compresses: both use a CPU, only one of them
holds the GIL most of the time.

    gil_split.py SECONDS"""
import sys
import threading
import time
import zlib


def python_work(end):
    x = 0
    while time.perf_counter() < end:
        for i in range(1000):
            x = (x * 31 + i) & 0xFFFFF
    return x


def compress_work(end):
    data = bytes(range(256)) * 4096  # 1 MiB, compressed in C without the GIL
    n = 0
    while time.perf_counter() < end:
        n += len(zlib.compress(data, 6))
    return n


def main(seconds):
    end = time.perf_counter() + seconds
    t = threading.Thread(target=compress_work, args=(end,))
    t.start()
    python_work(end)
    t.join()


if __name__ == "__main__":
    main(float(sys.argv[1]))
