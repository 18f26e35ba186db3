"""Lines mode, @pyrometer.lines and pyrometer.LineProfiler: exact hits on
known programs, line times that add up (recursion not double-counted),
threads, targets, non-target code left alone."""
import inspect
import io
import linecache
import pickle
import sys
import threading
import time

import pytest

import pyrometer
from pyrometer import _lines, _native

from conftest import line_of, program, run_pyrometer

MON = sys.version_info >= (3, 12)


# ---- helpers -------------------------------------------------------------------------


def _rows_by_line(prof, file_suffix, thread=None):
    """{line: (hits, time_ns)} of the lines of one file, from the model."""
    native = prof.native if hasattr(prof, "native") else prof
    frames = native.frames()
    out = {}
    for frame, line, hits, t in _native.line_rows(native, thread):
        if frames[frame][1].endswith(file_suffix):
            h, tt = out.get(line, (0, 0))
            out[line] = (h + hits, tt + t)
    return out


def _run_lines(tmp_path, prog, *extra):
    out = tmp_path / "out.pyro"
    r = run_pyrometer("run", "--mode", "lines", *extra, "-o", str(out), program(prog))
    assert r.returncode == 0, r.stderr.decode()
    return pyrometer.load(str(out)), r


def _hits(rows, prog, mark):
    return rows.get(line_of(prog, mark), (0, 0))[0]


# ---- in-process programs ---------------------------------------------------------------


def loop(n):
    total = 0
    for i in range(n):
        total += i
        if i % 2 == 0:
            total += 1
    return total


def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)


def busy(n):
    s = 0
    for i in range(n):
        s += i * i
    time.sleep(0.01)
    return s


def not_a_target(n):
    s = 0
    for i in range(n):
        s += i
    return s


def calls_other(n):
    return not_a_target(n)


def gen(n):
    for i in range(n):
        yield i


def raiser(n):
    if n == 0:
        raise ValueError("x")
    raiser(n - 1)


def _first(func):
    return inspect.unwrap(func).__code__.co_firstlineno


def _def_line(func):
    """The line of ``def`` (co_firstlineno is the first decorator's)."""
    code = inspect.unwrap(func).__code__
    lines = linecache.getlines(code.co_filename)
    n = code.co_firstlineno
    while not lines[n - 1].lstrip().startswith(("def ", "async def ")):
        n += 1
    return n


def _lines_of(lp, func):
    """{line offset from def: (hits, time s)} from get_stats()."""
    st = lp.get_stats()
    first, d = _first(func), _def_line(func)
    for (file, f, name), rows in st.timings.items():
        if f == first and name.endswith(inspect.unwrap(func).__name__):
            return {ln - d: (h, t * st.unit) for ln, h, t in rows}
    return {}


# ---- exact hits ----------------------------------------------------------------------


def test_cli_exact_hits_and_threads(tmp_path):
    prof, r = _run_lines(tmp_path, "lines_known.py")
    P = "lines_known.py"
    rows = _rows_by_line(prof, P)
    expect = {
        "loop-init": 2, "loop-for": 22, "loop-body": 20, "loop-if": 20, "loop-even": 10, "loop-return": 2,
        "fact-test": 6, "fact-base": 1, "fact-rec": 5,
        "worker-for": 4 * 26 + 6, "worker-body": 4 * 25 + 5,
    }
    for mark, hits in expect.items():
        assert _hits(rows, P, mark) == hits, mark
    # per thread: four workers with 25 iterations, the main thread's 5
    per_thread = []
    for index, t in enumerate(prof.native.threads()):
        th = _rows_by_line(prof, P, index)
        if _hits(th, P, "worker-body"):
            per_thread.append(_hits(th, P, "worker-body"))
    assert sorted(per_thread) == [5, 25, 25, 25, 25]
    assert prof.meta["mode"] == "lines"
    assert set(prof.metrics) >= {"hits", "time"}
    # model shape: a function node under the thread root, its lines below it
    nodes = prof.native.nodes()
    frames = prof.native.frames()
    roots = {t[3] for t in prof.native.threads()}
    for i, (parent, frame, line, thread) in enumerate(nodes):
        if frame is not None and frame >= 0 and line > 0:
            pp, pf, pl, _ = nodes[parent]
            assert pf == frame and pl == 0 and pp in roots
            assert frames[frame][1].endswith(P)


def test_cli_report_layout_and_default_targets(tmp_path):
    r = run_pyrometer("run", "--mode", "lines", program("lines_known.py"))
    assert r.returncode == 0, r.stderr.decode()
    err = r.stderr.decode()
    assert "Timer unit: 1e-06 s" in err
    assert "Function: loop at line %d" % (line_of("lines_known.py", "loop-init") - 1) in err
    assert "Line #      Hits         Time  Per Hit   % Time  Line Contents" in err
    # the default targets are the program's own files: json (stdlib) is not
    assert "json" not in "".join(l for l in err.splitlines() if l.startswith("File:"))
    assert "encoder.py" not in err


def test_targets_select_exactly(tmp_path):
    prof, _ = _run_lines(tmp_path, "lines_known.py", "--target", "lines_known.py:loop", "--target", "fact")
    names = {prof.native.frames()[f][0] for f, _, _, _ in _native.line_rows(prof.native)}
    assert names == {"loop", "fact"}
    prof, _ = _run_lines(tmp_path, "lines_known.py", "--target", "json.encoder")
    files = {prof.native.frames()[f][1] for f, _, _, _ in _native.line_rows(prof.native)}
    assert files and all(f.endswith("json/encoder.py") for f in files)


def test_target_matching_nothing_warns_and_still_runs(tmp_path):
    out = tmp_path / "o.pyro"
    r = run_pyrometer("run", "--mode", "lines", "--target", "no_such_thing_xyz", "--target", "plain", "-o", str(out),
                      program("lines_decorated.py"))
    assert r.returncode == 0
    assert r.stdout.decode().split() == ["21", "21"]
    err = r.stderr.decode()
    assert "pyrometer: warning: target 'no_such_thing_xyz' matched no code" in err
    assert "'plain'" not in err
    prof = pyrometer.load(str(out))
    rows = _rows_by_line(prof, "lines_decorated.py")
    P = "lines_decorated.py"
    # @pyrometer.lines joins the targets
    assert _hits(rows, P, "dec-body") == 7 and _hits(rows, P, "dec-for") == 8
    assert _hits(rows, P, "plain-body") == 1


def test_target_usage_errors():
    r = run_pyrometer("run", "--target", "x", program("lines_known.py"))
    assert r.returncode == 2 and b"--target is for --mode lines" in r.stderr


# ---- times ---------------------------------------------------------------------------


def test_times_sum_to_function_total():
    lp = pyrometer.LineProfiler(busy)
    t0 = time.perf_counter()
    lp.runcall(busy, 20000)
    wall = time.perf_counter() - t0
    rows = _lines_of(lp, busy)
    total_lines = sum(t for h, t in rows.values())
    totals = {lp._tracer.userobjs[f]: (n, ns) for f, n, ns in lp._tracer.func_totals()}
    n, ns = totals[busy.__code__]
    assert n == 1
    assert abs(total_lines - ns * 1e-9) < 1e-6  # the same figure, up to rounding
    assert 0.01 <= total_lines <= wall
    assert rows[2][0] == 20001 and rows[3][0] == 20000
    assert rows[4][1] >= 0.009  # the sleep line


def test_recursion_not_double_counted(tmp_path):
    prof, r = _run_lines(tmp_path, "lines_recursion.py")
    P = "lines_recursion.py"
    rows = _rows_by_line(prof, P)
    assert _hits(rows, P, "rec-spin") == 21 and _hits(rows, P, "rec-test") == 21
    assert _hits(rows, P, "rec-call") == 20 and _hits(rows, P, "rec-return") == 21
    outer = float(r.stdout.decode().split()[1])
    first = line_of(P, "rec-spin") - 1
    rec_total = sum(t for ln, (h, t) in rows.items() if first < ln <= first + 4) * 1e-9
    assert 0.042 <= rec_total <= outer * 1.001
    # the calling line is charged only its own part, not the nested calls (~40 ms)
    assert rows[line_of(P, "rec-call")][1] * 1e-9 < 0.25 * rec_total
    assert rows[line_of(P, "rec-spin")][1] * 1e-9 > 0.75 * rec_total


def test_in_process_recursion_generators_exceptions():
    lp = pyrometer.LineProfiler(fact, gen, raiser)
    with lp:
        fact(8)
        assert list(gen(4)) == [0, 1, 2, 3]
        with pytest.raises(ValueError):
            raiser(3)
        fact(3)
    f = _lines_of(lp, fact)
    assert f[1][0] == 8 + 3 and f[2][0] == 2 and f[3][0] == 7 + 2
    g = _lines_of(lp, gen)
    assert g[1][0] == 5 and g[2][0] == 4
    rz = _lines_of(lp, raiser)
    assert rz[1][0] == 4 and rz[2][0] == 1 and rz[3][0] == 3
    totals = {lp._tracer.userobjs[fr]: ns for fr, n, ns in lp._tracer.func_totals()}
    assert abs(sum(t for h, t in f.values()) - totals[fact.__code__] * 1e-9) < 1e-6


def test_threads_in_process():
    lp = pyrometer.LineProfiler(loop)
    lp.enable()
    try:
        ts = [threading.Thread(target=loop, args=(100,)) for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        loop(100)
    finally:
        lp.disable()
    rows = _lines_of(lp, loop)
    assert rows[2][0] == 4 * 101 and rows[3][0] == 400 and rows[5][0] == 200


def test_threads_when_the_frame_evaluation_hook_is_taken():
    """3.9-3.11: while another session holds the frame-evaluation hook, the
    line tracer falls back to the trace hook on every thread, threads started
    later included (through threading's hook); same exact hits, and
    everything put back at disable()."""
    if MON:
        pytest.skip("sys.monitoring on 3.12+")
    holder = pyrometer.Profile(builtins=False)
    holder.enable()
    try:
        test_threads_in_process()
        assert sys.gettrace() is None
        assert threading._trace_hook is None
    finally:
        holder.disable()
    assert holder._tracer.hook == "eval"


# ---- the LineProfiler API -------------------------------------------------------------


def test_line_profiler_api():
    lp = pyrometer.LineProfiler()
    lp.add_function(loop)

    @lp
    def deco(n):
        return loop(n)

    assert deco(10) == 45 + 5
    assert lp.runcall(loop, 4) == 0 + 1 + 2 + 3 + 2
    rows = _lines_of(lp, loop)
    assert rows[3][0] == 14 and rows[1][0] == 2
    assert _lines_of(lp, deco)[1][0] == 1
    buf = io.StringIO()
    lp.print_stats(stream=buf)
    text = buf.getvalue()
    assert "Timer unit: 1e-06 s" in text and "Function: loop at line %d" % _first(loop) in text
    assert "for i in range(n):" in text
    st = pickle.loads(pickle.dumps(lp.get_stats()))
    assert st.unit == 1e-9 and any(name == "loop" for _, _, name in st.timings)


def test_line_profiler_bad_use():
    lp = pyrometer.LineProfiler(loop)
    with pytest.raises(RuntimeError, match="no line profile data"):
        lp.print_stats()
    with pytest.raises(RuntimeError, match="not enabled"):
        lp.disable()
    lp.enable()
    with pytest.raises(RuntimeError, match="already enabled"):
        lp.enable()
    lp.disable()
    with pytest.raises(RuntimeError, match="disable\\(\\) called twice"):
        lp.disable()
    with pytest.raises(TypeError):
        lp.add_function(len)


def test_lines_decorator_standalone():
    @pyrometer.lines
    def twice(n):
        s = 0
        for i in range(n):
            s += 2 * i
        return s

    assert twice(5) == 20 and twice(3) == 6
    rows = _lines_of(pyrometer.lines.profiler, twice)
    assert rows[1][0] == 2 and rows[2][0] == 6 + 4 and rows[3][0] == 8
    buf = io.StringIO()
    pyrometer.lines.print_stats(stream=buf)
    assert "Function: " in buf.getvalue() and "twice" in buf.getvalue()


# ---- non-target code -----------------------------------------------------------------


def test_non_target_code_not_traced():
    lp = pyrometer.LineProfiler(calls_other)
    seen = {}

    def probe():
        f = sys._getframe()
        seen["f_trace_lines"] = f.f_trace_lines
        seen["gettrace"] = sys.gettrace()
        if MON:
            mon = sys.monitoring
            tool = lp._tracer.tool_id
            seen["local"] = mon.get_local_events(tool, probe.__code__)
            seen["local_target"] = mon.get_local_events(tool, calls_other.__code__)
            seen["global"] = mon.get_events(tool)

    lp.enable()
    try:
        calls_other(50)
        probe()
    finally:
        lp.disable()
    names = {name for (_, _, name) in lp.get_stats().timings}
    assert names == {"calls_other"} or names == {"test_non_target_code_not_traced.<locals>.calls_other", "calls_other"}
    if MON:
        E = sys.monitoring.events
        assert seen["local"] == 0
        assert seen["local_target"] & E.LINE
        assert not seen["global"] & (E.LINE | E.PY_START | E.PY_RETURN)
        assert sys.monitoring.get_tool(lp._tracer.tool_id if lp._tracer.tool_id >= 0 else 2) is None
    else:
        # outside the targets' extent the thread is not traced at all
        assert lp._tracer.hook == "eval+trace"
        assert seen["gettrace"] is None
    # nothing stays switched on after disable()
    assert sys.gettrace() is None


def calls_fn(fn):
    return fn()


@pytest.mark.skipif(MON, reason="3.9-3.11: the trace hook")
def test_callee_of_target_not_line_traced():
    seen = {}

    def probe():
        seen["f_trace_lines"] = sys._getframe().f_trace_lines
        seen["gettrace"] = sys.gettrace()
        return 7

    lp = pyrometer.LineProfiler(calls_fn)
    lp.enable()
    try:
        assert calls_fn(probe) == 7
    finally:
        lp.disable()
    assert seen["gettrace"] is lp._tracer  # inside a target's extent: traced
    assert seen["f_trace_lines"] is False  # ...but a non-target frame has no line events
    assert {name for (_, _, name) in lp.get_stats().timings} == {"calls_fn"}
    assert sys.gettrace() is None


def test_enable_inside_a_target_frame():
    """A target frame that was running when tracing started still gets its
    remaining lines."""
    lp = pyrometer.LineProfiler()

    def body(n):
        lp.add_function(body)
        lp.enable()
        s = 0
        for i in range(n):
            s += i
        lp.disable()
        return s

    assert body(4) == 6
    rows = _lines_of(lp, body)
    assert rows[4][0] == 5 and rows[5][0] == 4


def test_selector_default_scope(tmp_path):
    sel = _lines.Selector((), root=str(tmp_path))
    src = tmp_path / "m.py"
    src.write_text("def f():\n    return 1\n")
    code = compile(src.read_text(), str(src), "exec")
    assert sel(code)
    import json

    assert not sel(json.dumps.__code__)
    assert not sel(_lines.Selector.__call__.__code__)
