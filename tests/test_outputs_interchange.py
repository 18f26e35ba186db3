"""The interchange formats, each checked by its real reader: pstats.Stats,
SnakeViz's and tuna's loaders, gprof2dot, the speedscope JSON schema,
`go tool pprof`, and structural checks of Chrome trace and Gecko JSON; plus
round trips and `pyrometer convert` on bad input."""
import cProfile
import gzip
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys

import pytest

from pyrometer import _native

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(HERE, "programs", "outputs_mix.py")
SCHEMA = os.path.join(HERE, "..", "..", "shared", "formats", "speedscope-file-format-schema.json")
if not os.path.exists(SCHEMA):
    SCHEMA = "/work/shared/formats/speedscope-file-format-schema.json"


def run_cli(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "pyrometer"] + list(args), capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def pyro(tmp_path_factory):
    d = tmp_path_factory.mktemp("outputs")
    path = str(d / "mix.pyro")
    run_cli("run", "--rate", "2000", "-o", path, PROGRAM)
    return path


@pytest.fixture(scope="module")
def prof(pyro):
    with open(pyro, "rb") as f:
        return _native.Profile.from_bytes(f.read())


def totals(native, metric):
    """Sum of the self values of a metric over all nodes, via collapsed."""
    text = native.to_bytes("collapsed", metric=metric).decode("utf-8", "replace")
    return sum(int(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line)


def metric_names(native):
    return [m[0] for m in native.metrics()]


def time_metric(native):
    names = metric_names(native)
    return "cpu" if native.meta.get("mode") == "cpu" else ("wall" if "wall" in names else None)


def test_formats_table():
    names = [f[0] for f in _native.Profile.formats()]
    for name in ("pstats", "speedscope", "pprof", "chrome", "gecko", "collapsed", "pyro"):
        assert name in names


# ---- pstats ----------------------------------------------------------------


def test_pstats_loads_sorts_prints_and_matches(prof, tmp_path):
    path = str(tmp_path / "p.prof")
    with open(path, "wb") as f:
        f.write(prof.to_bytes("pstats"))
    st = pstats.Stats(path)
    out = io.StringIO()
    st.stream = out
    for key in ("cumulative", "tottime", "ncalls", "name"):
        st.sort_stats(key).print_stats()
        st.print_callers()
        st.print_callees()
    assert "rec" in out.getvalue()
    # every caller is itself a key; callers are 4-tuples
    for func, (cc, nc, tt, ct, callers) in st.stats.items():
        assert nc >= cc >= 0 and ct >= tt - 1e-9
        for caller, value in callers.items():
            assert caller in st.stats
            assert len(value) == 4
    # own times sum to the model's total time (seconds)
    tm = time_metric(prof)
    want = totals(prof, tm) / 1e9
    got = sum(v[2] for v in st.stats.values())
    assert abs(got - want) <= 1e-6 * max(1.0, want)
    # sampled: nc is sample hits; the outermost functions hold every sample
    assert st.total_calls >= totals(prof, "samples")
    # hostile names survive as text
    assert any("we:ird" in k[2] or "we;ird" in k[2] for k in st.stats)


def test_pstats_readers_snakeviz_tuna_gprof2dot(prof, tmp_path):
    path = str(tmp_path / "p.prof")
    with open(path, "wb") as f:
        f.write(prof.to_bytes("pstats"))
    from snakeviz.stats import table_rows, json_stats

    st = pstats.Stats(path)
    assert table_rows(st)
    js = json_stats(st)
    json.loads(js) if isinstance(js, str) else json.dumps(js)
    import tuna.main as tm

    reader = getattr(tm, "read_runtime_profile", None)
    if reader is None:
        from tuna._runtime_profile import read_runtime_profile as reader
    tree = reader(path)
    assert tree
    r = subprocess.run([sys.executable, "-m", "gprof2dot", "-f", "pstats", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("digraph")


def test_pstats_round_trip_and_cprofile_input(prof, tmp_path):
    data = prof.to_bytes("pstats")
    back = _native.Profile.from_bytes(data)
    # own time per function and in total is preserved
    again = pstats.Stats(str(_write(tmp_path / "again.prof", back.to_bytes("pstats"))))
    first = pstats.Stats(str(_write(tmp_path / "first.prof", data)))
    assert abs(sum(v[2] for v in again.stats.values()) - sum(v[2] for v in first.stats.values())) < 1e-6
    for k, v in first.stats.items():
        assert abs(again.stats[k][2] - v[2]) < 1e-6
    # (nc of a sampled profile is sample hits, not calls: it is compared on
    # cProfile's own deterministic file below)
    # cProfile's own file converts
    cp = tmp_path / "cp.prof"
    cProfile.runctx("sum(x*x for x in range(50000))", {}, {}, str(cp))
    out = tmp_path / "cp.collapsed"
    run_cli("convert", str(cp), str(out))
    assert "builtins.sum" in out.read_text()
    orig = pstats.Stats(str(cp))
    conv = _native.Profile.from_bytes(cp.read_bytes())
    back = pstats.Stats(str(_write(tmp_path / "cp2.prof", conv.to_bytes("pstats"))))
    for k, v in orig.stats.items():
        assert back.stats[k][1] == v[1]
        assert abs(back.stats[k][2] - v[2]) < 1e-6


def _write(path, data):
    with open(str(path), "wb") as f:
        f.write(data)
    return path


# ---- speedscope --------------------------------------------------------------


def test_speedscope_validates(prof):
    import jsonschema

    doc = json.loads(prof.to_bytes("speedscope"))
    with open(SCHEMA) as f:
        schema = json.load(f)
    jsonschema.validate(doc, schema)
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    assert len(doc["profiles"]) == len(prof.threads())
    assert doc["profiles"][0]["unit"] == "nanoseconds"
    tm = time_metric(prof)
    assert sum(sum(p["weights"]) for p in doc["profiles"]) == totals(prof, tm)
    nf = len(doc["shared"]["frames"])
    for p in doc["profiles"]:
        assert len(p["samples"]) == len(p["weights"])
        assert all(0 <= i < nf for s in p["samples"] for i in s)
    # deep recursion is there
    assert max(len(s) for p in doc["profiles"] for s in p["samples"]) > 150


def _thread_totals(native, metric):
    """{thread label: total of metric} via collapsed (first element = thread)."""
    out = {}
    for line in native.to_bytes("collapsed", metric=metric).decode("utf-8", "replace").splitlines():
        if line:
            stack, n = line.rsplit(" ", 1)
            label = stack.split(";", 1)[0]
            out[label] = out.get(label, 0) + int(n)
    return out


def test_speedscope_read_back_keeps_per_thread_totals(prof, pyro, tmp_path):
    ss = tmp_path / "mix.speedscope.json"
    run_cli("convert", pyro, str(ss))
    back_path = tmp_path / "back.pyro"
    run_cli("convert", str(ss), str(back_path))
    with open(back_path, "rb") as f:
        back = _native.Profile.from_bytes(f.read())
    assert back.meta.get("source") == "speedscope"
    assert "wall" in metric_names(back)
    tm = time_metric(prof)
    want, got = _thread_totals(prof, tm), _thread_totals(back, "wall")
    assert len(prof.threads()) == len(back.threads()) >= 2
    assert sorted(want.values()) == sorted(got.values())
    assert sum(got.values()) == totals(prof, tm)
    # Frames survive by name (the writer's display names).
    names = {f[0] for f in back.frames()}
    assert "rec" in names, sorted(names)[:20]


def test_load_and_from_bytes_read_every_readable_format(prof, pyro, tmp_path):
    import pyrometer
    from pyrometer import ProfileData

    base = pyrometer.load(pyro)
    for name in ("x.prof", "x.speedscope.json", "x.collapsed", "x.pyro"):
        path = tmp_path / name
        run_cli("convert", pyro, str(path))
        loaded = pyrometer.load(str(path))
        assert isinstance(loaded, ProfileData)
        with open(path, "rb") as f:
            data = f.read()
        again = ProfileData.from_bytes(data)
        assert len(again.native.threads()) == len(loaded.native.threads()) >= 1, name
        assert len(loaded.native.frames()) > 3, name
    assert len(base.native.threads()) == len(prof.threads())
    bad = tmp_path / "junk.bin"
    bad.write_bytes(b"\x00\x01 not a profile")
    with pytest.raises(ValueError) as e:
        pyrometer.load(str(bad))
    assert str(bad) in str(e.value) and "\n" not in str(e.value)


# ---- pprof -------------------------------------------------------------------


def _go():
    go = shutil.which("go")
    if go is None:
        pytest.fail("go is not installed: the test setup (scripts/test, .ci/run) installs golang-go")
    return go


def _pprof_env(go, tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), PPROF_TMPDIR=str(tmp_path))
    # Go 1.24+ builds `go tool pprof` on first use and keeps it in the build
    # cache, which lives under HOME: keep the real one, or every run (and the
    # second call below) compiles pprof again (~1 min on 2 cores).
    cache = subprocess.run([go, "env", "GOCACHE"], capture_output=True, text=True).stdout.strip()
    if cache and "GOCACHE" not in env:
        env["GOCACHE"] = cache
    return env


def test_pprof_go_tool(prof, tmp_path):
    go = _go()
    path = str(_write(tmp_path / "p.pb.gz", prof.to_bytes("pprof")))
    raw = gzip.decompress(open(path, "rb").read())
    assert raw
    env = _pprof_env(go, tmp_path)
    r = subprocess.run([go, "tool", "pprof", "-raw", path], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "samples/count" in r.stdout and "thread_name" in r.stdout
    # sum the sample values from -raw
    body = r.stdout.split("Samples:", 1)[1].split("Locations", 1)[0]
    counts = [int(m.group(1)) for m in re.finditer(r"^\s+(\d+)\s+\d+:", body, re.M)]
    assert sum(counts) == totals(prof, "samples")
    tm = time_metric(prof)
    r = subprocess.run(
        [go, "tool", "pprof", "-top", "-unit=ns", "-sample_index=" + tm, path], capture_output=True, text=True, env=env
    )
    assert r.returncode == 0, r.stderr
    m = re.search(r"of ([\d.]+)ns total", r.stdout)
    assert m, r.stdout[:500]
    assert abs(float(m.group(1)) - totals(prof, tm)) <= 1e-3 * totals(prof, tm) + 1


PYTHON_NAMES = """\
import functools

class Box:
    def fill(self, n):
        return [len(str(i)) for i in range(n)]

square = lambda x: x * x

def work():
    items = []
    for i in range(20000):
        items.append(square(i))
    Box().fill(20000)
    return sorted(items)

work()
"""


def test_pprof_names_read_as_python_names(tmp_path):
    """`go tool pprof -top`, run as users run it (default options), shows
    every Python name as itself: `<module>`, `<lambda>`, comprehensions and
    each built-in on its own line, not `<unknown>` or one merged entry."""
    go = _go()
    script = tmp_path / "names.py"
    script.write_text(PYTHON_NAMES)
    pb = tmp_path / "names.pb.gz"
    run_cli("run", "--mode", "calls", "-o", str(pb), str(script))
    # by call count: a built-in's time may be all overhead (subtracted to 0)
    r = subprocess.run([go, "tool", "pprof", "-top", "-sample_index=calls", "-nodefraction=0", str(pb)],
                       capture_output=True, text=True, env=_pprof_env(go, tmp_path))
    assert r.returncode == 0, r.stderr
    shown = {line.split(None, 5)[5] for line in r.stdout.splitlines() if re.match(r"^\s*[\d.]+\w*\s+[\d.]+%", line)}
    expected = {"<module>", "<lambda>", "work", "<built-in method builtins.len>",
                "<method 'append' of 'list' objects>", "<built-in method builtins.sorted>"}
    assert expected <= shown, (sorted(expected - shown), r.stdout)
    if sys.version_info < (3, 12):  # comprehensions are inlined from 3.12
        assert any(name.endswith("<listcomp>") for name in shown), r.stdout
    assert "<unknown>" not in shown and "" not in shown and "[]" not in shown


# ---- Chrome trace and Gecko -----------------------------------------------------


def test_chrome_trace_balanced_and_ordered(prof):
    doc = json.loads(prof.to_bytes("chrome"))
    ev = doc["traceEvents"]
    names = [e for e in ev if e["ph"] == "M" and e["name"] == "thread_name"]
    assert len(names) == len(prof.threads())
    assert any(e["name"] == "process_name" for e in ev if e["ph"] == "M")
    stacks = {}
    last = {}
    for e in ev:
        if e["ph"] == "M":
            continue
        assert e["ts"] >= last.get(e["tid"], 0)
        last[e["tid"]] = e["ts"]
        if e["ph"] == "B":
            stacks.setdefault(e["tid"], []).append(e["name"])
        elif e["ph"] == "E":
            assert stacks[e["tid"]], "E without B"
            stacks[e["tid"]].pop()
        elif e["ph"] == "X":
            assert e["dur"] >= 0
    assert all(not s for s in stacks.values())
    assert any(e["ph"] in ("B", "X") for e in ev)


def test_gecko_structure(prof):
    doc = json.loads(prof.to_bytes("gecko"))
    meta = doc["meta"]
    assert meta["version"] == 28 and meta["interval"] > 0 and meta["categories"]
    assert len(doc["threads"]) == len(prof.threads())
    total = 0
    for th in doc["threads"]:
        st, ft, sm, strings = th["stackTable"], th["frameTable"], th["samples"], th["stringTable"]
        assert st["schema"] == {"prefix": 0, "frame": 1}
        assert sm["schema"]["stack"] == 0 and sm["schema"]["time"] == 1
        for i, (prefix, frame) in enumerate(st["data"]):
            assert prefix is None or 0 <= prefix < i
            assert 0 <= frame < len(ft["data"])
        for row in ft["data"]:
            assert 0 <= row[ft["schema"]["location"]] < len(strings)
            assert row[ft["schema"]["category"]] < len(meta["categories"])
        times = [s[1] for s in sm["data"]]
        assert times == sorted(times)
        assert all(0 <= s[0] < len(st["data"]) for s in sm["data"])
        total += len(sm["data"])
    assert total > 0


# ---- collapsed round trip, convert on every format ----------------------------


def test_collapsed_round_trip(prof):
    text = prof.to_bytes("collapsed")
    back = _native.Profile.from_bytes(text)
    assert totals(back, "samples") == totals(prof, "samples")
    assert [t[2] for t in back.threads()] == [t[2] for t in prof.threads()] or len(back.threads()) == len(prof.threads())


@pytest.mark.parametrize(
    "name", ["x.prof", "x.speedscope.json", "x.pb.gz", "x.trace.json", "x.gecko.json", "x.collapsed", "x.pyro"]
)
def test_convert_every_format(pyro, tmp_path, name):
    out = tmp_path / name
    run_cli("convert", pyro, str(out))
    assert out.stat().st_size > 0


def test_run_writes_inferred_format(tmp_path):
    out = tmp_path / "r.speedscope.json"
    run_cli("run", "-o", str(out), PROGRAM)
    assert json.loads(out.read_text())["$schema"].startswith("https://www.speedscope.app")


@pytest.mark.parametrize("kind", ["truncated-pyro", "truncated-prof", "corrupt-prof", "foreign", "empty"])
def test_convert_bad_input(pyro, tmp_path, kind):
    src = tmp_path / "in"
    good = open(pyro, "rb").read()
    prof_bytes = _native.Profile.from_bytes(good).to_bytes("pstats")
    data = {
        "truncated-pyro": good[: len(good) // 2],
        "truncated-prof": prof_bytes[: len(prof_bytes) // 2],
        "corrupt-prof": prof_bytes[:2] + b"\xff" * 4 + prof_bytes[6:],
        "foreign": b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
        "empty": b"",
    }[kind]
    src.write_bytes(data)
    out = tmp_path / "out.prof"
    r = run_cli("convert", str(src), str(out), check=False)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyrometer: "), r.stderr
    assert not out.exists()
    assert not [p for p in os.listdir(str(tmp_path)) if p.startswith(".out")]
