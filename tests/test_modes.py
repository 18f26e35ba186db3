"""Wall vs CPU time, and leaving idle samples out."""
import os

import pytest

from conftest import all_stacks, names, profile_program, short


def per_thread(p, metric):
    """{thread name: total of metric} over the program's two worker threads."""
    out = {}
    for thread, stack, weight in all_stacks(p, metric):
        out[thread.name] = out.get(thread.name, 0) + weight
    return out


def in_function(p, thread_name, function, metric):
    inside = total = 0
    for thread, stack, weight in all_stacks(p, metric):
        if thread.name != thread_name:
            continue
        total += weight
        if function in [short(n) for n in names(stack)]:
            inside += weight
    return inside, total


def test_wall_mode_sees_the_sleeping_thread(tmp_path):
    _, p = profile_program(tmp_path, "wall_cpu.py", "1.0", options=["--mode", "wall"])
    assert p.meta["mode"] == "wall"
    samples = per_thread(p, "samples")
    # Both threads are sampled all along, sleeping or not: each gets a fair
    # share of the main thread's samples (which only waits in join()).
    assert samples.get("sleeper", 0) > 0.3 * samples["MainThread"], samples
    assert samples.get("burner", 0) > 0.3 * samples["MainThread"], samples
    inside, total = in_function(p, "sleeper", "doze", "samples")
    assert inside >= 0.8 * total
    # Wall time is attributed to the sleeper too.
    wall = per_thread(p, "wall")
    assert wall["sleeper"] > 0.3 * wall["burner"], wall


def test_cpu_mode_ignores_the_sleeping_thread(tmp_path):
    _, p = profile_program(tmp_path, "wall_cpu.py", "1.0", options=["--mode", "cpu"])
    assert p.meta["mode"] == "cpu"
    cpu = per_thread(p, "cpu")
    samples = per_thread(p, "samples")
    assert cpu.get("burner", 0) > 0, cpu
    assert samples.get("burner", 0) > 0, samples
    # The sleeper is on the CPU only for the instants it wakes up (50 times a
    # second): nearly no CPU time...
    assert cpu.get("sleeper", 0) <= 0.05 * cpu["burner"], cpu
    assert cpu.get("MainThread", 0) <= 0.05 * cpu["burner"], cpu
    # ...and few samples: a thread that ran at all since the previous tick
    # counts as on the CPU for that tick, so each wake-up may cost a sample
    # or two (about 50 wake-ups a second), while the burner is on the CPU
    # all the time.  (On a loaded machine the burner itself is sampled less:
    # the sleeper's bound is then its wake-ups, not the burner's count; a
    # sleeper taken for running would have the burner's count.)
    bound = max(0.25 * samples["burner"], 3 * 50 * p.meta["duration_s"])
    assert samples.get("sleeper", 0) <= bound < 0.8 * p.meta["samples_expected"], (samples, bound)
    assert samples.get("MainThread", 0) <= bound, samples
    # The burner's CPU time is in burn().
    inside, total = in_function(p, "burner", "burn", "cpu")
    assert inside >= 0.8 * total, (inside, total)


def test_no_idle_drops_the_sleeping_thread(tmp_path):
    _, idle = profile_program(tmp_path, "wall_cpu.py", "1.0", options=["--mode", "wall"], output="idle.pyro")
    _, busy = profile_program(
        tmp_path, "wall_cpu.py", "1.0", options=["--mode", "wall", "--no-idle"], output="noidle.pyro"
    )
    with_idle = per_thread(idle, "samples")
    without = per_thread(busy, "samples")
    assert without.get("burner", 0) > 0, without
    # Only the sleeper's wake-ups can remain (see the cpu mode test); with
    # idle samples it had about as many samples as the main thread.
    assert without.get("sleeper", 0) <= 0.25 * without["burner"], without
    assert without.get("MainThread", 0) <= 0.25 * without["burner"], without
    assert with_idle["sleeper"] >= 0.5 * with_idle["MainThread"], with_idle
    # ...while the busy thread keeps (nearly) all its samples: all those
    # where it was on the CPU, which on a machine busy with other work is
    # less than all of them (the first run's idle figure says how many).
    on_cpu = with_idle["burner"] - per_thread(idle, "idle").get("burner", 0)
    assert on_cpu >= 0.2 * with_idle["burner"], ("the machine left the busy thread no CPU", with_idle)
    assert without["burner"] >= 0.5 * on_cpu, (with_idle, on_cpu, without)
    inside, total = in_function(busy, "burner", "burn", "samples")
    assert inside >= 0.8 * total, (inside, total)


@pytest.fixture(params=["any_core", "one_core"])
def cores(request):
    """On one core the sampling thread preempts the program whenever it
    ticks, so the thread it walks is often ready but not running."""
    if request.param == "one_core":
        before = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(before)})
        try:
            yield request.param
        finally:
            os.sched_setaffinity(0, before)
    else:
        yield request.param


def test_cpu_mode_charges_cpu_before_a_sleep_to_the_work(tmp_path, cores):
    # Every 6 ms the thread works 3 ms, then sleeps 3 ms.  The tick that
    # finds it asleep also sees the CPU it used since the last tick, which
    # was used in work(), before it fell asleep: charged to rest(), that
    # tail would be about a sixth of all CPU.  The tick that finds it back
    # in work() charges the CPU since it woke to work(), even when the
    # thread is not on the CPU at that moment.  (Ticks delayed by several ms
    # on a loaded machine blur this, hence the margins.)
    _, p = profile_program(tmp_path, "work_then_sleep.py", "1.5", options=["--mode", "cpu"])
    in_work, total = in_function(p, "MainThread", "work", "cpu")
    in_rest, _ = in_function(p, "MainThread", "rest", "cpu")
    assert total > 0
    assert in_rest <= 0.1 * total, (in_rest, in_work, total)
    assert in_work >= 0.85 * total, (in_rest, in_work, total)
