"""Prints "ready", then works (in busy_wait) until a signal ends it or 60 s pass.
With argv[1] == "handler" it installs its own SIGTERM handler that exits 7."""
import atexit
import signal
import sys
import time


def busy_wait(seconds):
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        if n % 10000 == 0:
            time.sleep(0.001)
    return n


if len(sys.argv) > 1 and sys.argv[1] == "handler":
    def on_term(signum, frame):
        print("own handler ran")
        sys.exit(7)

    signal.signal(signal.SIGTERM, on_term)

atexit.register(lambda: print("atexit handler ran"))
print("ready", flush=True)
busy_wait(60)
print("not interrupted")
