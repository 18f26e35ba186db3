"""Calls-mode overhead, side by side in one run: plain vs cProfile vs
pyrometer.Profile (vs yappi when installed) on recursive fib, a method-call
loop and a call-free loop.  Prints the slowdown ratios (best of 5)."""
import cProfile
import platform
import sys
import time

import pyrometer


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class P:
    def __init__(self):
        self.v = 0

    def inc(self, x):
        self.v += x
        return self.v


def methods():
    p = P()
    for i in range(150000):
        p.inc(i)


def loop():
    s = 0
    for i in range(600000):
        s += i * i
    return s


WORK = {"fib(22)": lambda: fib(22), "method loop": methods, "call-free loop": loop}


def best(fn, wrap, reps=5):
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        wrap(fn)
        out.append(time.perf_counter() - t0)
    return min(out)


def plain(fn):
    fn()


def with_cprofile(fn):
    cProfile.Profile().runcall(fn)


def with_pyrometer(fn):
    pyrometer.Profile(builtins=False).runcall(fn)


def main():
    tools = [("cProfile", with_cprofile), ("pyrometer", with_pyrometer)]
    try:
        import yappi

        def with_yappi(fn):
            yappi.clear_stats()
            yappi.start(builtins=False)
            fn()
            yappi.stop()

        tools.append(("yappi", with_yappi))
    except ImportError:
        pass
    print("python %s on %s (%s)" % (platform.python_version(), platform.machine(), platform.processor() or "?"))
    for name, fn in WORK.items():
        base = best(fn, plain)
        ratios = {t: best(fn, w) / base for t, w in tools}
        extra = ""
        if ratios["cProfile"] > 1:
            extra = "  pyrometer added overhead = %.2f of cProfile's" % (
                (ratios["pyrometer"] - 1) / (ratios["cProfile"] - 1)
            )
        print(
            "%-15s plain %.3fs  " % (name, base)
            + "  ".join("%s %.2fx" % (t, r) for t, r in ratios.items())
            + extra
        )


if __name__ == "__main__":
    sys.exit(main())
