"""For tests/test_attach.py: a program whose stacks `run --dump-on`,
`--hang` and `--dump-on-fatal` print.  argv[1]: "wait" (prints ready, then
waits on a lock its worker holds for a while), "crash" (a segfault) or
"crash-interrupted" (a segfault 200 calls deep, with a timer signal every
50 us meanwhile, handled in Python: the report takes longer to write than
the time between two signals)."""
import signal
import sys
import threading
import time

release = threading.Event()


def worker():
    release.wait(3)  # MARK: worker


def crash():
    import ctypes

    ctypes.string_at(0)  # MARK: crash


def deep(n):
    return deep(n - 1) if n else crash()


t = threading.Thread(target=worker)
t.start()
if sys.argv[1] == "crash-interrupted":
    signal.signal(signal.SIGALRM, lambda signo, frame: None)
    signal.setitimer(signal.ITIMER_REAL, 0.00005, 0.00005)
    deep(200)
if sys.argv[1] == "crash":
    crash()  # MARK: call crash
print("ready", flush=True)
t.join()  # MARK: join
print("done")
