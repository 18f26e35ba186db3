"""Stress: 50 threads starting and ending all the time, sampled at 5 kHz for
10 s.  No crash, no hang, and the program prints what it prints without
pyrometer.  Part of the normal suite (about 12 s per Python version)."""
import subprocess

import pyrometer
from conftest import program, run_plain, run_pyrometer, wrote_only


def test_threads_churning_under_5khz_sampling(tmp_path):
    out = tmp_path / "stress.pyro"
    try:
        prof = run_pyrometer(
            "run", "--rate", "5000", "-o", out, program("stress_threads.py"), "10", timeout=120
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("the profiled stress program hung (no exit within 120 s)")
    assert prof.returncode == 0, prof.stderr.decode("utf-8", "replace")[-3000:]
    assert wrote_only(prof.stderr, out)
    # The program's output does not depend on its duration (see the
    # program); a short plain run is the reference.
    plain = run_plain(program("stress_threads.py"), "1", timeout=60)
    assert plain.returncode == 0
    assert prof.stdout == plain.stdout
    assert b"all results correct: True" in prof.stdout
    started = int(prof.stderr.decode().split("started ", 1)[1].split()[0])
    assert started > 200
    p = pyrometer.load(out)
    # The short-lived threads were sampled, under their own names (the
    # profile knows threads by ident, and CPython hands the ident of an
    # ended thread to a later one, so one profile thread may stand for
    # many program threads).
    workers = [t for t in p.threads if "stress-" in t.name]
    assert workers, [t.name for t in p.threads][:20]
    assert all(t.name.startswith("stress-") for t in workers)
    assert {t.name for t in p.threads} - {t.name for t in workers} == {"MainThread"}
    taken = p.meta.get("samples_taken", 0)
    assert taken > 0
    assert any(
        f[0] == "work" for t, stacks in p.stacks().items() if "stress-" in t.name
        for stack in stacks for f in stack
    )
