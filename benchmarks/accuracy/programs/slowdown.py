"""One region made exactly twice as long: three regions (a call-heavy one, a
loop, a mix) at 30/40/30; the harness runs the calibrated program once as it
is and once with region_calls' work doubled, and checks that each profile
moves region_calls' share as the ground truth predicts
(share s becomes 2s / (1 + s)).

    python slowdown.py '{"rounds": 20, "n": {"region_calls": 600000, "region_loop": 1200000, "region_mixed": 400000}}'
"""

from _rounds import run

MASK = 0xFFFFF


def _inc(x, i):
    return (x + i) & MASK


def _twice(x, i):
    return _inc(_inc(x, i), i)


def _bump(x, i):
    return (x + 2 * i) & MASK


def region_calls(n):
    x = 1
    for i in range(n):
        x = _twice(x, i)
    return x


def region_loop(n):
    x = 1
    for i in range(n):
        x = (x * 31 + i) & MASK
    return x


def region_mixed(n):
    x = 1
    for i in range(n):
        x = (x * 17 + i) & MASK
        if i % 8 == 0:
            x = _bump(x, i)
    return x


run([(region_calls, 600000), (region_loop, 1200000), (region_mixed, 400000)])
