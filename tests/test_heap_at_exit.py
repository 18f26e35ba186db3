"""`pyrometer run --mode memory --heap-at-exit`: the memory profile, then the
heap's growth by type between the program's start and its end, where the new
instances alive were allocated, and what keeps one alive (cli/run.py,
_heapexit.py, pm_blocks_find, MemoryProfiler.sampled_nodes).

Counts are compared with objgraph's typestats taken around the same program
run by plain Python (a reference census, exact as ours); the program's
output and exit status with plain Python's."""
import json
import re
import textwrap

import pytest

import pyrometer
from conftest import program, pyrometer_lines, run_plain, run_pyrometer, without_pyrometer_lines

objgraph = pytest.importorskip("objgraph")

LEAKED = 50000
HEADER = "Heap growth from the program's start to its end (--heap-at-exit):"

# objgraph's census around the program, under plain Python: the reference for
# how many Record instances the program added.
REFERENCE = textwrap.dedent("""
    import runpy, sys
    import objgraph
    path = sys.argv[1]
    sys.argv[:] = sys.argv[1:]
    before = objgraph.typestats(shortnames=False)
    g = runpy.run_path(path, run_name="__main__")
    after = objgraph.typestats(shortnames=False)
    name = "__main__.Record"
    sys.stderr.write("REFERENCE %d\\n" % (after.get(name, 0) - before.get(name, 0)))
""")


def heap_section(stderr):
    text = stderr.decode("utf-8", "replace")
    assert HEADER in text, text
    return text[text.index(HEADER):]


def run_leak(tmp_path, *args, output="out.pyro"):
    out = tmp_path / output
    proc = run_pyrometer("run", "--mode", "memory", "--heap-at-exit", "-o", out, program("heap_leak.py"), *args)
    return proc, out


def test_leaked_class_first_exact_count_stack_and_chain(tmp_path):
    ref_script = tmp_path / "reference.py"
    ref_script.write_text(REFERENCE)
    ref = run_plain(ref_script, program("heap_leak.py"), str(LEAKED))
    assert ref.returncode == 0, ref.stderr
    reference = int(ref.stderr.decode().split("REFERENCE ")[1])
    assert reference == LEAKED

    plain = run_plain(program("heap_leak.py"), str(LEAKED))
    proc, out = run_leak(tmp_path, str(LEAKED))
    assert proc.returncode == plain.returncode == 0, proc.stderr
    assert proc.stdout == plain.stdout
    # One pyrometer line: the profile was written; the section follows it.
    assert [line for line in pyrometer_lines(proc.stderr) if not line.startswith("pyrometer: wrote ")] == []
    section = heap_section(proc.stderr)
    first = section.splitlines()[1]
    assert first.startswith("  __main__.Record: +%d instances, +" % reference), section

    meta = pyrometer.load(out).meta
    report = json.loads(meta["heap_at_exit"])
    top = report["types"][0]
    assert (top["module"], top["type"]) == ("__main__", "Record")
    assert top["delta"] == reference
    # Bytes as sys.getsizeof counts them: every instance has the same size.
    import sys as _sys

    probe = type("Probe", (), {"__slots__": tuple("f%d" % i for i in range(125))})()
    assert top["delta_bytes"] == reference * _sys.getsizeof(probe)
    assert report["types"] == sorted(report["types"], key=lambda g: -g["delta_bytes"])
    assert len(report["types"]) <= 5
    # Where the survivors were allocated: each of those sampled has a stack,
    # and the leaking function is in them.
    assert top["survivors"] == reference
    assert 0 < top["sampled"] <= top["survivors"]
    assert sum(s["count"] for s in top["stacks"]) <= top["sampled"]
    names = [f[0] for s in top["stacks"] for f in s["frames"]]
    assert any(n.endswith("leaky") for n in names), top["stacks"]
    assert "leaky (heap_leak.py:" in section
    # The chain starts at the module whose global holds the list.
    chain = top["chain"]
    assert chain["root_kind"] == "module"
    assert chain["steps"][0]["repr"] == "module __main__"
    edges = [s["edge"] for s in chain["steps"]]
    assert "['leaked']" in edges, chain
    assert chain["steps"][-1]["type"] == "Record"
    assert "-> ['leaked']  list (%d items)" % reference in section


def test_nothing_grew_says_so(tmp_path):
    script = tmp_path / "quiet.py"
    # sys.stdout.write, not print: on 3.11 the first print() call makes the
    # tuple of its keyword names (interpreter state, the program's growth).
    script.write_text("import sys\nx = [i * i for i in range(100000)]\ndel x\nsys.stdout.write('done\\n')\n")
    plain = run_plain(script)
    proc = run_pyrometer("run", "--mode", "memory", "--heap-at-exit", script)
    assert proc.returncode == plain.returncode == 0
    assert proc.stdout == plain.stdout
    section = heap_section(proc.stderr)
    # Nothing pyrometer makes at the end (the census, its rows, its frames)
    # counts as the program's growth.  The interpreter may make a string or
    # two of its own on the way (3.14 does: strings are not tracked by the
    # GC, so they cannot be told apart); no tracked type may grow.
    grown = re.findall(r"^  (\S+): \+(\d+) instances", section, re.M)
    assert all(t in ("str", "int", "bytes", "float") and int(n) <= 3 for t, n in grown), section
    if not grown:
        assert "none, no type has more instances" in section, section
    # Printed after the memory report.
    text = proc.stderr.decode()
    assert text.index("pyrometer memory profile") < text.index(HEADER)


def test_exception_and_exit_code_unchanged(tmp_path):
    plain = run_plain(program("heap_leak.py"), "2000", "raise")
    proc, out = run_leak(tmp_path, "2000", "raise")
    assert proc.returncode == plain.returncode == 1
    assert proc.stdout == plain.stdout
    # The program's traceback, as plain Python prints it, after the report.
    assert without_pyrometer_lines(proc.stderr).endswith(plain.stderr.decode())
    report = json.loads(pyrometer.load(out).meta["heap_at_exit"])
    assert report["types"][0]["type"] == "Record" and report["types"][0]["delta"] == 2000

    plain = run_plain(program("heap_leak.py"), "2000", "exit", "7")
    proc, out = run_leak(tmp_path, "2000", "exit", "7", output="exit.pyro")
    assert proc.returncode == plain.returncode == 7
    assert proc.stdout == plain.stdout
    assert "__main__.Record: +2000 instances" in heap_section(proc.stderr)


def test_a_failing_report_is_one_line_and_the_profile_is_kept(tmp_path):
    plain = run_plain(program("heap_leak.py"), "2000", "break-heap")
    proc, out = run_leak(tmp_path, "2000", "break-heap")
    assert proc.returncode == plain.returncode == 0
    assert proc.stdout == plain.stdout
    lines = pyrometer_lines(proc.stderr)
    assert len(lines) == 2, lines
    assert lines[0].startswith("pyrometer: --heap-at-exit: the heap census failed (")
    assert lines[1].startswith("pyrometer: wrote ")
    assert "Traceback" not in proc.stderr.decode()
    prof = pyrometer.load(out)
    assert "heap_at_exit" not in prof.meta
    assert prof.meta["mode"] == "memory"


@pytest.mark.parametrize("mode", ["wall", "cpu", "calls", "lines"])
def test_refused_in_other_modes(tmp_path, mode):
    proc = run_pyrometer("run", "--mode", mode, "--heap-at-exit", program("heap_leak.py"), "10")
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr.decode() == "pyrometer: --heap-at-exit is for --mode memory, not --mode %s\n" % mode


def test_heap_top(tmp_path):
    proc = run_pyrometer("run", "--mode", "memory", "--heap-top", "2", program("heap_leak.py"), "10")
    assert proc.returncode == 2
    assert proc.stderr.decode() == "pyrometer: --heap-top goes with --heap-at-exit\n"
    proc = run_pyrometer("run", "--mode", "memory", "--heap-at-exit", "--heap-top", "1",
                         "-o", tmp_path / "one.pyro", program("heap_leak.py"), "3000")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(pyrometer.load(tmp_path / "one.pyro").meta["heap_at_exit"])
    assert [g["type"] for g in report["types"]] == ["Record"]
    assert "the top 1 by bytes" in heap_section(proc.stderr)


@pytest.mark.parametrize("kind", ["Record", "Plain"])
def test_every_survivor_found_when_every_allocation_is_sampled(tmp_path, kind):
    """--memory-rate 1 samples every block: each new instance alive must be
    found in the table by its address minus its type's pre-header (the GC
    header; the managed dict, from 3.12 also the weakref, words of an
    ordinary class from 3.11), under the leaking function."""
    args = ["5000"] + (["plain"] if kind == "Plain" else [])
    proc = run_pyrometer("run", "--mode", "memory", "--memory-rate", "1", "--heap-at-exit",
                         "-o", tmp_path / "exact.pyro", program("heap_leak.py"), *args)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(pyrometer.load(tmp_path / "exact.pyro").meta["heap_at_exit"])
    g = next(g for g in report["types"] if (g["module"], g["type"]) == ("__main__", kind))
    assert g["delta"] == g["survivors"] == g["sampled"] == 5000
    assert g["stacks"][0]["count"] == 5000
    assert g["stacks"][0]["frames"][0][0].endswith("leaky")


def test_the_report_is_not_in_the_memory_profile(tmp_path):
    """The snapshot at start and the census at exit are taken with the
    sampler ignoring pyrometer's thread: at --memory-rate 1 (every
    allocation counted) the profile's allocation count is the same with and
    without --heap-at-exit but for the few calls around them (a census of even
    this small heap allocates thousands of blocks)."""
    script = tmp_path / "small.py"
    script.write_text("import sys\nx = [str(i) for i in range(20000)]\ndel x\nsys.stdout.write('done\\n')\n")
    counts = []
    for extra in ([], ["--heap-at-exit"]):
        out = tmp_path / ("c%d.pyro" % len(extra))
        proc = run_pyrometer("run", "--mode", "memory", "--memory-rate", "1", *extra, "-o", out, script)
        assert proc.returncode == 0, proc.stderr
        counts.append(pyrometer.load(out).meta["memory_allocated_count"])
    assert counts[0] > 20000
    # (two runs of the same program differ by a few blocks: start-up's
    # dicts and sets grow with the hash seed)
    assert abs(counts[1] - counts[0]) <= 16, counts


def test_sigterm_ends_the_program_as_plain_python_with_one_line(tmp_path):
    """Killed by SIGTERM, the program has no end to report on: one line says
    so, the profile is written, and the process dies of SIGTERM as without
    pyrometer."""
    import signal
    import subprocess

    from conftest import _env, pyrometer_cmd

    def start(cmd):
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
                                stdin=subprocess.DEVNULL)
        assert proc.stdout.readline() == b"ready\n"
        return proc

    codes = []
    for cmd in ([__import__("sys").executable, program("wait_for_signal.py")],
                pyrometer_cmd("run", "--mode", "memory", "--heap-at-exit", "-o", tmp_path / "t.pyro",
                              program("wait_for_signal.py"))):
        proc = start(cmd)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        codes.append(proc.returncode)
    assert codes[0] == codes[1] == -signal.SIGTERM
    lines = pyrometer_lines(err)
    assert len(lines) == 2, lines
    assert lines[0] == "pyrometer: --heap-at-exit: the program was ended by SIGTERM: no heap report"
    assert lines[1].startswith("pyrometer: wrote %s" % (tmp_path / "t.pyro"))
    assert pyrometer.load(tmp_path / "t.pyro").meta["mode"] == "memory"
