"""A call-heavy region (small methods, constructors, closures, a helper
chain) against a call-free one (a float and integer loop), 70/30 by default.

    python call_mix.py '{"rounds": 20, "n": {"region_call_heavy": 80000, "region_call_free": 1200000}}'
"""

from _rounds import run


class _Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def add(self, other):
        return _Vec(self.x + other.x, self.y + other.y)

    def dot(self, other):
        return self.x * other.x + self.y * other.y


def _scaled(k):
    def scale(v):
        return _Vec(v.x * k, v.y * k)
    return scale


def _clamp(v):
    return v % 1000003


def _mix(a, b):
    return _clamp(a * 7 + b)


def region_call_heavy(n):
    acc = 0
    half = _scaled(1)
    v = _Vec(1, 2)
    w = _Vec(3, 5)
    for i in range(n):
        u = half(v.add(w))
        acc = _mix(acc, u.dot(w) + i)
    return acc


def region_call_free(n):
    acc = 0
    f = 1.0
    for i in range(n):
        f = f * 0.999999 + 0.5
        acc = (acc * 7 + i) % 1000003
    return acc + int(f)


run([(region_call_heavy, 80000), (region_call_free, 1200000)])
