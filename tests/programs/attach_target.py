"""A program for tests/test_attach.py: three named threads, one spinning,
one sleeping, one blocked on a lock, and the main thread waiting for them.
The threads' attributes are kept three ways (untouched; a __dict__ asked
for; an attribute added through it), so a reader of their names meets each
instance layout the running version has.
It prints "ready" once they all are where they stay, then runs until killed
(or for the seconds given as argv[1], then exits on its own)."""
import sys
import threading
import time

lock = threading.Lock()
lock.acquire()
stop = threading.Event()
started = threading.Barrier(4)


def spin_forever():
    started.wait()
    total = 0
    while not stop.is_set():
        total += sum(range(1000))  # MARK: spin
    return total


def sleep_forever():
    started.wait()
    while not stop.is_set():
        time.sleep(0.05)  # MARK: sleep


def wait_for_lock():
    started.wait()
    label = "waiting"
    count = 42
    ratio = 0.5
    lock.acquire()  # MARK: blocked
    return label, count, ratio


threads = [
    threading.Thread(target=spin_forever, name="spinner", daemon=True),
    threading.Thread(target=sleep_forever, name="sleeper", daemon=True),
    threading.Thread(target=wait_for_lock, name="blocked", daemon=True),
]
vars(threads[1])
threads[2].__dict__["role"] = "waits for the lock"
for t in threads:
    t.start()
started.wait()
time.sleep(0.2)
print("ready", flush=True)
limit = float(sys.argv[1]) if len(sys.argv) > 1 else None
deadline = None if limit is None else time.monotonic() + limit
while deadline is None or time.monotonic() < deadline:
    time.sleep(0.05)  # MARK: main
stop.set()
