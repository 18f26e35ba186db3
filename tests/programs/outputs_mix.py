"""A program for the output-format tests: two named threads (one with a
hostile name), deep recursion (150 frames, in both threads), and functions
with hostile names."""
import threading


def rec(n):
    if n == 0:
        s = 0
        for i in range(3000):
            s += i
        return s
    return rec(n - 1)


def spin(n):
    s = 0
    for i in range(n):
        s += i
    return s


hostile = {}
exec("def f(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n", hostile)
fn = hostile["f"]
fn.__code__ = fn.__code__.replace(co_name="we;ird \"name\"\n\u00e9", co_qualname="we;ird \"name\"\n\u00e9") \
    if hasattr(fn.__code__, "co_qualname") else fn.__code__.replace(co_name="we;ird \"name\"\n\u00e9")


def work():
    for _ in range(40):
        rec(150)
        spin(20000)
        fn(20000)


t = threading.Thread(target=work, name="w\u00f6rker;\n\"x\" ")
t.start()
work()
t.join()
