"""The pytest plugin, run the way users run it: pytest in a subprocess on a
small test project, with the plugin loaded by its entry point (and by -p).
Outcomes and exit codes are compared with the same run without the plugin;
profiles are read back with pyrometer's reader; memory limits are checked
against tracemalloc's own figures for the same allocations."""
import os
import subprocess
import sys

import pytest

PROJECT = '''
import pytest


def spin(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def test_fast():
    assert spin(1000) > 0


def test_slow_work():
    assert spin(400000) > 0


def test_fails():
    spin(50000)
    assert 1 == 2


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.limit_memory("4 MB")
def test_big_allocation_over_limit():
    blob = [bytes(1024) for _ in range(20000)]  # ~20 MiB live at once
    assert len(blob) == 20000


@pytest.mark.limit_memory("64 MB")
def test_big_allocation_under_limit():
    blob = [bytes(1024) for _ in range(20000)]
    assert len(blob) == 20000


KEEP = []


@pytest.mark.limit_leaks("1 MB")
def test_leaks_over_limit():
    KEEP.append([bytes(1024) for _ in range(8000)])  # ~8 MiB kept after the test


@pytest.mark.limit_leaks("1 MB")
def test_no_leak():
    tmp = [bytes(1024) for _ in range(8000)]
    del tmp
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    d = tmp_path_factory.mktemp("proj")
    (d / "test_project.py").write_text(PROJECT)
    return d


def run_pytest(project, *args, **env_extra):
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", *args],
                          cwd=str(project), capture_output=True, text=True, timeout=600, env=env)


def outcomes(stdout):
    """{test name: PASSED|FAILED|SKIPPED} from -rA's short summary."""
    out = {}
    for line in stdout.splitlines():
        for word in ("PASSED", "FAILED", "SKIPPED", "ERROR"):
            if line.startswith(word + " "):
                rest = line[len(word) + 1:]
                if word == "SKIPPED":
                    continue
                out[rest.split(" ")[0].split("::")[-1]] = word
    return out


def test_profiles_per_test_and_outcomes_unchanged(project):
    plain = run_pytest(project, "-p", "no:pyrometer", "-k", "not limit and not leak")
    prof = run_pytest(project, "--pyrometer", "--pyrometer-dir", "profiles", "-k", "not limit and not leak")
    assert plain.returncode == prof.returncode == 1, prof.stdout + prof.stderr
    assert outcomes(plain.stdout) == outcomes(prof.stdout) == {
        "test_fast": "PASSED", "test_slow_work": "PASSED", "test_fails": "FAILED"}
    assert "assert 1 == 2" in prof.stdout

    import pyrometer as pm

    files = sorted(os.listdir(project / "profiles"))
    per_test = [f for f in files if f.endswith(".pyro") and f != "combined.pyro"]
    assert "combined.pyro" in files
    tests = {}
    for f in per_test:
        data = pm.load(str(project / "profiles" / f))
        tests[data.meta["test"].split("::")[-1]] = data
    assert {"test_fast", "test_slow_work", "test_fails"} <= set(tests)
    slow_funcs = [row[0] for row in tests["test_slow_work"].native.func_stats()]
    assert "spin" in slow_funcs and "test_slow_work" in slow_funcs
    combined = pm.load(str(project / "profiles" / "combined.pyro"))
    # By (name, file, line): pytest's own pytest_runtest_call and this
    # plugin's are two functions of one name.
    combined_funcs = {tuple(row[:3]): row[3] for row in combined.native.func_stats()}
    # Every test's figures, added up (a 1 ms test may hold no sample at all).
    summed = {}
    for data in tests.values():
        for row in data.native.func_stats():
            summed[tuple(row[:3])] = summed.get(tuple(row[:3]), 0) + row[3]
    assert {"test_slow_work", "spin"} <= {key[0] for key in summed}
    assert {k: v for k, v in combined_funcs.items() if v} == {k: v for k, v in summed.items() if v}
    # The summary names the slowest test first, with its top function.
    summary = prof.stdout.split("pyrometer", 1)[1]
    lines = [line for line in summary.splitlines() if line.startswith("  ") and "::" in line]
    assert lines and "test_slow_work" in lines[0], prof.stdout
    assert "spin" in summary


def test_calls_mode_counts_calls_with_the_plugin_named_by_p(project):
    # Entry points off: the plugin is there only because -p names it.
    r = run_pytest(project, "-p", "pyrometer.integrations.pytest_plugin", "--pyrometer", "--pyrometer-mode",
                   "calls", "--pyrometer-dir", "calls", "-k", "slow_work", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert r.returncode == 0, r.stdout + r.stderr
    import pyrometer as pm

    files = [f for f in os.listdir(project / "calls") if f.endswith(".pyro") and f != "combined.pyro"]
    assert len(files) == 1
    data = pm.load(str(project / "calls" / files[0]))
    assert data.meta["mode"] == "calls"
    calls = {row[0]: row[3] for row in data.native.func_stats("calls")}
    assert calls["spin"] == 1 and calls["test_slow_work"] == 1


def test_memory_limits_fail_only_the_tests_over_them(project):
    r = run_pytest(project, "-k", "limit or leak")
    got = outcomes(r.stdout)
    assert got == {"test_big_allocation_over_limit": "FAILED", "test_big_allocation_under_limit": "PASSED",
                   "test_leaks_over_limit": "FAILED", "test_no_leak": "PASSED"}, r.stdout
    assert r.returncode == 1
    assert "peak memory" in r.stdout and "over the limit of 4 MB" in r.stdout
    assert "memory leaked" in r.stdout and "over the limit of 1 MB" in r.stdout
    # The reference: what tracemalloc sees of the same allocation.
    import tracemalloc

    tracemalloc.start()
    blob = [bytes(1024) for _ in range(20000)]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del blob
    assert 4 * 1024 ** 2 < peak < 64 * 1024 ** 2


def test_bad_marker_is_a_usage_error(tmp_path):
    (tmp_path / "test_bad.py").write_text(
        "import pytest\n@pytest.mark.limit_memory('lots')\ndef test_x():\n    pass\n")
    r = run_pytest(tmp_path)
    assert r.returncode != 0
    assert "pyrometer: @pytest.mark.limit_memory" in r.stdout + r.stderr and "not a size" in r.stdout + r.stderr


def test_xdist_workers_profile_and_the_controller_combines(project):
    pytest.importorskip("xdist", reason="pytest-xdist is in the test extra")
    r = run_pytest(project, "-n", "2", "--pyrometer", "--pyrometer-dir", "xd", "-k", "not limit and not leak")
    assert r.returncode == 1, r.stdout + r.stderr
    assert outcomes(r.stdout).get("test_fails") == "FAILED"
    files = os.listdir(project / "xd")
    assert "combined.pyro" in files
    assert len([f for f in files if f.endswith(".pyro") and f != "combined.pyro"]) == 3
    assert "slowest tests" in r.stdout


def test_off_unless_asked(project):
    r = run_pytest(project, "-k", "fast")
    assert r.returncode == 0
    assert "pyrometer" not in r.stdout
    assert not os.path.exists(project / ".pyrometer")
