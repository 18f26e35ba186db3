"""For tests/test_attach.py: a program whose stacks `run --dump-on`,
`--hang` and `--dump-on-fatal` print.  argv[1]: "wait" (prints ready, then
waits on a lock its worker holds for a while) or "crash" (a segfault)."""
import sys
import threading
import time

release = threading.Event()


def worker():
    release.wait(3)  # MARK: worker


def crash():
    import ctypes

    ctypes.string_at(0)  # MARK: crash


t = threading.Thread(target=worker)
t.start()
if sys.argv[1] == "crash":
    crash()  # MARK: call crash
print("ready", flush=True)
t.join()  # MARK: join
print("done")
