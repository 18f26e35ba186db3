"""Recursion far deeper than the C stack could hold if every Python call took
a C frame: in the main thread, in a thread, and a deep caller calling a small
function in a loop (so calls keep crossing the same depth); with "limit",
also recursion up to the recursion limit (twice DEPTH).  Prints results that
do not depend on timing.  Usage: deep_recursion.py DEPTH [limit]"""
import sys
import threading

depth = int(sys.argv[1])
sys.setrecursionlimit(2 * depth + 100)


def down(n):
    return 0 if n == 0 else 1 + down(n - 1)


def leaf(i):
    return i & 7


def hover(n, calls):
    if n:
        return hover(n - 1, calls)
    return sum(leaf(i) for i in range(calls))


def gen_chain(n):
    # generators resumed from deep down: each resumption is a hook call too
    if n:
        yield from gen_chain(n - 1)
    else:
        yield n


print("main", down(depth))
out = []
t = threading.Thread(target=lambda: out.append(down(depth)))
t.start()
t.join()
print("thread", out)
print("hover", hover(depth, 20000))
print("generators", list(gen_chain(min(depth, 5000))))
if sys.argv[2:] == ["limit"]:
    try:
        down(10 * depth)
    except RecursionError:
        print("limit", "RecursionError")
