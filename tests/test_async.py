"""`pyrometer run --async`: asyncio tasks' await chains, each waiting task
under the task that awaits it, with its wall time."""
import sys

import pytest

from conftest import all_stacks, names, profile_program, program, pseudo_frame, run_plain, run_pyrometer, short



def task_stacks(p, metric="wall"):
    """[(stack as short names from the loop's frame down, weight)] of the
    stacks that go through a task level."""
    out = []
    for _, stack, weight in all_stacks(p, metric):
        n = [short(x) for x in names(stack)]
        if "_run_once" in n and any(x == "task" or x.startswith("task ") for x in n):
            out.append((n[n.index("_run_once") + 1:], weight))
    return out


def total_under(stacks, chain):
    """The weight of the stacks that start with chain."""
    return sum(w for s, w in stacks if s[: len(chain)] == chain)


def no_pseudo_frames(p):
    for _, stack, _ in all_stacks(p):
        for name in names(stack):
            assert not pseudo_frame(name), name


def test_gather_children_under_main_in_ratio(tmp_path):
    proc, p = profile_program(tmp_path, "async_gather.py", "0.1", "5", options=["--async"])
    assert proc.stdout.decode().splitlines()[-1] == "done"
    stacks = task_stacks(p)
    main = ["task", "main", "task"]
    walls = {f: total_under(stacks, main + [f, "sleep"]) for f in ("short", "medium", "long")}
    total = sum(walls.values())
    assert total > 0, stacks
    shares = {f: 100.0 * w / total for f, w in walls.items()}
    for f, want in (("short", 100 / 6), ("medium", 200 / 6), ("long", 300 / 6)):
        assert abs(shares[f] - want) <= 3, shares
    # Each child waited as long as it slept: 0.5, 1.0 and 1.5 s in all.
    assert abs(walls["long"] / 1e9 - 1.5) < 0.2, walls
    assert p.meta["async_ticks_read"] > 0
    no_pseudo_frames(p)


def test_without_async_nothing_changes(tmp_path):
    _, p = profile_program(tmp_path, "async_gather.py", "0.05", "2")
    assert task_stacks(p) == []
    assert "async_ticks_read" not in p.meta
    # The waiting coroutines are nowhere: the thread waits in the selector.
    for _, stack, weight in all_stacks(p, "wall"):
        n = [short(x) for x in names(stack)]
        if "long" in n:
            assert weight < 0.05e9, (n, weight)


def test_cpu_mode_shows_only_running_code(tmp_path):
    _, p = profile_program(tmp_path, "async_gather.py", "0.05", "2", options=["--async", "--mode", "cpu"])
    assert task_stacks(p, "samples") == []


@pytest.mark.skipif(sys.version_info < (3, 11), reason="TaskGroup is 3.11+")
def test_taskgroup_children_under_the_group_owner(tmp_path):
    proc, p = profile_program(tmp_path, "async_taskgroup.py", options=["--async"])
    assert proc.stdout == b"group done\n"
    stacks = task_stacks(p)
    quick = sum(w for s, w in stacks if s[:2] == ["task", "main"] and s[-3:] == ["task", "quick", "sleep"])
    slow = sum(w for s, w in stacks if s[:2] == ["task", "main"] and s[-3:] == ["task slow-one", "slow", "sleep"])
    assert quick > 0 and slow > 0, stacks
    assert abs(100.0 * quick / (quick + slow) - 25) <= 3, (quick, slow)
    # Between main and the group's tasks: the group's __aexit__ main waits in.
    assert all("__aexit__" in s for s, w in stacks if "quick" in s or "slow" in s)
    no_pseudo_frames(p)


def test_wait_for_and_awaited_tasks(tmp_path):
    proc, p = profile_program(tmp_path, "async_waits.py", options=["--async"])
    assert proc.stdout == b"waits done\n"
    stacks = task_stacks(p)
    guarded = sum(w for s, w in stacks if s[:3] == ["task", "main", "wait_for"] and s[-2:] == ["guarded", "sleep"])
    leaf = total_under(stacks, ["task", "main", "task", "middle", "task", "leaf", "sleep"])
    assert abs(guarded / 1e9 - 0.8) < 0.15, stacks
    assert abs(leaf / 1e9 - 0.4) < 0.1, stacks
    no_pseudo_frames(p)


def test_program_output_unchanged(tmp_path):
    plain = run_plain(program("async_gather.py"), "0.01", "3")
    out = tmp_path / "o.pyro"
    profiled = run_pyrometer("run", "--async", "-o", out, program("async_gather.py"), "0.01", "3")
    assert profiled.returncode == plain.returncode == 0
    assert profiled.stdout == plain.stdout


def test_async_is_for_sampling_modes():
    proc = run_pyrometer("run", "--async", "--mode", "calls", program("async_gather.py"), "0.01", "1")
    assert proc.returncode != 0
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyrometer: ") and "--async" in lines[0], lines


def test_api_option(tmp_path):
    import asyncio

    import pyrometer

    async def nap():
        await asyncio.sleep(0.2)

    async def main():
        await asyncio.gather(nap(), nap())

    with pyrometer.profile(async_tasks=True) as p:
        asyncio.run(main())
    naps = [
        w for _, s, w in all_stacks(p, "wall") if [short(x) for x in names(s)][-3:] == ["task", "nap", "sleep"]
    ]
    # Two tasks napping at once: twice the wall time of one nap.
    assert abs(sum(naps) / 1e9 - 0.4) < 0.1, naps


def test_uvloop(tmp_path):
    pytest.importorskip("uvloop")
    proc, p = profile_program(tmp_path, "async_uvloop.py", options=["--async"])
    assert proc.stdout == b"uvloop done\n"
    walls = {}
    for _, stack, weight in all_stacks(p, "wall"):
        n = [short(x) for x in names(stack)]
        if n[-3:-1] in (["task", "short"], ["task", "long"]) and "main" in n:
            walls[n[-2]] = walls.get(n[-2], 0) + weight
    assert set(walls) == {"short", "long"}, walls
    assert abs(100.0 * walls["short"] / (walls["short"] + walls["long"]) - 25) <= 3, walls
    no_pseudo_frames(p)


def test_two_loops_in_two_threads(tmp_path):
    proc, p = profile_program(tmp_path, "async_two_loops.py", options=["--async"])
    assert proc.stdout == b"two loops done\n"
    naps = {}
    for thread, stack, weight in all_stacks(p, "wall"):
        n = [short(x) for x in names(stack)]
        # (3.13.0 names a task made by a task factory "None": a name like any.)
        tail = n[-6:]
        if len(tail) == 6 and tail[2:] == ["main", tail[3], "nap", "sleep"] and tail[3].startswith("task") \
                and "task" in tail[:2]:
            naps[thread.name] = naps.get(thread.name, 0) + weight
    # Each loop's tasks on its own thread: 3 x (t + 2t), t = 0.1 and 0.05 s
    # (asyncio's timers run late on a loaded machine: the bounds are loose).
    assert 0.8 < naps["MainThread"] / 1e9 / 0.9 < 1.3, naps
    assert 0.8 < naps["other-loop"] / 1e9 / 0.45 < 1.3, naps


def test_program_without_asyncio(tmp_path):
    # --async on a program that never uses asyncio: same output, the usual
    # stacks, no task level.
    plain = run_plain(program("work_then_sleep.py"), "0.3")
    out = tmp_path / "o.pyro"
    proc = run_pyrometer("run", "--async", "-o", out, program("work_then_sleep.py"), "0.3")
    assert proc.returncode == plain.returncode == 0, proc.stderr
    assert proc.stdout == plain.stdout
    import pyrometer

    p = pyrometer.load(out)
    assert p.meta["async_ticks_read"] == 0
    assert not any(n.startswith("task") for _, s, _ in all_stacks(p) for n in names(s))


def test_waiting_task_seen_while_the_loop_runs(tmp_path):
    # The loop's thread runs 60% of the time: the sleeper is read by the
    # running thread itself (in the capture signal's handler), so it still
    # gets about its 1 s of waiting.
    proc, p = profile_program(tmp_path, "async_busy.py", options=["--async"])
    assert proc.stdout == b"busy done\n"
    sleeper = sum(
        w for s, w in task_stacks(p) if s[:2] == ["task", "main"] and s[-3:] == ["task", "sleeper", "sleep"]
    )
    burn = sum(w for _, s, w in all_stacks(p, "wall") if short(names(s)[-1]) == "burn")
    assert burn > 0.3e9, burn
    # Read from outside only, the ticks it runs would be missing (counted
    # in async_ticks_running): the loop's own reads take at least two in
    # three of them.  (A machine loaded enough preempts the burning thread
    # at every tick: then no tick finds it running, both counts are 0.)
    assert p.meta["async_ticks_running"] <= 0.5 * p.meta["async_ticks_read_running"], p.meta
    # (about 1.0 s; a machine loaded by a parallel test run once left the
    # sampler's ticks late enough to read 0.92 s, where reading from
    # outside only would give the sleeper some 0.4 s)
    assert 0.85 < sleeper / 1e9 < 1.15, (sleeper, p.meta)
    no_pseudo_frames(p)


def test_program_sees_the_same_with_async(tmp_path):
    # Fork pool, cancellation, a timeout, task names and counts, an uncaught
    # exception: the same stdout, stderr and exit status as plain python.
    from test_reliability import same_as_plain

    prof, p = same_as_plain(tmp_path, [program("async_edge.py")], options=["--async"])
    assert prof.returncode == 1 and b"ValueError: the end" in prof.stderr
    assert b"cancelled Task-" in prof.stdout
    no_pseudo_frames(p)


def test_refused_without_asyncio_c_module(tmp_path):
    # asyncio's pure-Python tasks have no layout to read: one line, non-zero
    # exit, no traceback, the program not run.
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['_asyncio'] = None\n")
    proc = run_pyrometer(
        "run", "--async", program("async_gather.py"), "0.01", "1", env={"PYTHONPATH": str(tmp_path)}
    )
    assert proc.returncode != 0
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyrometer: ") and "C module" in lines[0], lines
    assert proc.stdout == b""
