"""pytest plugin (entry point ``pytest11`` named ``pyrometer``; nothing
happens unless asked).

``pytest --pyrometer`` profiles the call phase of every test (sampling, or
``--pyrometer-mode calls|memory|cpu|...``), writes one profile per test and
a combined one (all tests merged) to ``--pyrometer-dir`` (default
``.pyrometer``), and prints the slowest tests with their top functions.

``@pytest.mark.limit_memory("24 MB")`` and ``@pytest.mark.limit_leaks("1 MB")``
run their test in memory mode (whether or not --pyrometer is given) and fail
it when the peak of the heap during the test, or what it allocated and left
live, goes over the limit.  Sizes: B, KB, MB, GB (powers of 1024), KiB, MiB,
GiB.  The figures come from sampled allocations (``--pyrometer-memory-rate``
bytes between samples on average, 64 KiB by default): a statistical estimate.

The test's own outcome, output and pytest's exit status are left as they
are; a test over a limit is reported failed with the figure and the limit.
With pytest-xdist (``-n``) every worker profiles its tests and the
controller writes the combined profile and the summary from the files."""
import hashlib
import os
import re
import time

import pytest

from . import new_session, parse_size, size_text

PROFILE_MODES = ("wall", "cpu", "gil", "calls", "memory")
MARKER_FILE = ".pyrometer-tests"
COMBINED = "combined.pyro"
LIMIT_MEMORY_RATE = 64 * 1024


def pytest_addoption(parser):
    g = parser.getgroup("pyrometer", "profiling with pyrometer")
    g.addoption("--pyrometer", action="store_true", default=False,
                help="profile every test: one profile per test and a combined one in --pyrometer-dir")
    g.addoption("--pyrometer-mode", default="wall", choices=PROFILE_MODES,
                help="what to measure (default wall: sampling every thread)")
    g.addoption("--pyrometer-rate", type=float, default=1000.0, help="samples per second (default 1000)")
    g.addoption("--pyrometer-memory-rate", type=int, default=None,
                help="memory mode and limit markers: mean bytes between sampled allocations")
    g.addoption("--pyrometer-dir", default=".pyrometer", help="where profiles go (default .pyrometer)")
    g.addoption("--pyrometer-top", type=int, default=5, help="slowest tests shown at the end (default 5)")


def pytest_configure(config):
    config.addinivalue_line("markers", "limit_memory(size): fail the test when the peak of the heap during it "
                                       "exceeds size (\"24 MB\"), measured by pyrometer's memory mode")
    config.addinivalue_line("markers", "limit_leaks(size): fail the test when what it allocated and left live "
                                       "exceeds size (\"1 MB\"), measured by pyrometer's memory mode")
    if config.getoption("pyrometer") and not hasattr(config, "workerinput"):
        _prepare_dir(config.getoption("pyrometer_dir"))


def _prepare_dir(path):
    """The profile directory, emptied of the profiles a previous session of
    this plugin wrote there (only where its marker file says it owns them)."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError("pyrometer: cannot create %s: %s" % (path, exc.strerror or exc))
    marker = os.path.join(path, MARKER_FILE)
    if os.path.exists(marker):
        for name in os.listdir(path):
            if name.endswith(".pyro"):
                try:
                    os.remove(os.path.join(path, name))
                except OSError:
                    pass
    elif any(n.endswith(".pyro") for n in os.listdir(path)):
        raise pytest.UsageError("pyrometer: %s holds profiles this plugin did not write; choose another "
                                "--pyrometer-dir" % path)
    with open(marker, "w") as f:
        f.write("profiles of pytest --pyrometer; removed by its next run\n")


def _file_for(nodeid):
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:120]
    return "%s-%s.pyro" % (stem, hashlib.sha1(nodeid.encode("utf-8")).hexdigest()[:8])


def _limits(item):
    out = []
    for name in ("limit_memory", "limit_leaks"):
        m = item.get_closest_marker(name)
        if m is None:
            continue
        if len(m.args) != 1 or m.kwargs:
            raise pytest.UsageError("pyrometer: @pytest.mark.%s takes one size, e.g. \"24 MB\" (%s)"
                                    % (name, item.nodeid))
        try:
            out.append((name, parse_size(m.args[0]), m.args[0]))
        except ValueError as exc:
            raise pytest.UsageError("pyrometer: @pytest.mark.%s on %s: %s" % (name, item.nodeid, exc))
    return out


def _sum(native, metric):
    try:
        return sum(native.values(metric))
    except ValueError:
        return 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    config = item.config
    enabled = config.getoption("pyrometer")
    limits = _limits(item)
    if not enabled and not limits:
        yield
        return
    mode = "memory" if limits else config.getoption("pyrometer_mode")
    memory_rate = config.getoption("pyrometer_memory_rate") or (LIMIT_MEMORY_RATE if limits else None)
    try:
        session = new_session(mode, rate=config.getoption("pyrometer_rate"), memory_rate=memory_rate)
        session.start(command="pytest " + item.nodeid)
    except (RuntimeError, ValueError) as exc:
        # Another profiler of the same kind runs (the program's own): the
        # test runs as it would, and says why it has no profile.
        item.user_properties.append(("pyrometer", "not profiled: %s" % exc))
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - t0
        session.stop()
    native = session.native
    native.set_meta("test", item.nodeid)
    native.set_meta("test_duration_s", elapsed)
    over = []
    for name, limit, text in limits:
        metric = "peak_space" if name == "limit_memory" else "leak_space"
        got = _sum(native, metric)
        if got > limit:
            what = "peak memory" if name == "limit_memory" else "memory leaked"
            over.append("%s %s is over the limit of %s (@pytest.mark.%s; pyrometer's sampled estimate)"
                        % (what, size_text(got), text, name))
    if over:
        item._pyrometer_over = "\n".join(over)
    if enabled:
        path = os.path.join(config.getoption("pyrometer_dir"), _file_for(item.nodeid))
        try:
            session.write(path, "pyro")
        except (OSError, ValueError) as exc:
            item.user_properties.append(("pyrometer", "cannot write %s: %s" % (path, exc)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    message = getattr(item, "_pyrometer_over", None)
    if call.when != "call" or not message:
        return
    rep = outcome.get_result()
    if rep.passed:
        rep.outcome = "failed"
        rep.longrepr = message
    elif rep.failed:
        rep.sections.append(("pyrometer", message))


def _profiles(directory):
    out = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".pyro") and name != COMBINED:
            out.append(os.path.join(directory, name))
    return out


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not config.getoption("pyrometer") or hasattr(config, "workerinput"):
        return
    from .. import _native
    from .._profile import ProfileData, load

    directory = config.getoption("pyrometer_dir")
    tr = terminalreporter
    tests = []
    combined = None
    for path in _profiles(directory):
        try:
            data = load(path)
        except (OSError, ValueError) as exc:
            tr.write_line("pyrometer: cannot read %s: %s" % (path, exc))
            continue
        native = data.native
        if combined is None:
            # An empty profile that every test's is merged into, the first
            # as the others (a copy through the file format is not the same
            # profile: its writer may leave frames out).
            combined = ProfileData(_native.Profile())
            for key in ("mode", "rate_hz"):
                if key in native.meta:
                    combined.native.set_meta(key, native.meta[key])
            combined.native.set_meta("test", "all tests")
            combined.native.set_meta("command", "pytest --pyrometer")
        combined.native.merge(native)
        tests.append((native.meta.get("test_duration_s", 0.0), native.meta.get("test", path), path, native))
    tr.section("pyrometer")
    if not tests:
        tr.write_line("no test was profiled")
        return
    combined_path = os.path.join(directory, COMBINED)
    combined.write(combined_path, "pyro")
    tr.write_line("%d test profile%s and the combined profile %s in %s" % (
        len(tests), "" if len(tests) == 1 else "s", COMBINED, directory))
    tests.sort(key=lambda t: -t[0])
    top = config.getoption("pyrometer_top")
    if top > 0:
        tr.write_line("slowest tests and their top functions (self):")
    for duration, nodeid, path, native in tests[:top]:
        tr.write_line("  %.3fs  %s  (%s)" % (duration, nodeid, os.path.basename(path)))
        rows = [r for r in native.func_stats() if r[3] > 0][:3]
        total = sum(r[3] for r in native.func_stats()) or 1
        for name, file, line, self_v, *_ in rows:
            tr.write_line("      %5.1f%%  %s  %s:%d" % (100.0 * self_v / total, name, os.path.basename(file), line))
