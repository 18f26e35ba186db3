"""The sampler thread as the kernel sees it: named, so tools tell it from the
program's threads, and asking for a short time slice, so that busy threads do
not hold its ticks back (on Linux 6.12+, where a shorter slice preempts)."""
import os
import re
import time

import pytest

import pyrometer


def sampler_tasks():
    found = []
    for tid in os.listdir("/proc/self/task"):
        try:
            with open("/proc/self/task/%s/comm" % tid) as f:
                if f.read().strip() == "pyrometer":
                    found.append(tid)
        except OSError:  # the thread ended meanwhile
            pass
    return found


def kernel_version():
    return tuple(int(x) for x in re.findall(r"\d+", os.uname().release)[:2])


def test_sampler_thread_is_named_and_asks_for_a_short_slice():
    assert sampler_tasks() == []
    with pyrometer.profile(rate=1000):
        tasks = sampler_tasks()
        assert len(tasks) == 1
        # The thread asks for its slice once it runs: give it a moment.
        deadline = time.monotonic() + 5
        while True:
            try:
                with open("/proc/self/task/%s/sched" % tasks[0]) as f:
                    slice_ns = re.search(r"^se\.slice\s*:\s*(\d+)", f.read(), re.M)
            except OSError:
                slice_ns = None
            if not slice_ns or int(slice_ns.group(1)) == 100000 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
    assert sampler_tasks() == []
    if kernel_version() < (6, 12) or not slice_ns:
        pytest.skip("the kernel has no per-task time slice to show (Linux 6.12+ with sched debug info)")
    assert int(slice_ns.group(1)) == 100000
