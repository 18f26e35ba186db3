"""The native file round-trips losslessly; collapsed and text outputs are
what they claim, read by their real readers."""
import re

import pytest

import pyrometer
from conftest import profile_program, program, run_pyrometer


def snapshot(native_profile):
    """Everything a profile holds, as plain data."""
    metrics = native_profile.metrics()
    return {
        "meta": list(native_profile.meta.items()),
        "threads": native_profile.threads(),
        "metrics": metrics,
        "frames": native_profile.frames(),
        "nodes": native_profile.nodes(),
        "values": {m[0]: native_profile.values(m[0]) for m in metrics},
        "timeline": native_profile.timeline(),
    }


@pytest.fixture(scope="module")
def threaded_profile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fmt")
    proc, p = profile_program(tmp, "thread_lifecycle.py", options=["--rate", "2000"])
    return tmp / "out.pyro", p


def test_pyro_round_trip_is_lossless(threaded_profile, native, tmp_path):
    path, p = threaded_profile
    original = snapshot(p.native)
    assert original["nodes"] and original["frames"] and original["timeline"]
    assert len(original["threads"]) >= 3
    # file -> ProfileData -> bytes -> ProfileData: identical
    again = native.Profile.from_pyro(p.native.to_bytes("pyro"))
    assert snapshot(again) == original
    # and through the public API and a file written by it
    copy = tmp_path / "copy.pyro"
    p.write(copy)
    assert snapshot(pyrometer.load(copy).native) == original
    assert snapshot(pyrometer.ProfileData.from_bytes(path.read_bytes()).native) == original


def test_meta_from_python(threaded_profile):
    import sys

    _, p = threaded_profile
    meta = p.meta
    assert meta["python"] == "%d.%d.%d" % sys.version_info[:3]
    assert meta["pyrometer"] == pyrometer.__version__
    assert meta["command"].startswith("pyrometer run -o ")
    assert meta["command"].endswith("thread_lifecycle.py")
    assert meta["mode"] == "wall"
    assert isinstance(meta["start_unix"], float) and meta["start_unix"] > 1.6e9
    assert meta["rate_hz"] == 2000


def parse_collapsed(text):
    out = []
    for line in text.splitlines():
        stack, _, weight = line.rpartition(" ")
        assert stack, line
        assert re.fullmatch(r"[1-9][0-9]*", weight), line
        out.append((stack.split(";"), int(weight)))
    return out


def test_collapsed_parses_and_sums_to_the_samples(threaded_profile, tmp_path):
    _, p = threaded_profile
    out = tmp_path / "p.collapsed"
    p.write(out)
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n")
    lines = parse_collapsed(text)
    total = sum(p.native.values("samples"))
    assert total > 0
    assert sum(w for _, w in lines) == total
    thread_names = {t.name for t in p.threads}
    for frames, _ in lines:
        assert frames[0] in thread_names  # thread;outer;...;leaf
        assert len(frames) >= 1
    # frames are "name (file:line)"
    alpha = [f for frames, _ in lines for f in frames if f.startswith("task_alpha (")]
    assert alpha and all(re.search(r"thread_lifecycle\.py:[0-9]+\)$", f) for f in alpha), alpha[:3]
    # the same from to_bytes, and the .folded extension means the same
    assert p.to_bytes("collapsed").decode("utf-8") == text
    p.write(tmp_path / "p.folded")
    assert (tmp_path / "p.folded").read_text(encoding="utf-8") == text


def test_collapsed_from_the_command_line(tmp_path):
    out = tmp_path / "cli.txt"
    proc = run_pyrometer(
        "run", "--format", "collapsed", "-o", out, program("hotline.py"), "0.3"
    )
    assert proc.returncode == 0, proc.stderr
    lines = parse_collapsed(out.read_text(encoding="utf-8"))
    assert sum(w for _, w in lines) > 0
    assert any(frames[-1].startswith("hot ") for frames, _ in lines)


def test_text_report_file(tmp_path):
    out = tmp_path / "report.txt"
    proc = run_pyrometer("run", "-o", out, program("hotline.py"), "0.3")
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert "hot" in text
    assert "\x1b[" not in text
    coloured = tmp_path / "colour.txt"
    proc = run_pyrometer("run", "--color", "-o", coloured, program("hotline.py"), "0.3")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" in coloured.read_text(encoding="utf-8")


def test_unknown_extension_needs_a_format(threaded_profile, tmp_path):
    _, p = threaded_profile
    with pytest.raises(ValueError, match="cannot tell the format"):
        p.write(tmp_path / "p.bin")
    p.write(tmp_path / "p.bin", format="pyro")
    assert pyrometer.load(tmp_path / "p.bin").threads == p.threads
    with pytest.raises(ValueError):
        p.write(tmp_path / "p.pyro", format="pdf")


def test_write_failure_is_one_line_oserror(threaded_profile, tmp_path):
    _, p = threaded_profile
    for name in ("p.pyro", "p.txt"):
        target = tmp_path / "missing" / name
        with pytest.raises(OSError) as info:
            p.write(target)
        assert "\n" not in str(info.value) and str(target) in str(info.value)


def test_report_options_from_the_command_line(tmp_path):
    reports = {}
    for name, options in (("default", ["--top", "0"]), ("all", ["--show-all", "--top", "0"])):
        out = tmp_path / (name + ".txt")
        proc = run_pyrometer("run", "-o", out, *options, program("hotline.py"), "0.3")
        assert proc.returncode == 0, proc.stderr
        reports[name] = out.read_text(encoding="utf-8")
    # The program's stacks start at the program: pyrometer's runner frames
    # are not in the profile at all, even with --show-all.
    # (--top 0: no table of top functions, which lists every function.)
    assert "hot" in reports["default"] and "hot" in reports["all"]
    assert "<module>" in reports["all"]
    assert "_run_script" not in reports["default"]
    assert "_run_script" not in reports["all"]


def test_timeline_capacity(tmp_path):
    sizes = {}
    for cap in ("0", "5", "1000000"):
        out = tmp_path / ("t%s.pyro" % cap)
        proc = run_pyrometer("run", "--timeline-cap", cap, "-o", out, program("thread_lifecycle.py"))
        assert proc.returncode == 0, proc.stderr
        timeline = pyrometer.load(out).native.timeline()
        sizes[cap] = len(timeline)
        times = [event[0] for event in timeline]
        assert times == sorted(times)
    assert sizes["0"] == 0
    assert 0 < sizes["5"] <= 5
    assert sizes["1000000"] > 5
