"""pyrometer.span / mark in a program: no-ops without a timeline."""
import gc
import sys

import pyrometer


def work(n):
    return sum(i * i for i in range(n))


def phase():
    with pyrometer.span("phase one"):
        work(100)
        pyrometer.mark("checkpoint")
        work(50)
    gc.collect()


@pyrometer.span("decorated span")
def decorated():
    return work(10)


phase()
decorated()
print("ok", file=sys.stdout)
