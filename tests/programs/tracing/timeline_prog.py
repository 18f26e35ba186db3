"""Exercises --mode timeline: an exception through many frames, generators
left unfinished, recursion, a daemon thread still running at exit, and
optionally Ctrl-C deep in a stack (argv[1] == "interrupt")."""
import os
import signal
import sys
import threading
import time


def down(n):
    if n == 0:
        raise LookupError("bottom")
    return down(n - 1)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def numbers():
    i = 0
    while True:
        yield i
        i += 1


def spin(stop):
    while not stop:
        time.sleep(0.001)


def deep_interrupt(n):
    if n == 0:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
    return deep_interrupt(n - 1)


def last_call():
    return "done"


try:
    down(30)
except LookupError:
    pass
gens = [numbers() for _ in range(3)]
firsts = [next(g) for g in gens]
print(fib(12), firsts)
threading.Thread(target=spin, args=([],), daemon=True).start()
time.sleep(0.02)
if sys.argv[1:] == ["interrupt"]:
    deep_interrupt(12)
print(last_call())
