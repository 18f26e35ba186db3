"""Stress: keeps 50 threads alive for argv[1] seconds, each short-lived (a bit
of work, then it ends and is replaced).  The output does not depend on the
duration or the number of threads started, so a profiled run must print
exactly what a plain run prints.  The count of threads goes to stderr."""
import sys
import threading
import time

CONCURRENT = 50
results = []
lock = threading.Lock()


def work(i):
    acc = 0
    for k in range(2000):
        acc = (acc * 31 + k + i) % 1000003
    expected = 0
    for k in range(2000):
        expected = (expected * 31 + k + i) % 1000003
    with lock:
        results.append(acc == expected)


def main(seconds):
    deadline = time.monotonic() + seconds
    running = []
    started = 0
    while time.monotonic() < deadline:
        running = [t for t in running if t.is_alive()]
        while len(running) < CONCURRENT:
            t = threading.Thread(target=work, args=(started,), name="stress-%d" % started)
            t.start()
            running.append(t)
            started += 1
        time.sleep(0.0005)
    for t in running:
        t.join()
    print("threads concurrent:", CONCURRENT)
    print("all results correct:", all(results) and len(results) == started)
    print("more threads than slots:", started > CONCURRENT)
    print("started", started, "threads", file=sys.stderr)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)
