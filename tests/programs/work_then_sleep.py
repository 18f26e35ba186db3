"""One thread alternates: about 3 ms of CPU in work(), then 3 ms asleep in
rest().  Usage: work_then_sleep.py SECONDS"""
import sys
import time


def work(ms):
    end = time.thread_time() + ms / 1000
    n = 0
    while time.thread_time() < end:
        n += 1
    return n


def rest(ms):
    time.sleep(ms / 1000)


def main(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        work(3)
        rest(3)
    print("done")


if __name__ == "__main__":
    main(float(sys.argv[1]))
