"""A program for tests/test_attach.py: a thread started with _thread (so
threading has no Thread object for it) beside the main thread; with
argv[1] == "threading" the threading module is imported too, else not by
the program (the interpreter's start-up may have).  It prints "ready" and
whether threading is imported once the thread runs, then runs until killed."""
import _thread
import sys
import time

if sys.argv[1:] == ["threading"]:
    import threading  # noqa: F401

started = _thread.allocate_lock()
started.acquire()


def raw():
    started.release()
    while True:
        time.sleep(0.05)  # MARK: raw


_thread.start_new_thread(raw, ())
started.acquire()
print("ready", "threading" in sys.modules, flush=True)
while True:
    time.sleep(0.05)  # MARK: main
