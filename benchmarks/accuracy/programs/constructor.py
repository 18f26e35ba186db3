"""Call-heavy code as template engines run it: a loop that spends most of its
time in a tiny constructor called per item (region_construct), against the
same work with no call (region_inline).

    python constructor.py '{"rounds": 20, "n": {"region_construct": 400000, "region_inline": 900000}}'

The constructor's frame comes and goes every few hundred nanoseconds: a
sampler that reads the stack from outside catches it mid-change often, and
one that charges such ticks to a guess (the last stack it read whole, or the
frames that held still) moves time between the regions.
"""

from _rounds import run


class Markup:
    __slots__ = ("text", "safe")

    def __init__(self, text, safe):
        self.text = text
        self.safe = safe


def region_construct(n):
    total = 0
    for i in range(n):
        m = Markup(i, i & 1)
        total += m.safe
    return total


def region_inline(n):
    total = 0
    for i in range(n):
        text, safe = i, i & 1
        total += safe
    return total


run([(region_construct, 400000), (region_inline, 900000)])
