"""The profiled program never notices pyrometer, and nothing is destroyed.

Each case runs a program plainly and under ``pyrometer run`` in each mode and
asserts the same stdout, stderr and exit status byte for byte (pyrometer's own
``pyrometer:`` lines aside), and a profile written and readable.  Every
subprocess has a timeout: a hang is a failure, not a stuck suite.  The slow
cases are marked ``heavy`` (scripts/test runs them on one version only)."""
import os
import re
import signal
import stat
import subprocess
import sys
import threading

import pytest

from conftest import PROGRAMS, _env, pyrometer_lines, run_plain, run_pyrometer, without_pyrometer_lines

import pyrometer

REL = PROGRAMS / "reliability"
MODES = ("wall", "cpu", "calls", "lines")
TIMEOUT = 120


def rel(name):
    return str(REL / name)


def _normalise(stderr):
    """stderr without pyrometer's lines, and with the pid in 3.12+'s fork
    warning (the only text that differs from run to run) blanked."""
    text = without_pyrometer_lines(stderr)
    return re.sub(r"\(pid=\d+\)", "(pid=N)", text)


def same_as_plain(tmp_path, args, mode="wall", output="out.pyro", options=(), timeout=TIMEOUT, cwd=None,
                  env=None):
    """Runs ``python ARGS`` and ``pyrometer run --mode MODE -o OUT ARGS``;
    asserts the same stdout, stderr and exit status; returns (pyrometer's
    completed process, the profile loaded back)."""
    plain = run_plain(*args, timeout=timeout, cwd=cwd, env=env)
    out = tmp_path / output
    prof = run_pyrometer("run", "--mode", mode, "-o", out, *options, *args, timeout=timeout, cwd=cwd, env=env)
    assert prof.stdout == plain.stdout
    assert _normalise(prof.stderr) == _normalise(plain.stderr), prof.stderr.decode("utf-8", "replace")
    assert prof.returncode == plain.returncode, prof.stderr
    assert pyrometer_lines(prof.stderr) == ["pyrometer: wrote %s" % out], prof.stderr
    return prof, pyrometer.load(out)


# ---- os.fork on 3.12+: no "multi-threaded" DeprecationWarning of ours -------------


@pytest.mark.parametrize("mode", MODES)
def test_fork_after_work_gives_no_warning(tmp_path, mode):
    for _ in range(3):  # the thread count was read racily: more than one try
        same_as_plain(tmp_path, [rel("fork_after_work.py")], mode=mode, env={"PYTHONWARNINGS": "always"})


# ---- the program's own profilers and tracers: cProfile, coverage, tool ids ----------


@pytest.mark.parametrize("mode", MODES)
def test_cprofile_inside(tmp_path, mode):
    same_as_plain(tmp_path, [rel("use_cprofile.py")], mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_coverage_inside(tmp_path, mode):
    pytest.importorskip("coverage")
    same_as_plain(tmp_path, [rel("use_coverage.py")], mode=mode)


# pyrometer's deterministic modes hold one sys.monitoring id (4, the first free
# one it tries); every other id stays the program's.  Before 3.12 the program
# uses sys.setprofile and sys.settrace instead, whatever the ids say.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ids", ["0", "1", "2", "3", "5", "0 1 2 3 5"])
def test_program_claims_tool_ids(tmp_path, mode, ids):
    same_as_plain(tmp_path, [rel("claim_tool.py")] + ids.split(), mode=mode)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring")
@pytest.mark.parametrize("mode", ["calls", "lines"])
def test_deterministic_modes_use_a_free_tool_id(tmp_path, mode):
    probe = tmp_path / "probe.py"
    probe.write_text("import sys\nm = sys.monitoring\nprint([m.get_tool(i) for i in range(6)])\n")
    r, _ = same_as_plain(tmp_path, [probe], mode="wall")
    assert r.stdout.decode() == "[None, None, None, None, None, None]\n"
    r = run_pyrometer("run", "--mode", mode, "-o", tmp_path / "p.pyro", probe, timeout=TIMEOUT)
    tools = eval(r.stdout.decode())
    held = [i for i, name in enumerate(tools) if name is not None]
    assert len(held) == 1 and held[0] not in (0, 1, 2), tools


# ---- SIGTERM: the program's handlers are its own; forked children die of it ------------


@pytest.mark.parametrize("mode", MODES)
def test_sigterm_handler_is_the_programs_own(tmp_path, mode):
    r, _ = same_as_plain(tmp_path, [rel("show_sigterm.py")], mode=mode)
    assert r.stdout.decode().splitlines()[0] == "parent %r" % signal.SIG_DFL


@pytest.mark.parametrize("mode", MODES)
def test_forked_child_dies_of_sigterm_while_blocked(tmp_path, mode):
    r, _ = same_as_plain(tmp_path, [rel("fork_then_sigterm.py")], mode=mode, timeout=60)
    assert r.stdout == b"child ended by signal 15\n"


def _pool_case(tmp_path, mode, method, rounds):
    r, p = same_as_plain(tmp_path, [rel("pool.py"), method, str(rounds)], mode=mode, timeout=90)
    assert r.stdout == ("%s %d %d\n" % (method, rounds, 285 * rounds)).encode()
    assert p.threads


@pytest.mark.parametrize("mode", MODES)
def test_fork_pool_shuts_down(tmp_path, mode):
    _pool_case(tmp_path, mode, "fork", 20)


@pytest.mark.heavy
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_spawn_and_forkserver_pools(tmp_path, mode, method):
    _pool_case(tmp_path, mode, method, 20)
