"""The Python API: context manager, decorator, write/print/stats/stacks."""
import asyncio
import inspect
import io
import os
import sys
import threading
import time

import pytest

import pyrometer

HERE = os.path.abspath(__file__)


def spin_api(seconds):
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline:
        n += 1
    return n


def function_names(profile):
    return {f[0].rsplit(".", 1)[-1] for stacks in profile.stacks().values() for s in stacks for f in s}


def test_context_manager():
    with pyrometer.profile(rate=2000) as p:
        assert p.running
        with pytest.raises(RuntimeError):
            p.stats  # still collecting
        spin_api(0.3)
    assert not p.running
    assert isinstance(p, pyrometer.ProfileData)
    meta = p.meta
    assert meta["mode"] == "wall"
    assert meta["python"] == "%d.%d.%d" % sys.version_info[:3]
    assert meta["pyrometer"] == pyrometer.__version__
    assert abs(meta["start_unix"] - time.time()) < 3600
    assert meta["command"]
    main = [t for t in p.threads if t.ident == threading.main_thread().ident]
    assert len(main) == 1 and main[0].name == "MainThread"
    stacks = p.stacks()[main[0]]
    spins = [s for s in stacks if s and s[-1][0] == "spin_api"]
    assert spins
    for s in spins:
        assert s[-1][1] == HERE
        assert s[-2][0].endswith("test_context_manager")
    assert sum(w for s, w in stacks.items() if s in spins) >= 0.5 * sum(stacks.values())


def test_stats():
    with pyrometer.profile(rate=2000) as p:
        spin_api(0.3)
    stats = p.stats
    assert stats == sorted(stats, key=lambda r: -r["self"])
    row = [r for r in stats if r["function"] == "spin_api"]
    assert len(row) == 1
    row = row[0]
    assert set(row) >= {"function", "file", "line", "self", "total", "self_percent",
                        "total_percent", "samples"}
    assert row["file"] == HERE
    assert row["line"] == spin_api.__code__.co_firstlineno
    assert 0 < row["self"] <= row["total"]
    assert 0 < row["self_percent"] <= row["total_percent"] <= 100.0
    assert row["samples"] > 0
    # spin_api is where this thread's time went (other threads of the test
    # runner, waiting all along, take a share of the percentages).
    assert row["self"] >= 0.2 and row["self"] >= 0.8 * row["total"]
    # seconds, not nanoseconds: the wall time of one thread for ~0.3 s
    assert row["total"] < 100
    total_pct = sum(r["self_percent"] for r in stats)
    assert abs(total_pct - 100.0) < 1e-6 or total_pct <= 100.0


def test_cpu_mode_and_options():
    with pyrometer.profile(rate=500, mode="cpu", idle=False, timeline=0) as p:
        spin_api(0.3)
    assert p.meta["mode"] == "cpu"
    assert p.meta["rate_hz"] == 500
    assert p.native.timeline() == []
    assert "spin_api" in function_names(p)
    for bad in (dict(rate=0), dict(rate=-1), dict(rate=1e9), dict(rate="x"), dict(mode="gpu"),
                dict(timeline=-1)):
        with pytest.raises(ValueError):
            pyrometer.profile(**bad)


def test_a_profile_starts_once():
    p = pyrometer.profile()
    p.start()
    p.stop()
    p.stop()  # idempotent
    with pytest.raises(RuntimeError):
        p.start()


def test_decorator_plain():
    @pyrometer.profile
    def work(x):
        spin_api(0.2)
        return x * 2

    assert work.__name__ == "work"
    assert work.last_profile is None
    assert work(21) == 42
    first = work.last_profile
    assert isinstance(first, pyrometer.ProfileData)
    assert {"work", "spin_api"} <= function_names(first)
    assert work(1) == 2
    assert work.last_profile is not first


def test_decorator_with_options_and_exceptions():
    @pyrometer.profile(rate=500, mode="cpu")
    def fails():
        spin_api(0.2)
        raise KeyError("inside")

    with pytest.raises(KeyError):
        fails()
    assert fails.last_profile.meta["mode"] == "cpu"
    assert "fails" in function_names(fails.last_profile)


def test_decorator_recursion_profiles_the_outer_call():
    @pyrometer.profile(rate=2000)
    def countdown(n):
        if n == 0:
            return spin_api(0.2)
        return countdown(n - 1)

    countdown(5)
    p = countdown.last_profile
    deepest = max(
        sum(1 for f in s if f[0].endswith("countdown") and f[1] == HERE)
        for st in p.stacks().values()
        for s in st
    )
    assert deepest == 6


def test_decorator_async():
    @pyrometer.profile(rate=2000)
    async def job():
        await asyncio.sleep(0)
        return spin_api(0.2)

    assert inspect.iscoroutinefunction(job)  # asyncio's is deprecated from 3.14 on
    asyncio.run(job())
    assert "spin_api" in function_names(job.last_profile)


def test_thread_names_of_threads_that_ended():
    def api_worker_body():
        spin_api(0.2)

    with pyrometer.profile(rate=2000) as p:
        t = threading.Thread(target=api_worker_body, name="api-worker")
        t.start()
        t.join()
        ended_ident = t.ident
    named = [t for t in p.threads if t.ident == ended_ident]
    assert len(named) == 1
    assert "api-worker" in named[0].name.split(", ")
    worker_stacks = p.stacks()[named[0]]
    assert any(s and s[-1][0] == "spin_api" for s in worker_stacks)
    # threading is back to normal
    assert type(threading._active) is dict


def test_write_print_and_load(tmp_path):
    with pyrometer.profile(rate=2000) as p:
        spin_api(0.2)
    p.write(tmp_path / "a.pyro")
    q = pyrometer.load(tmp_path / "a.pyro")
    assert q.stacks() == p.stacks()
    assert q.meta == p.meta
    assert q.stats == p.stats
    p.write(str(tmp_path / "a.txt"))
    text = (tmp_path / "a.txt").read_text(encoding="utf-8")
    assert "spin_api" in text and "\x1b[" not in text
    assert text == p.report()
    p.write(tmp_path / "a.collapsed")
    assert (tmp_path / "a.collapsed").read_bytes() == p.to_bytes("collapsed")
    buf = io.StringIO()
    p.print(file=buf)
    assert "spin_api" in buf.getvalue() and "\x1b[" not in buf.getvalue()
    buf = io.StringIO()
    p.print(file=buf, color=True, show_all=True, top=3)
    assert "\x1b[" in buf.getvalue()
    with pytest.raises(ValueError):
        p.write(tmp_path / "a.unknown")
    assert not (tmp_path / "a.unknown").exists()
