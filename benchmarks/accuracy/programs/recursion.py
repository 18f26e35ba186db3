"""Deep against shallow: the same number of calls of the same small function,
once as a 400-frame recursion (region_deep) and once one frame below the
region (region_shallow).

    python recursion.py '{"rounds": 20, "n": {"region_deep": 200, "region_shallow": 200}}'

A sampler that truncates or drops deep stacks, or tears them while copying,
loses region_deep's frame at the bottom of the stack and under-counts it.
"""

from _rounds import run

DEPTH = 400
K = 12


def _deep(d):
    s = 0
    for i in range(K):
        s += i
    if d:
        s += _deep(d - 1)
    return s


def _shallow():
    s = 0
    for i in range(K):
        s += i
    return s


def region_deep(n):
    t = 0
    for _ in range(n):
        t += _deep(DEPTH)
    return t


def region_shallow(n):
    t = 0
    for _ in range(n):
        for _ in range(DEPTH + 1):
            t += _shallow()
    return t


run([(region_deep, 200), (region_shallow, 200)])
