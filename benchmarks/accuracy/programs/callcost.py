"""Not a scenario: measures what a deterministic profiler adds per Python
call.  region_calls makes N calls of an empty function; the harness compares
its inclusive time in a profile with its time in plain runs.

    python callcost.py '{"rounds": 5, "n": {"region_calls": 300000}}'
"""

from _rounds import run


def _empty(i):
    return 0


def region_calls(n):
    x = 0
    for i in range(n):
        x += _empty(i)
    return x


run([(region_calls, 300000)], rounds=5)
