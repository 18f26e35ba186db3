"""For tests/test_attach.py: two threads blocked on a lock deep in a
recursion, "shallow" at 600 calls of down() and "deep" at 3000 (deeper than a
dump reads); prints "ready" once both wait, then runs until killed."""
import sys
import threading
import time

sys.setrecursionlimit(10000)
lock = threading.Lock()
lock.acquire()
waiting = threading.Barrier(3)


def block():
    waiting.wait()
    lock.acquire()  # MARK: blocked


def down(n):
    return down(n - 1) if n else block()  # MARK: down


threads = [threading.Thread(target=down, args=(n,), name=name, daemon=True)
           for name, n in (("shallow", 600), ("deep", 3000))]
for t in threads:
    t.start()
waiting.wait()
time.sleep(0.2)
print("ready", flush=True)
while True:
    time.sleep(0.05)
