"""The drop-in promise: `pyrometer run --mode calls` and `python -m
pyrometer.cprofile` give what `python -m cProfile` gives on the same program
(pstats keys, call counts, primitive calls, callers; timings aside), and
`convert` keeps everything a source file has (a cProfile .prof, the collapsed
stacks of py-spy, Austin, perf/stackcollapse).

The collapsed files under tests/profiles/ are the real tools' output of
tests/profiles' program (py-spy 0.4.3 `record -f raw`, Austin 3.7.0 in wall,
cpu, memory and full+GC modes, from PyPI's py-spy and austin-dist); the tests
also run py-spy itself when it is installed and allowed to trace."""
import marshal
import os
import pstats
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pyrometer
from conftest import program, run_plain, run_pyrometer

PROG = program("parity_prog.py")
PROFILES = Path(__file__).resolve().parent / "profiles"

# cProfile's own machinery in its table: the profiler's disable(), and the
# exec() its runctx runs the program with (pyrometer's runner calls exec too,
# and leaves it out: the program's stacks start at its <module>).  The
# program below never calls exec itself.
_DISABLE = ("~", 0, "<method 'disable' of '_lsprof.Profiler' objects>")
_EXEC = ("~", 0, "<built-in method builtins.exec>")


def _counts(path):
    """{key: (primitive calls, calls, {caller: (calls, primitive calls)})}
    as pstats reads the file: everything but the timings."""
    st = pstats.Stats(str(path)).stats
    out = {}
    for key, (cc, nc, _tt, _ct, callers) in st.items():
        if key in (_DISABLE, _EXEC):
            continue
        out[key] = (cc, nc, {c: tuple(v[:2]) for c, v in callers.items() if c not in (_DISABLE, _EXEC)})
    return out


def _cprofile(tmp_path, *args):
    out = tmp_path / "c.prof"
    r = run_plain("-m", "cProfile", "-o", out, *args)
    assert r.returncode == 0, r.stderr.decode()
    return out


def _pyrometer(tmp_path, *args, options=()):
    out = tmp_path / "p.prof"
    r = run_pyrometer("run", "--mode", "calls", *options, "-o", out, *args)
    assert r.returncode == 0, r.stderr.decode()
    return out


def test_same_pstats_as_cprofile(tmp_path):
    """Keys (file, first line, code name; builtins as cProfile names them),
    calls, primitive calls and callers equal cProfile's exactly."""
    theirs = _counts(_cprofile(tmp_path, PROG))
    ours = _counts(_pyrometer(tmp_path, PROG))
    assert set(ours) == set(theirs)
    assert ours == theirs
    # What the comparison covers: recursion (n/m), code names, builtins.
    visit = (PROG, 25, "visit")
    assert theirs[visit][:2] == (1, 31)
    assert theirs[visit][2][visit] == (30, 2)  # the root visit's two calls are primitive for the pair
    assert (PROG, 15, "size") in ours and (PROG, 76, "<lambda>") in ours
    assert ("~", 0, "<built-in method builtins.len>") in ours
    assert ("~", 0, "<method 'extend' of 'list' objects>") in ours


def test_no_builtins_leaves_them_in_their_caller(tmp_path):
    ours = _counts(_pyrometer(tmp_path, PROG, options=["--no-builtins"]))
    assert not [k for k in ours if k[0] == "~"]
    assert ours[(PROG, 25, "visit")][:2] == (1, 31)


def test_cprofile_module_command_line(tmp_path):
    """python -m pyrometer.cprofile takes cProfile's -o, -s and -m."""
    theirs = _counts(_cprofile(tmp_path, PROG))
    out = tmp_path / "m.prof"
    r = run_plain("-m", "pyrometer.cprofile", "-s", "tottime", "-o", out, PROG)
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    assert r.stdout.decode().startswith("285 3 2")  # the program's own output only
    assert _counts(out) == theirs

    # No -o: cProfile's table on stdout, directories stripped, sorted by -s.
    r = run_plain("-m", "pyrometer.cprofile", "-s", "ncalls", PROG)
    plain = run_plain("-m", "cProfile", "-s", "ncalls", PROG)
    assert r.returncode == 0 and plain.returncode == 0
    ours, theirs = r.stdout.decode(), plain.stdout.decode()
    assert "Ordered by: call count" in ours
    header = "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)"
    assert header in ours.splitlines()

    def rows(text):
        body = text.split(header, 1)[1].strip().splitlines()
        return sorted((line.split()[0], line.split(None, 5)[5]) for line in body if line.strip()
                      and "_lsprof.Profiler" not in line and "builtins.exec}" not in line)

    assert rows(ours) == rows(theirs)
    assert ("31/1", "parity_prog.py:25(visit)") in rows(ours)

    # -m module, as cProfile runs it.
    r = run_plain("-m", "pyrometer.cprofile", "-o", tmp_path / "mod.prof", "-m", "parity_prog",
                  cwd=Path(PROG).parent)
    assert r.returncode == 0, r.stderr
    st = pstats.Stats(str(tmp_path / "mod.prof")).stats
    assert any(k[2] == "visit" and v[:2] == (1, 31) for k, v in st.items())


def test_sort_keys_are_pstats_keys(tmp_path):
    from pyrometer._calls import SORT_KEYS

    assert SORT_KEYS == set(pstats.Stats.sort_arg_dict_default)
    r = run_pyrometer("run", "--mode", "calls", "-s", "tottime", PROG)
    assert r.returncode == 0
    assert "Ordered by: internal time" in r.stderr.decode()
    assert "31/1" in r.stderr.decode()  # the ncalls column, n/m for recursion


def test_prof_round_trip_is_identical(tmp_path):
    """cProfile .prof -> .pyro -> .prof: the same dict, timings included."""
    src = _cprofile(tmp_path, PROG)
    pyro, back = tmp_path / "c.pyro", tmp_path / "back.prof"
    assert run_pyrometer("convert", src, pyro).returncode == 0
    assert run_pyrometer("convert", pyro, back).returncode == 0
    a = marshal.loads(src.read_bytes())
    b = marshal.loads(back.read_bytes())
    assert a == b
    visit = [v for k, v in b.items() if k[2] == "visit"][0]
    assert visit[:2] == (1, 31)  # primitive calls kept (not 31/31)


def test_prof_from_pyrometer_round_trips(tmp_path):
    src = _pyrometer(tmp_path, PROG)
    back = tmp_path / "back.prof"
    assert run_pyrometer("convert", src, tmp_path / "x.pyro").returncode == 0
    assert run_pyrometer("convert", tmp_path / "x.pyro", back).returncode == 0
    assert marshal.loads(src.read_bytes()) == marshal.loads(back.read_bytes())


def test_qualified_names_stay_in_the_model(tmp_path):
    out = tmp_path / "p.pyro"
    r = run_pyrometer("run", "--mode", "calls", "-o", out, PROG)
    assert r.returncode == 0
    names = {f[0] for f in pyrometer.load(str(out)).native.frames()}
    if sys.version_info >= (3, 11):  # co_qualname
        assert {"Visitor.visit", "Node.size", "outer.<locals>.inner"} <= names


# ---- collapsed stacks of other tools ------------------------------------------


def _load(path):
    return pyrometer.load(str(path))


def _total(profile, metric):
    return sum(sum(s.values()) for s in profile.stacks(metric).values())


def _lines(text):
    return sorted(line for line in text.splitlines() if line and not line.startswith("#"))


@pytest.mark.parametrize("name", ["pyspy_plain.txt", "pyspy_threads_idle.txt"])
def test_pyspy_files_convert_whole(tmp_path, name):
    src = PROFILES / name
    text = src.read_text()
    p = _load(src)
    assert _total(p, "samples") == sum(int(line.rsplit(" ", 1)[1]) for line in _lines(text))
    # py-spy's (file:line) is the running line: one frame per function,
    # the lines on the stacks.
    leafs = {f for f in p.native.frames() if f[0] == "leaf"}
    assert len(leafs) == 1 and p.meta["lines"] == "current"
    # Written back as collapsed stacks: the very same lines.
    out = tmp_path / "back.collapsed"
    r = run_pyrometer("convert", src, out)
    assert r.returncode == 0, r.stderr
    assert _lines(out.read_text()) == _lines(text)


def test_pyspy_empty_stacks(tmp_path):
    """py-spy writes ' 22' for samples with no Python frame (written by hand
    here in its format: a frameless thread is hard to provoke on purpose)."""
    src = tmp_path / "empty.txt"
    src.write_text(" 22\n<module> (prog.py:3);main (prog.py:9) 5\n")
    p = _load(src)
    assert _total(p, "samples") == 27
    assert sum(w for s in p.stacks("samples").values() for st, w in s.items() if len(st) == 0) == 22
    out = tmp_path / "back.collapsed"
    assert run_pyrometer("convert", src, out).returncode == 0
    assert _lines(out.read_text()) == _lines(src.read_text())


def test_pyspy_live(tmp_path):
    """py-spy itself (test extra), recording a program; its file converts."""
    spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(spy):
        pytest.fail("py-spy is a test dependency (pip install '.[test]')")
    out = tmp_path / "raw.txt"
    r = subprocess.run([spy, "record", "-f", "raw", "--threads", "-r", "200", "-o", str(out), "--",
                        sys.executable, str(PROFILES / "sampled.py")], capture_output=True, timeout=120)
    if r.returncode != 0 and b"ermission" in r.stderr + r.stdout:
        pytest.skip("py-spy may not trace processes here: %s" % r.stderr.decode()[-200:])
    assert r.returncode == 0, r.stderr
    p = _load(out)
    assert _total(p, "samples") == sum(int(line.rsplit(" ", 1)[1]) for line in _lines(out.read_text()))
    assert any("MainThread" in t.name for t in p.threads)


@pytest.mark.parametrize("name,metrics", [
    ("austin_wall.austin", {"samples", "wall"}),
    ("austin_cpu.austin", {"samples", "cpu"}),
    ("austin_memory.austin", {"samples", "memory"}),
    ("austin_full_gc.austin", {"samples", "wall", "cpu", "memory", "idle", "gc"}),
])
def test_austin_files_convert_whole(tmp_path, name, metrics):
    src = PROFILES / name
    samples = [line for line in _lines(src.read_text())]
    p = _load(src)
    assert set(p.metrics) == metrics
    assert _total(p, "samples") == len(samples)
    pids_tids = {" ".join(line.rsplit(" ", 1)[0].split(";")[:2]) for line in samples}
    assert {t.name for t in p.threads} == pids_tids
    values = [line.rsplit(" ", 1)[1].split(",") for line in samples]
    if "full" in name:
        assert _total(p, "wall") == 1000 * sum(int(v[0]) for v in values)
        assert _total(p, "cpu") == 1000 * sum(int(v[0]) for v in values if v[1] == "0")
        assert _total(p, "idle") == sum(v[1] != "0" for v in values)
        assert _total(p, "memory") == sum(int(v[2]) for v in values)
        assert _total(p, "gc") == sum(line.split(" ")[0].endswith(";:GC:") for line in samples) > 0
        assert not [f for f in p.native.frames() if "GC" == f[0]]  # a metric, not a frame
    else:
        metric = (metrics - {"samples"}).pop()
        scale = 1 if metric == "memory" else 1000
        assert _total(p, metric) == scale * sum(int(v[0]) for v in values)
    # Every frame is (function, file) with its running line on the stack.
    leaf = [f for f in p.native.frames() if f[0] == "leaf"]
    assert len(leaf) == 1 and leaf[0][1].endswith("sampled.py")
    lines_seen = {st[-1][2] for s in p.stacks("samples").values() for st in s if st and st[-1][0] == "leaf"}
    assert lines_seen and lines_seen <= {8, 9, 10}


def test_perf_stackcollapse_and_decimal_counts(tmp_path):
    """perf script | stackcollapse-perf.pl lines (bare names, [unknown],
    kernel annotations), and flamegraph.pl's decimal counts (written by hand
    in their documented formats: neither tool installs from PyPI)."""
    src = tmp_path / "perf.folded"
    src.write_text(
        "python3;_start;__libc_start_main;Py_RunMain;[unknown];_PyEval_EvalFrameDefault 12\n"
        "python3;_start;__libc_start_main;Py_RunMain;do_syscall_64_[k] 3\n"
    )
    p = _load(src)
    assert _total(p, "samples") == 15
    out = tmp_path / "back.folded"
    assert run_pyrometer("convert", src, out).returncode == 0
    assert _lines(out.read_text()) == _lines(src.read_text())

    dec = tmp_path / "dec.folded"
    dec.write_text("a;b 1.5\na;c 0.25\na 2\n")
    p = _load(dec)
    assert p.metrics == {"weight": "1e-6"}
    assert _total(p, "weight") == 3750000
    out = tmp_path / "dec_back.folded"
    assert run_pyrometer("convert", dec, out).returncode == 0
    assert _lines(out.read_text()) == _lines(dec.read_text())


# ---- bad input: one clear line ----------------------------------------------


def _one_line(proc, status):
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == status, err
    assert err.count("\n") == 1 and err.startswith("pyrometer: ") and "Traceback" not in err, err
    assert proc.stdout == b""
    return err


@pytest.mark.parametrize("args,words", [
    (["--html", "-o", "x.pyro"], ["--html", "x.pyro"]),
    (["--html", "--format", "pstats"], ["--html", "--format"]),
    (["--builtins"], ["--builtins", "--mode wall"]),
    (["--mode", "cpu", "--no-builtins"], ["--no-builtins", "--mode cpu"]),
    (["--mode", "calls", "--rate", "100"], ["--rate", "--mode calls"]),
    (["--mode", "calls", "--no-idle"], ["--no-idle", "--mode calls"]),
    (["--mode", "lines", "--sort", "tottime"], ["--sort", "--mode lines"]),
    (["--mode", "calls", "--timeline-cap", "5"], ["--timeline-cap", "--mode calls"]),
    (["--mode", "calls", "-s", "speed"], ["-s", "speed", "tottime"]),
    (["--mode", "calls", "--show-all"], ["--show-all", "--mode calls"]),
    (["--mode", "lines", "--top", "5"], ["--top", "--mode lines"]),
])
def test_bad_options_one_line(tmp_path, args, words):
    err = _one_line(run_pyrometer("run", *args, PROG, cwd=tmp_path), 2)
    for w in words:
        assert w in err
    assert not list(tmp_path.iterdir())  # nothing written, the program never ran


def test_cprofile_module_bad_usage():
    _one_line(run_plain("-m", "pyrometer.cprofile", "-s", "speed", PROG), 2)
    _one_line(run_plain("-m", "pyrometer.cprofile", "-x", PROG), 2)


@pytest.mark.parametrize("data", [
    marshal.dumps([1, 2, 3]),  # marshal, but not a dict
    marshal.dumps({("f.py", 1, "f"): (1, 1, 0.0)}),  # a dict, not pstats' values
    marshal.dumps({("f.py", 1, "f"): (1, 1, 0.0, 0.0, {})})[:-3],  # cut short
])
def test_bad_prof_one_line(tmp_path, data):
    src = tmp_path / "bad.prof"
    src.write_bytes(data)
    err = _one_line(run_pyrometer("convert", src, tmp_path / "out.pyro"), 1)
    assert "bad.prof" in err
    assert not (tmp_path / "out.pyro").exists()


def test_bad_austin_line_one_line(tmp_path):
    src = tmp_path / "bad.austin"
    src.write_text("# austin: 3.7.0\n# mode: full\n\nP1;T0:1;f.py:main:3 10,0\n")
    err = _one_line(run_pyrometer("convert", src, tmp_path / "out.pyro"), 1)
    assert "line 4" in err and "time,idle,memory" in err


# ---- exports of a calls profile stay bounded ------------------------------------

DEEP = """\
import copy, random
random.seed(1)
def make(d):
    if d == 0:
        return random.random()
    k = random.randrange(3)
    if k == 0:
        return [make(d - 1) for _ in range(2)]
    if k == 1:
        return {str(i): make(d - 1) for i in range(2)}
    return tuple(make(d - 1) for _ in range(2))
data = [make(12) for _ in range(3)]
copy.deepcopy(data)
"""


def test_exports_of_a_recursive_calls_profile_are_bounded(tmp_path):
    """copy.deepcopy of nested data: a distinct call path per call.  The
    collapsed, speedscope, Chrome and Gecko exports carry the tree with its
    recursion folded (a 1.7 MB .pyro gave 550 MB of collapsed stacks and a
    Gecko sample per call), and lose no weight."""
    src = tmp_path / "deep.py"
    src.write_text(DEEP)
    pyro = tmp_path / "deep.pyro"
    r = run_pyrometer("run", "--mode", "calls", "--no-source", "-o", pyro, src)
    assert r.returncode == 0, r.stderr
    prof = _load(pyro)
    total_calls = _total(prof, "calls")
    total_ns = _total(prof, "time")
    for ext in ("collapsed", "speedscope.json", "trace.json", "gecko.json"):
        out = tmp_path / ("deep." + ext)
        r = run_pyrometer("convert", pyro, out)
        assert r.returncode == 0, r.stderr
        assert out.stat().st_size < pyro.stat().st_size, ext
    text = (tmp_path / "deep.collapsed").read_text()
    assert text.startswith("# pyrometer: calls profile with recursion folded")
    stacks = [line.rsplit(" ", 1) for line in _lines(text)]
    assert sum(int(w) for _, w in stacks) == total_calls  # every call, folded
    for stack, _ in stacks:
        frames = stack.split(";")[1:]
        assert len(frames) == len(set(frames))  # no function twice on a folded stack
    back = _load(tmp_path / "deep.collapsed")
    assert _total(back, "samples") == total_calls

    import json

    gecko = json.loads((tmp_path / "deep.gecko.json").read_text())
    interval_ms = gecko["meta"]["interval"]
    samples = sum(len(t["samples"]["data"]) for t in gecko["threads"])
    assert abs(samples - total_ns / 1e6 / interval_ms) <= len(gecko["threads"])  # time, not calls
    assert samples < total_calls


# ---- embedded sources are said, and can be left out ------------------------------


def test_sources_embedded_are_named_and_switchable(tmp_path, monkeypatch):
    prog = tmp_path / "spin.py"
    prog.write_text("def spin():\n    return sum(i * i for i in range(200000))\n\nfor _ in range(20):\n    spin()\n")
    out = tmp_path / "with.pyro"
    r = run_pyrometer("run", "--mode", "calls", "-o", out, prog, cwd=tmp_path)
    assert r.returncode == 0
    line = r.stderr.decode().strip()
    assert line.startswith("pyrometer: wrote %s, with the source of 1 file embedded" % out) and str(prog) in line
    assert "source:" + str(prog) in _load(out).meta
    bare = tmp_path / "without.pyro"
    r = run_pyrometer("run", "--mode", "calls", "--no-source", "-o", bare, prog, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr.decode() == "pyrometer: wrote %s\n" % bare
    assert not [k for k in _load(bare).meta if k.startswith("source:")]
    # HTML: the run's own and convert's (which embeds files under the cwd)
    html = tmp_path / "v.html"
    r = run_pyrometer("run", "--mode", "calls", "--no-source", "-o", html, prog, cwd=tmp_path)
    assert r.returncode == 0 and b"def spin()" not in html.read_bytes()
    conv = tmp_path / "c.html"
    r = run_pyrometer("convert", bare, conv, cwd=tmp_path)
    assert r.returncode == 0 and "embeds the source of 1 file" in r.stderr.decode()
    assert b"def spin()" in conv.read_bytes()
    r = run_pyrometer("convert", bare, conv, "--no-source", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == b"" and b"def spin()" not in conv.read_bytes()
    # the API's switch
    monkeypatch.chdir(tmp_path)
    data = _load(bare)
    assert b"def spin()" not in data.to_bytes("html", source=False)
    assert b"def spin()" in _load(bare).to_bytes("html")


def test_sources_embedded_are_the_programs_files_only(tmp_path):
    """The program's files are embedded, those of the standard library and
    of installed packages (whose frames are in the profile too) are not."""
    (tmp_path / "helper.py").write_text("import json\n\ndef encode(i):\n    return json.dumps({'i': i, 'l': [i] * 3})\n")
    prog = tmp_path / "main.py"
    prog.write_text("import helper\nimport pytest\n\nfor i in range(2000):\n    helper.encode(i)\n")
    out = tmp_path / "p.pyro"
    r = run_pyrometer("run", "--mode", "calls", "-o", out, prog, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = _load(out)
    files = {f for _name, f, _line, kind in data.native.frames() if kind == 0}
    assert any(f.endswith(os.sep + "encoder.py") for f in files)  # json's frames are there
    assert any("site-packages" in f for f in files)  # and an installed package's (pytest's import)
    embedded = {k[len("source:"):] for k in data.meta if k.startswith("source:")}
    assert embedded == {str(prog), str(tmp_path / "helper.py")}
