"""Calls mode and pyrometer.Profile (the cProfile drop-in): exact counts on
known programs, identical stats to cProfile with a deterministic timer."""
import asyncio
import cProfile
import itertools
import marshal
import os
import pstats
import sys

import pytest

import pyrometer
from pyrometer import _calls, _native

from conftest import program, run_pyrometer


# ---- programs run in-process -------------------------------------------------

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def even(n):
    return True if n == 0 else odd(n - 1)


def odd(n):
    return False if n == 0 else even(n - 1)


def gen(n):
    for i in range(n):
        yield i


def use_gen():
    return sum(x for x in gen(5)) + len([1, 2]) + sum(list(gen(3)))


def boom(n):
    if n == 0:
        raise ValueError
    boom(n - 1)


def exc():
    try:
        boom(3)
    except ValueError:
        pass


class K:
    def m(self, x):
        return x + 1


def meth():
    k = K()
    s = 0
    for _ in range(10):
        s = k.m(s)
    return s


async def leaf(i):
    await asyncio.sleep(0)
    return i


async def co():
    return sum([await leaf(i) for i in range(3)])


def coro():
    asyncio.run(co())


def everything():
    fib(10)
    even(6)
    use_gen()
    exc()
    meth()


def _norm(stats):
    """Drops the profiler's own enable/disable entries (their labels name
    each profiler's own class) and rounds float noise away."""
    out = {}
    for k, (cc, nc, tt, ct, callers) in stats.items():
        if "disable" in k[2] or "enable" in k[2]:
            continue
        cl = {c: tuple(round(x, 9) for x in v) for c, v in callers.items() if "enable" not in c[2]}
        out[k] = (cc, nc, round(tt, 9), round(ct, 9), cl)
    return out


@pytest.mark.parametrize("func", [everything, coro, meth, use_gen, exc])
@pytest.mark.parametrize("builtins", [False, True])
def test_identical_to_cprofile_with_fake_timer(func, builtins):
    if func is coro:
        coro()  # asyncio's one-time set-up must not differ between the runs
    for timeunit in (1e-6, 0.0):
        a = cProfile.Profile(itertools.count().__next__, timeunit, builtins=builtins)
        a.runcall(func)
        a.create_stats()
        b = pyrometer.Profile(itertools.count().__next__, timeunit, builtins=builtins)
        b.runcall(func)
        b.create_stats()
        assert _norm(a.stats) == _norm(b.stats)
        assert _norm(a.stats)  # not vacuous


@pytest.mark.skipif(sys.version_info < (3, 14), reason="before 3.14, enable() keeps the constructor's flags")
@pytest.mark.parametrize("flags", [{}, {"builtins": False}, {"subcalls": False}, {"builtins": False, "subcalls": False}])
def test_enable_sets_the_flags_as_cprofile_does(flags):
    """From 3.14 on cProfile's enable(subcalls=True, builtins=True) applies
    both flags on every call, over the constructor's; the drop-in too."""
    a = cProfile.Profile(itertools.count().__next__, 1e-6, subcalls=False, builtins=False)
    a.enable(**flags)
    use_gen()
    a.disable()
    a.create_stats()
    b = pyrometer.Profile(itertools.count().__next__, 1e-6, subcalls=False, builtins=False)
    b.enable(**flags)
    use_gen()
    b.disable()
    b.create_stats()
    assert _norm(a.stats) == _norm(b.stats)
    builtins_timed = any(k[0] == "~" for k in _norm(b.stats))
    assert builtins_timed == flags.get("builtins", True)
    callers_kept = any(v[4] for v in _norm(b.stats).values())
    assert callers_kept == flags.get("subcalls", True)


def _by_name(stats):
    return {k[2]: v for k, v in stats.items()}


def _counts(stats):
    """Calls, primitive calls and per-caller counts: what a profiler with its
    own clock must still share with cProfile."""
    return {k: (cc, nc, {c: v[:2] for c, v in callers.items() if "enable" not in c[2]})
            for k, (cc, nc, tt, ct, callers) in _norm(stats).items()}


@pytest.mark.parametrize("func", [everything, coro, meth, use_gen, exc])
def test_own_clock_same_events_as_cprofile(func):
    """With its own clock and Python functions only, pyrometer takes its
    cheapest hook (3.9-3.11: the frame-evaluation hook; 3.12+:
    sys.monitoring); the events it sees must be cProfile's."""
    if func is coro:
        coro()
    a = cProfile.Profile(builtins=False)
    a.runcall(func)
    a.create_stats()
    b = pyrometer.Profile(builtins=False)
    b.runcall(func)
    b.create_stats()
    assert b._tracer.hook == ("monitoring" if sys.version_info >= (3, 12) else "eval")
    assert _counts(a.stats) == _counts(b.stats)
    assert _counts(a.stats)


def test_hook_choice_and_second_session():
    """A timer or builtins need the profile hook before 3.12; a second session
    while the first holds the frame-evaluation hook falls back to it too, and
    both count exactly."""
    if sys.version_info >= (3, 12):
        pytest.skip("one hook (sys.monitoring) on 3.12+")
    assert _hook_of(pyrometer.Profile(builtins=True)) == "profile"
    assert _hook_of(pyrometer.Profile(time_counter(), builtins=False)) == "profile"
    outer, inner = pyrometer.Profile(builtins=False), pyrometer.Profile(builtins=False)
    outer.enable()
    inner.enable()
    fib(6)
    inner.disable()
    fib(5)
    outer.disable()
    assert (outer._tracer.hook, inner._tracer.hook) == ("eval", "profile")
    outer.create_stats()
    inner.create_stats()
    assert _by_name(inner.stats)["fib"][:2] == (1, 25)
    assert _by_name(outer.stats)["fib"][:2] == (2, 25 + 15)


def test_disable_inside_a_call_then_enable_again():
    """Frames entered under one session and ending under the next must not
    pop the new session's calls: the counts stay cProfile's."""
    def run(prof):
        def inner():
            prof.disable()
            prof.enable()
            fib(4)

        def outer():
            inner()
            return fib(3)

        prof.enable()
        outer()
        prof.disable()
        prof.create_stats()
        return prof.stats

    a, b = run(cProfile.Profile(builtins=False)), run(pyrometer.Profile(builtins=False))
    assert _counts(a) == _counts(b)
    assert _by_name(b)["fib"][:2] == (2, 9 + 5)


def time_counter():
    return itertools.count().__next__


def _hook_of(prof):
    prof.enable()
    prof.disable()
    return prof._tracer.hook


def test_exact_counts_in_process():
    p = pyrometer.Profile(builtins=False)
    p.runcall(everything)
    p.create_stats()
    s = _by_name(p.stats)
    assert s["fib"][:2] == (1, 177)
    assert s["even"][:2] == (1, 4) and s["odd"][:2] == (1, 3)
    assert s["boom"][:2] == (1, 4)
    # callers: (nc, cc, tt, ct); odd is called by even 3 times, 1 primitive
    (caller,) = s["odd"][4]
    assert caller[2] == "even" and s["odd"][4][caller][:2] == (3, 1)
    # generators: every resumption is a call, never recursion
    assert s["gen"][:2] == (6 + 4, 6 + 4)
    assert s["m"][:2] == (10, 10)


def test_getstats_shape():
    p = pyrometer.Profile()
    p.runcall(fib, 5)
    entries = {e.code.co_name: e for e in p.getstats() if not isinstance(e.code, str)}
    assert entries["fib"].callcount == 15 and entries["fib"].reccallcount == 14
    assert entries["fib"].totaltime >= entries["fib"].inlinetime >= 0


def test_pstats_reads_dump(tmp_path):
    p = pyrometer.Profile()
    with p:
        fib(8)
    path = tmp_path / "out.prof"
    p.dump_stats(str(path))
    st = pstats.Stats(str(path))
    assert _by_name(st.stats)["fib"][:2] == (1, 67)
    assert st.total_calls >= 67
    with open(path, "rb") as f:
        assert isinstance(marshal.load(f), dict)


def test_bad_use_is_clear(tmp_path):
    p = pyrometer.Profile()
    with pytest.raises(RuntimeError, match="no profile data"):
        p.print_stats()
    p.enable()
    fib(3)
    p.disable()
    with pytest.raises(RuntimeError, match="not enabled"):
        p.disable()
    target = tmp_path / "no" / "such" / "dir" / "x.prof"
    with pytest.raises(OSError, match="cannot write"):
        p.dump_stats(str(target))
    assert not target.parent.exists()
    p.create_stats()
    assert _by_name(p.stats)["fib"][:2] == (1, 5)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring")
def test_monitoring_slot_taken_falls_back():
    mon = sys.monitoring
    mon.use_tool_id(mon.PROFILER_ID, "someone else")
    try:
        p = pyrometer.Profile()
        p.runcall(fib, 4)
        p.create_stats()
        assert _by_name(p.stats)["fib"][:2] == (1, 9)
        taken = [i for i in range(6) if mon.get_tool(i) is None]
        for i in taken:  # with every id taken, enabling fails clearly
            mon.use_tool_id(i, "x")
        try:
            with pytest.raises(RuntimeError, match="in use"):
                pyrometer.Profile().enable()
        finally:
            for i in taken:
                mon.free_tool_id(i)
    finally:
        mon.free_tool_id(mon.PROFILER_ID)


# ---- pyrometer run --mode calls ---------------------------------------------

def _calls_profile(tmp_path, *extra):
    out = tmp_path / "p.pyro"
    r = run_pyrometer("run", "--mode", "calls", *extra, "-o", out, program("calls_known.py"))
    assert r.returncode == 0, r.stderr.decode()
    return pyrometer.load(str(out)).native


def test_cli_exact_counts_threads_merged_and_per_thread(tmp_path):
    prof = _calls_profile(tmp_path)
    assert prof.meta["mode"] == "calls"
    s = _by_name(_calls.pstats_of(prof))
    assert s["fib"][:2] == (1 + 15, 177 + 75)
    assert s["even"][:2] == (1, 4) and s["odd"][:2] == (1, 3)
    assert s["gen"][:2] == (5, 5)
    assert s["boom"][:2] == (1, 4)
    assert s["worker"][:2] == (3, 3)
    per_thread = []
    for i in range(len(prof.threads())):
        st = _by_name(_calls.pstats_of(prof, i))
        if "worker" in st:
            per_thread.append((st["worker"][:2], st["fib"][:2]))
    assert per_thread == [((1, 1), (5, 25))] * 3
    assert "<built-in method builtins.len>" in s  # cProfile's event set: builtins by default


def test_cli_no_builtins(tmp_path):
    raw = _calls.pstats_of(_calls_profile(tmp_path, "--no-builtins"))
    s = _by_name(raw)
    assert s["fib"][:2] == (1 + 15, 177 + 75)
    assert s["worker"][:2] == (3, 3)
    assert [k for k in raw if k[0] == "~"] == []


@pytest.mark.parametrize("flag", [(), ("--builtins",)])
def test_cli_builtins(tmp_path, flag):
    """Builtins need the profile hook on 3.9-3.11: threads started while
    profiling get it through threading's hook and count exactly."""
    s = _by_name(_calls.pstats_of(_calls_profile(tmp_path, *flag)))
    assert s["worker"][:2] == (3, 3)
    assert s["fib"][:2] == (1 + 15, 177 + 75)
    callers = s["<built-in method builtins.len>"][4]
    from_main = [v for k, v in callers.items() if k[2] == "main" and k[0].endswith("calls_known.py")]
    assert [v[:2] for v in from_main] == [(1, 1)]


def test_cli_prints_pstats_table():
    r = run_pyrometer("run", "--mode", "calls", program("calls_known.py"))
    assert r.returncode == 0
    err = r.stderr.decode()
    assert "function calls (" in err and "primitive calls)" in err
    assert "ncalls  tottime  percall  cumtime  percall" in err
    assert "calls_known.py" in err
    assert "quality: mode calls" in err and "ns per call" in err
