"""A program for tests/test_attach.py: threads named beyond ASCII (one,
two and four bytes a character in CPython's str) and one name longer than
a dump keeps.  It prints "ready" once they run, then runs until killed."""
import threading
import time

NAMES = ["wörker", "工作者", "emoji😀", "x" * 300]


def idle():
    while True:
        time.sleep(0.05)  # MARK: idle


for name in NAMES:
    threading.Thread(target=idle, name=name, daemon=True).start()
print("ready", flush=True)
while True:
    time.sleep(0.05)  # MARK: main
