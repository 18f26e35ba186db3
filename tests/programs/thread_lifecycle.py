"""Threads that start and end while the profiler samples: two at a time,
each running its own function, while the main thread runs main_work()."""
import threading
import time


def spin(seconds):
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline:
        n += 1
    return n


def task_alpha():
    spin(0.25)


def task_beta():
    spin(0.25)


def task_gamma():
    spin(0.25)


def task_delta():
    spin(0.25)


def main_work(seconds):
    spin(seconds)


def main():
    spin(0.05)
    for pair in ((task_alpha, task_beta), (task_gamma, task_delta)):
        threads = [
            threading.Thread(target=fn, name=fn.__name__.replace("task_", "") + "-thread") for fn in pair
        ]
        for t in threads:
            t.start()
        main_work(0.1)
        for t in threads:
            t.join()
    main_work(0.1)
    print("done")


if __name__ == "__main__":
    main()
