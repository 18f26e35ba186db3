"""Function-bias sweep: the same arithmetic done as one tiny function call per
step (region_calls) and written out inline (region_inline).

    python bias.py '{"rounds": 20, "n": {"region_calls": 800000, "region_inline": 1800000}}'

A profiler whose per-call cost leaks into the caller's time, or that samples
call-heavy code unevenly, over-weights region_calls.
"""

from _rounds import run

MASK = 0xFFFFF


def _step(x, i):
    return (x * 31 + i) & MASK


def region_calls(n):
    x = 1
    for i in range(n):
        x = _step(x, i)
    return x


def region_inline(n):
    x = 1
    for i in range(n):
        x = (x * 31 + i) & MASK
    return x


run([(region_calls, 800000), (region_inline, 1800000)])
