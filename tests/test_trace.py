"""`pyrometer trace` against the stdlib's own `python -m trace` (and
coverage.py for --coverage-only) on the same programs: loops (one-line ones
too), comprehensions, generators (one left unfinished), exceptions across
frames, threads, recursion, decorators, classes and a -m package."""
import os
import re
import shutil
import subprocess
import sys
import sysconfig

import pytest

from conftest import PROGRAMS, pyrometer_lines, run_pyrometer

TRACING = PROGRAMS / "tracing"
STDLIB = os.path.dirname(sysconfig.get_paths()["stdlib"])


def _run_trace(*args, cwd):
    """`python -m trace ARGS` with the stdlib left out, as pyrometer does."""
    return subprocess.run(
        [sys.executable, "-m", "trace", "--ignore-dir", sys.base_prefix, "--ignore-dir", STDLIB]
        + ["--module" if a == "-m" else str(a) for a in args],
        cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
        env=dict(os.environ, PYTHONPATH=str(TRACING)),
    )


def _run_ours(*args, cwd):
    return run_pyrometer("trace", *args, cwd=cwd, timeout=300, env={"PYTHONPATH": str(TRACING)})


def _cover(path):
    """{line number: count or '>>>>>>' or None} of a .cover file, and its text
    without the prefixes (which must be the source)."""
    marks, text = {}, []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        prefix, rest = line[:7], line[7:]
        m = re.match(r"^\s*(\d+): $", prefix)
        marks[n] = int(m.group(1)) if m else (">>>>>>" if prefix == ">>>>>> " else None)
        if not m:
            assert prefix in (">>>>>> ", "       "), line
        text.append(rest)
    return marks, text


def _both_count(tmp_path, *program, extra=()):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    a = _run_ours("--count", "--missing", "--summary", "--coverdir", ours, *extra, *program, cwd=tmp_path)
    b = _run_trace("--count", "--missing", "--summary", "--coverdir", theirs, *program, cwd=tmp_path)
    return a, b, ours, theirs


def _summary(stdout):
    return [l.split() for l in stdout.decode().splitlines() if re.match(r"^\s*\d+\s+\d+%", l)]


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="the stdlib trace of 3.14+ counts and names generators and its summary differently; compared on 3.9-3.13")
@pytest.mark.parametrize("program", ["mixed.py", "deep.py"])
def test_count_equals_stdlib_trace(tmp_path, program):
    a, b, ours, theirs = _both_count(tmp_path, TRACING / program)
    assert b.returncode == 0, b.stderr
    assert a.returncode == 0, a.stderr
    assert a.stdout.split(b"lines   cov%")[0] == b.stdout.split(b"lines   cov%")[0]  # the program's output
    names = sorted(p.name for p in theirs.iterdir())
    assert names == sorted(p.name for p in ours.iterdir()) == [program.replace(".py", ".cover")]
    for name in names:
        assert _cover(ours / name) == _cover(theirs / name)
    counts = _cover(ours / names[0])[0]
    assert max(v for v in counts.values() if isinstance(v, int)) > 20  # the loops were counted, not just seen
    assert _summary(a.stdout) == _summary(b.stdout) and _summary(a.stdout)


def test_count_module_equals_stdlib_trace(tmp_path):
    a, b, ours, theirs = _both_count(tmp_path, "-m", "tpkg", "banana", "kiwi")
    assert b.returncode == 0 and a.returncode == 0, (a.stderr, b.stderr)
    assert b"refused negative: -1" in a.stdout
    names = sorted(p.name for p in theirs.iterdir())
    assert sorted(p.name for p in ours.iterdir()) == names
    assert "tpkg.helpers.cover" in names
    for name in names:
        assert _cover(ours / name) == _cover(theirs / name)
    helpers = _cover(ours / "tpkg.helpers.cover")[0]
    assert ">>>>>>" in helpers.values()  # unused() never ran and is marked
    assert _summary(a.stdout) == _summary(b.stdout)


def _funcs(stdout):
    return {l for l in stdout.decode().splitlines() if l.startswith("filename: ") and str(TRACING) in l}


def _pairs(stdout):
    """(caller, callee) pairs of trace's "calling relationships" whose caller
    is in the programs' files and whose callee is one of their modules (the
    callee's file is not always printed: trace writes "--> FILE" only when it
    changes to another file than the caller's)."""
    ours = {p.stem for p in TRACING.rglob("*.py")}
    pairs, src = set(), None
    text = stdout.decode().split("calling relationships:", 1)
    for line in text[1].splitlines() if len(text) > 1 else ():
        if line.startswith("*** "):
            src = line[4:-4]
        elif line.startswith("    ") and " -> " in line:
            caller, callee = line.strip().split(" -> ")
            if src.startswith(str(TRACING)) and callee.split(".")[0] in ours:
                pairs.add((caller, callee))
    return pairs


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="the stdlib trace of 3.14+ counts and names generators and its summary differently; compared on 3.9-3.13")
@pytest.mark.parametrize("program", [("mixed.py",), ("deep.py",), ("-m", "tpkg", "apple")])
def test_listfuncs_and_trackcalls_equal_stdlib_trace(tmp_path, program):
    program = [str(TRACING / p) if p.endswith(".py") else p for p in program]
    a = _run_ours("--listfuncs", "--trackcalls", *program, cwd=tmp_path)
    b = _run_trace("--listfuncs", *program, cwd=tmp_path)
    c = _run_trace("--trackcalls", *program, cwd=tmp_path)
    assert a.returncode == b.returncode == c.returncode == 0, a.stderr
    assert _funcs(a.stdout) == _funcs(b.stdout)
    assert len(_funcs(a.stdout)) >= 3
    assert _pairs(a.stdout) == _pairs(c.stdout)
    assert len(_pairs(a.stdout)) >= 3


def test_trace_lines_in_order(tmp_path):
    """--trace gives the program's lines in the order stdlib trace prints them."""
    log = tmp_path / "log.txt"
    a = _run_ours("--trace", "--trace-file", log, TRACING / "deep.py", cwd=tmp_path)
    b = _run_trace("--trace", TRACING / "deep.py", cwd=tmp_path)
    assert a.returncode == b.returncode == 0, a.stderr
    ours = []
    for line in log.read_text().splitlines():
        m = re.match(r"^(\d+\.\d+) (\S+) (\S+\(\d+\)): ", line)
        assert m, line
        assert m.group(2) == "MainThread"
        ours.append(m.group(3))
    theirs = re.findall(r"^(deep\.py\(\d+\)): ", b.stdout.decode(), re.M)
    assert ours == theirs and len(ours) > 100
    times = [float(l.split()[0]) for l in log.read_text().splitlines()]
    assert times == sorted(times)


def test_trace_limit_and_threads(tmp_path):
    log = tmp_path / "log.txt"
    a = _run_ours("--trace", "--trace-file", log, "--limit", "50", TRACING / "mixed.py", cwd=tmp_path)
    assert a.returncode == 0
    lines = log.read_text().splitlines()
    assert len(lines) == 50
    [note] = pyrometer_lines(a.stderr)
    assert "after the first 50 (--limit)" in note
    full = tmp_path / "full.txt"
    a = _run_ours("--trace", "--trace-file", full, TRACING / "mixed.py", cwd=tmp_path)
    threads = {l.split()[1] for l in full.read_text().splitlines()}
    assert threads == {"MainThread", "Thread-1"} or threads == {"MainThread", "Thread-1 (work)"}


def _coverage_lines(tmp_path, program):
    pytest.importorskip("coverage")
    data = tmp_path / ".coverage"
    r = subprocess.run([sys.executable, "-m", "coverage", "run", "--data-file", str(data), str(program)],
                       cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    assert r.returncode == 0, r.stderr
    import coverage

    cov = coverage.CoverageData(basename=str(data))
    cov.read()
    return set(cov.lines(str(program)))


@pytest.mark.parametrize("program", ["mixed.py", "deep.py"])
def test_coverage_only_marks_what_coverage_py_marks(tmp_path, program):
    path = TRACING / program
    expected = _coverage_lines(tmp_path, path)
    out = tmp_path / "cov"
    a = _run_ours("--coverage-only", "--coverdir", out, path, cwd=tmp_path)
    assert a.returncode == 0, a.stderr
    marks = _cover(out / program.replace(".py", ".cover"))[0]
    assert {n for n, v in marks.items() if v == 1} == expected
    assert not [v for v in marks.values() if isinstance(v, int) and v != 1]
    assert len(expected) > 10


_STARTED_INSIDE = """\
import sys
from pyrometer import _native


def helper(i):
    return i + 1


def start(counter):
    counter.enable()
    x = helper(0)
    return x


def outer(counter):
    start(counter)
    x = helper(1)
    counter.disable()
    return x


# The same size of frame, so that outer's frame object (3.11: made at its
# first line event after start returns) is likely to reuse start's memory.
assert start.__code__.co_stacksize == outer.__code__.co_stacksize
counter = _native.LineCounter(lambda code: code.co_filename == __file__)
outer(counter)
for idx, line, n in counter.counts():
    code = counter.codes[idx]
    print(code.co_name, line - code.co_firstlineno, n)
"""


def test_counts_stay_with_their_frame_when_started_inside_frames(tmp_path):
    """Frames already running when counting starts (start, outer) have no
    call event, and on 3.11 get their frame object only at their first line
    event, from memory a returned frame may just have freed: their lines
    must still be counted as theirs, never as the returned frame's."""
    program = tmp_path / "inside.py"
    program.write_text(_STARTED_INSIDE)
    r = subprocess.run([sys.executable, str(program)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    rows = sorted(tuple(int(v) if v.isdigit() else v for v in l.split()) for l in r.stdout.decode().splitlines())
    if sys.version_info < (3, 12):
        # The C trace hook reports the running frames' lines too.
        assert rows == [("helper", 1, 2), ("outer", 2, 1), ("outer", 3, 1), ("start", 2, 1), ("start", 3, 1)]
    else:
        # sys.monitoring's line events are switched on per code object seen
        # starting: the frames already running report none, as sys.settrace
        # gives stdlib trace none for them.
        assert rows == [("helper", 1, 2)]


def test_program_ending_kept(tmp_path):
    """Exit status, output and traceback are the program's; results are still written."""
    out = tmp_path / "c"
    a = _run_ours("--count", "--coverdir", out, TRACING / "deep.py", "7", cwd=tmp_path)
    plain = subprocess.run([sys.executable, str(TRACING / "deep.py"), "7"], stdout=subprocess.PIPE)
    assert a.returncode == plain.returncode == 7
    assert a.stdout == plain.stdout
    assert (out / "deep.cover").exists()
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    raise RuntimeError('boom')\nf()\n")
    a = _run_ours("--count", "--coverdir", out, bad, cwd=tmp_path)
    plain = subprocess.run([sys.executable, str(bad)], stderr=subprocess.PIPE)
    assert a.returncode == plain.returncode == 1
    assert a.stderr == plain.stderr
    assert _cover(out / "bad.cover")[0][3] == 1


@pytest.mark.parametrize("args, says", [
    (["--count", "--coverdir", "FILE", "PROG"], "is not a directory"),
    (["--trace", "--limit", "0", "PROG"], "--limit"),
    (["--count", "--bogus", "PROG"], "unknown option"),
    (["PROG"], "at least one of"),
    (["--count"], "missing the program"),
    (["--coverage-only", "--trace", "PROG"], "--coverage-only"),
    (["--count", "--target", "no.such.module", "PROG"], "matched no code"),
])
def test_bad_input_is_one_line(tmp_path, args, says):
    afile = tmp_path / "afile"
    afile.write_text("x")
    args = [str(afile) if a == "FILE" else str(TRACING / "deep.py") if a == "PROG" else a for a in args]
    a = _run_ours(*args, cwd=tmp_path)
    assert a.returncode != 0
    lines = a.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyrometer: ") and says in lines[0], lines
    assert b"Traceback" not in a.stderr


# ---- pyrometer run --mode timeline --------------------------------------------------


def _timeline(tmp_path, *args, program="timeline_prog.py", argv=()):
    out = tmp_path / "t.pyro"
    r = run_pyrometer("run", "--mode", "timeline", "-o", out, *args, TRACING / program, *argv, cwd=tmp_path,
                      timeout=300)
    from pyrometer import _native

    return r, _native.Profile.from_bytes(out.read_bytes()) if out.exists() else None


def _slices(prof):
    """Per thread: the B/E events of the Chrome trace, checked balanced and in
    order (every E closes the innermost open B of its thread)."""
    import json

    doc = json.loads(prof.to_bytes("chrome"))
    assert doc["otherData"]["layout"] == "timeline"
    stacks, names, last = {}, {}, {}
    for e in doc["traceEvents"]:
        if e["ph"] == "M":
            continue
        assert e["ph"] in "BE", e
        assert e["ts"] >= last.get(e["tid"], 0)
        last[e["tid"]] = e["ts"]
        if e["ph"] == "B":
            stacks.setdefault(e["tid"], []).append(e["name"])
            names.setdefault(e["tid"], []).append(e["name"])
        else:
            assert stacks.get(e["tid"]), "E without B"
            stacks[e["tid"]].pop()
    assert all(not s for s in stacks.values()), stacks
    return doc, names


def test_timeline_balanced_with_exceptions_generators_threads(tmp_path):
    from test_outputs_interchange import test_chrome_trace_balanced_and_ordered, test_gecko_structure

    r, prof = _timeline(tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"144 [0, 0, 0]\ndone\n"
    test_chrome_trace_balanced_and_ordered(prof)
    test_gecko_structure(prof)
    doc, names = _slices(prof)
    main = max(names.values(), key=len)
    assert main.count("down") == 31  # the exception left 31 frames, each closed
    assert main.count("numbers") == 3 and main.count("last_call") == 1
    assert sum(1 for n in names.values() if "spin" in n) == 1  # the daemon thread, open at exit, closed
    # Each frame the exception passed shows an instant "raise LookupError":
    # 3.12+ (the RAISE event) the 31 down() and the module that catches it;
    # 3.9-3.11 (a frame's evaluation ending by an exception) the 31 down().
    raises = main.count("raise LookupError")
    assert raises == (32 if sys.version_info >= (3, 12) else 31), raises
    # The call tree is the same profile: fib's calls in pstats = its slices.
    import pstats

    path = tmp_path / "t.prof"
    path.write_bytes(prof.to_bytes("pstats"))
    st = pstats.Stats(str(path)).stats
    [fib] = [v for k, v in st.items() if k[2] == "fib"]
    assert fib[1] == main.count("fib") == 465


def test_timeline_after_ctrl_c(tmp_path):
    r, prof = _timeline(tmp_path, argv=["interrupt"])
    plain = subprocess.run([sys.executable, str(TRACING / "timeline_prog.py"), "interrupt"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == plain.returncode != 0
    assert b"KeyboardInterrupt" in r.stderr
    doc, names = _slices(prof)
    main = max(names.values(), key=len)
    assert main.count("deep_interrupt") == 13


def test_timeline_cap_keeps_newest(tmp_path):
    r, prof = _timeline(tmp_path, "--timeline-cap", "200")
    assert r.returncode == 0
    notes = pyrometer_lines(r.stderr)
    assert len(notes) == 2 and notes[1].startswith("pyrometer: wrote ")
    assert "oldest" in notes[0] and "dropped" in notes[0]
    doc, names = _slices(prof)
    assert doc["otherData"]["events_dropped"] > 100
    assert prof.counts()["events"] <= 200
    main = max(names.values(), key=len)
    assert "last_call" in main and "down" not in main  # the end kept, the start dropped


def test_timeline_usage_errors(tmp_path):
    for args, says in ((["--timeline-cap", "0"], "--timeline-cap above 0"),
                       (["--target", "x"], "--target is for")):
        r = run_pyrometer("run", "--mode", "timeline", *args, TRACING / "deep.py", cwd=tmp_path)
        lines = r.stderr.decode().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and says in lines[0], lines


@pytest.mark.parametrize("builtins", [[], ["--builtins"]])
def test_timeline_spans_marks_and_gc(tmp_path, builtins):
    """pyrometer.span / mark and GC runs are slices between the calls around
    them; without a timeline they do nothing (same output)."""
    r, prof = _timeline(tmp_path, *builtins, program="spans.py")
    plain = subprocess.run([sys.executable, str(TRACING / "spans.py")], stdout=subprocess.PIPE)
    assert r.returncode == plain.returncode == 0, r.stderr
    assert r.stdout == plain.stdout == b"ok\n"
    doc, names = _slices(prof)
    main = max(names.values(), key=len)
    assert main.count("phase one") == 1 and main.count("checkpoint") == 1 and main.count("decorated span") == 1
    assert any(n.startswith("<gc gen 2>") for n in main)
    # nesting: work() runs inside the span, and the span inside phase()
    stack, inside = [], set()
    for e in doc["traceEvents"]:
        if e["ph"] == "B" and names.get(e["tid"]) is main:
            if "phase one" in stack:
                inside.add(e["name"])
            if e["name"] == "phase one":
                assert stack[-1] == "phase", stack
            stack.append(e["name"])
        elif e["ph"] == "E" and names.get(e["tid"]) is main:
            stack.pop()
    assert {"work", "checkpoint"} <= inside


def _instants_by_function(doc, names):
    """Per thread: [(enclosing function, text)] of the --log-args instants."""
    stacks, seen = {}, {}
    for e in doc["traceEvents"]:
        if e["ph"] == "B":
            if e["name"].startswith(("args: ", "return: ")):
                seen.setdefault(e["tid"], []).append((stacks[e["tid"]][-1], e["name"]))
            stacks.setdefault(e["tid"], []).append(e["name"])
        elif e["ph"] == "E":
            stacks[e["tid"]].pop()
    return seen


def test_log_args_show_arguments_and_return_values(tmp_path):
    r, prof = _timeline(tmp_path, "--log-args", "^(scaled_sum|count_up|boxed)$", program="logargs.py")
    plain = subprocess.run([sys.executable, str(TRACING / "logargs.py")], stdout=subprocess.PIPE)
    assert r.returncode == plain.returncode == 0, r.stderr
    assert r.stdout == plain.stdout == b"39\n"
    doc, names = _slices(prof)
    seen = _instants_by_function(doc, names)
    main = max(seen.values(), key=len)
    [worker] = [v for v in seen.values() if v is not main]
    assert main[:7] == [
        ("scaled_sum", "args: a=0, b=5, *rest=(7,), scale=2, **kw={'k': 'v'}"), ("scaled_sum", "return: 10"),
        ("scaled_sum", "args: a=1, b=5, *rest=(7,), scale=2, **kw={'k': 'v'}"), ("scaled_sum", "return: 12"),
        ("scaled_sum", "args: a=2, b=5, *rest=(7,), scale=2, **kw={'k': 'v'}"), ("scaled_sum", "return: 14"),
        ("count_up", "args: n=3"),  # once, though the generator was resumed four times
    ], main
    # a failing repr is named, not raised; a long one is cut
    assert main[7:9] == [("boxed", "args: x=<repr failed: Bad>"), ("boxed", "return: <repr failed: Box>")], main
    (_, args), (_, ret) = main[9:11]
    assert args.startswith("args: x='xxx") and args.endswith("...") and len(args) == len("args: x=") + 80
    assert ret.startswith("return: Box('xxx") and ret.endswith("...")
    assert len(main) == 11  # untouched() does not match: nothing inside it
    assert worker == [("scaled_sum", "args: a=10, b=20, *rest=(), scale=1, **kw={}"), ("scaled_sum", "return: 30")]


def test_log_args_bad_input(tmp_path):
    for mode, pattern, status, says in (("timeline", "(", 2, "invalid --log-args"),
                                        ("calls", "scaled_sum", 2, "--log-args is for --mode timeline"),
                                        ("timeline", "^nothing_like_this$", 1, "matched no function that ran")):
        out = tmp_path / "nothing.trace.json"
        r = run_pyrometer("run", "--mode", mode, "--log-args", pattern, "-o", out, TRACING / "logargs.py",
                          cwd=tmp_path)
        said = [line for line in pyrometer_lines(r.stderr) if not line.startswith("pyrometer: wrote ")]
        assert r.returncode == status and len(said) == 1 and says in said[0], (r.returncode, r.stderr)
        assert b"Traceback" not in r.stderr
        if status == 1:  # the run is kept
            assert r.stdout == b"39\n" and out.exists()
