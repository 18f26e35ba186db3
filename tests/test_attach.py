"""Reading another process: `pyrometer dump`, `attach` and `top` against
targets running every CPython 3.9-3.15 found through pyenv, or the one that
runs the tests (3.14 and 3.15 come from Debian's packages, in a chroot without
pyenv), compared with py-spy's reading of the same process,
and every way a pid cannot be read giving one `pyrometer:` line."""
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import termios
import time

import pytest

from conftest import line_of, program, pseudo_frame, pyrometer_cmd

import pyrometer
from pyrometer import _native

TARGET = "attach_target.py"
VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]


def _pyenv_python(version):
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
        bare = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for v in bare.split():
        if v == version or v.startswith(version + "."):
            path = os.path.join(root, "versions", v, "bin", "python" + version)
            if os.path.exists(path):
                return path
    return None


def _interpreter(version):
    py = _pyenv_python(version)
    if py is None:
        if sys.version_info[:2] == tuple(int(x) for x in version.split(".")):
            return sys.executable
        pytest.skip("no CPython %s from pyenv" % version)
    return py


def _target_version(preferred):
    """A version to run a target under: the preferred one if pyenv has it,
    else this interpreter's."""
    if _pyenv_python(preferred):
        return preferred
    return "%d.%d" % sys.version_info[:2]


class Target:
    """A target program, started and stopped around a test."""

    def __init__(self, python, *args):
        self.proc = subprocess.Popen([python, program(TARGET)] + [str(a) for a in args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", (line, self.proc.stderr.read() if self.proc.poll() is not None else "")
        self.pid = self.proc.pid

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture(params=VERSIONS)
def target(request):
    t = Target(_interpreter(request.param))
    t.version = request.param
    yield t
    t.close()


def _pyspy():
    exe = shutil.which("py-spy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if exe is None:
        pytest.skip("py-spy is not installed (test extra)")
    return exe


def _run(*args, timeout=60, **kw):
    return subprocess.run(pyrometer_cmd(*args), capture_output=True, text=True, timeout=timeout, **kw)


def _one_line_error(result):
    assert result.returncode != 0, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyrometer: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# ---- the layout tables ------------------------------------------------------


def test_remote_layout_is_the_in_process_layout():
    """The static table row for this Python (and on 3.13+ the target's
    _Py_DebugOffsets), read from outside, equals the layout this version's
    own headers give in-process: every field (3.14+: the tag mask of frame
    code references, the owners that are not Python code; 3.15: the base
    frame), and the addresses found from the ELF symbols and the runtime
    equal the ones the interpreter uses."""
    remote = _native.Remote(os.getpid())
    theirs = remote.layout()
    mine = _native._layout()
    assert theirs.keys() <= mine.keys()
    differ = {k: (theirs[k], mine[k]) for k in theirs if theirs[k] != mine[k]}
    assert differ == {}
    assert remote.info()["python"] == "%d.%d" % sys.version_info[:2]
    if sys.version_info >= (3, 13):
        assert remote.info()["debug_offsets"] == "agree"


# ---- dump -------------------------------------------------------------------


def _by_function(snapshot, function):
    found = [t for t in snapshot["threads"] if any(f["function"] == function for f in t["frames"])]
    assert len(found) == 1, (function, snapshot)
    return found[0]


def test_dump_matches_py_spy(target):
    """Three threads (spinning, sleeping, blocked on a lock) and the main
    thread: the functions and lines are the program's, and the threads that
    wait show exactly what py-spy shows for them."""
    result = _run("dump", target.pid, "--json", "--locals")
    assert result.returncode == 0, result.stderr
    snap = json.loads(result.stdout)
    assert snap["pid"] == target.pid and snap["python"] == target.version
    # 3.13+: the target's own _Py_DebugOffsets were read, and agree with the table.
    info = _native.Remote(target.pid).info()
    newer = tuple(int(x) for x in target.version.split(".")) >= (3, 13)
    assert info["debug_offsets"] == ("agree" if newer else "none")
    tasks = {int(t) for t in os.listdir("/proc/%d/task" % target.pid)}
    assert {t["native_id"] for t in snap["threads"]} == tasks

    blocked = _by_function(snap, "wait_for_lock")
    top = blocked["frames"][0]
    assert (top["function"], top["line"]) == ("wait_for_lock", line_of(TARGET, "blocked"))
    assert top["locals"] == {"label": "'waiting'", "count": "42", "ratio": "0.5"}
    assert blocked["status"] == "idle" and not blocked["gil"]

    sleeper = _by_function(snap, "sleep_forever")
    frame = next(f for f in sleeper["frames"] if f["function"] == "sleep_forever")
    assert frame["line"] in (line_of(TARGET, "sleep"), line_of(TARGET, "sleep") - 1)

    spinner = _by_function(snap, "spin_forever")
    frame = next(f for f in spinner["frames"] if f["function"] == "spin_forever")
    assert frame["line"] in (line_of(TARGET, "spin"), line_of(TARGET, "spin") - 1)
    # At most one holder: the spinner, or the sleeper in the moment it wakes
    # (every 50 ms) to look at its event; never the thread blocked on a lock.
    assert [t for t in snap["threads"] if t["gil"]] in ([], [spinner], [sleeper])

    main = [t for t in snap["threads"] if t["native_id"] == target.pid][0]
    assert main["frames"][-1]["function"] == "<module>"
    assert main["frames"][0]["line"] in (line_of(TARGET, "main"), line_of(TARGET, "main") - 1)

    # py-spy on the same process: the blocked thread does not move, so both
    # must read the same frames.
    spy = subprocess.run([_pyspy(), "dump", "--pid", str(target.pid), "--json", "--nonblocking"],
                         capture_output=True, text=True, timeout=60)
    assert spy.returncode == 0, spy.stderr
    spy_threads = {t["thread_id"]: t for t in json.loads(spy.stdout)}
    theirs = [(f["name"], f["filename"], f["line"]) for f in spy_threads[blocked["ident"]]["frames"]]
    ours = [(f["function"], f["file"], f["line"]) for f in blocked["frames"]]
    assert ours == theirs

    # Every thread named by threading's name, as py-spy names it; the OS
    # name (the process's, before 3.14) alongside.
    assert (spinner["name"], sleeper["name"], blocked["name"], main["name"]) == (
        "spinner", "sleeper", "blocked", "MainThread")
    assert {t["ident"]: t["name"] for t in snap["threads"]} == {i: t["thread_name"] for i, t in spy_threads.items()}
    for t in snap["threads"]:
        with open("/proc/%d/task/%d/comm" % (target.pid, t["native_id"])) as f:
            assert t["os_name"] == f.read().strip()


def test_dump_text(target):
    result = _run("dump", target.pid)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Process %d: Python %s, 4 threads" % (target.pid, target.version))
    assert "    wait_for_lock (%s:%d)" % (program(TARGET), line_of(TARGET, "blocked")) in out
    assert "label = 'waiting'" not in out  # only with --locals
    import re

    assert sorted(re.findall(r"^Thread \d+ '([^']*)' \(", out, re.M)) == ["MainThread", "blocked", "sleeper", "spinner"]


DEEP = "attach_deep.py"


@pytest.mark.parametrize("version", VERSIONS)
def test_dump_deep_recursion(version):
    """A thread 600 calls deep is read whole (py-spy's frames, every one);
    one 3000 deep shows its innermost frames, as many as a dump reads, and
    says that the outermost are not shown.  The text folds a frame
    repeated in a row as a traceback does."""
    proc = subprocess.Popen([_interpreter(version), program(DEEP)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        result = _run("dump", proc.pid, "--json")
        assert result.returncode == 0, result.stderr
        threads = {t["name"]: t for t in json.loads(result.stdout)["threads"]}
        spy = subprocess.run([_pyspy(), "dump", "--pid", str(proc.pid), "--json", "--nonblocking"],
                             capture_output=True, text=True, timeout=60)
        assert spy.returncode == 0, spy.stderr
        spy_frames = {t["thread_id"]: [(f["name"], f["filename"], f["line"]) for f in t["frames"]]
                      for t in json.loads(spy.stdout)}
        blocked = ("block", program(DEEP), line_of(DEEP, "blocked"))
        down = ("down", program(DEEP), line_of(DEEP, "down"))
        for name, calls in (("shallow", 600), ("deep", 3000)):
            t = threads[name]
            ours = [(f["function"].rsplit(".", 1)[-1], f["file"], f["line"]) for f in t["frames"]]
            theirs = [(f.rsplit(".", 1)[-1], file, line) for f, file, line in spy_frames[t["ident"]]]
            assert ours[0] == blocked and ours[1:calls + 1] == [down] * min(calls, len(ours) - 1)
            assert t["complete"] and t["truncated"] == (name == "deep")
            if name == "shallow":
                assert ours == theirs
            else:
                assert len(ours) >= 1000 and ours == theirs[:len(ours)] and len(theirs) > len(ours)

        text = _run("dump", proc.pid).stdout
        blocks = {b.split("'")[1]: b.splitlines()[1:] for b in text.split("\n\n")[1:]}
        shallow = [line.strip() for line in blocks["shallow"]]
        shown = "down (%s:%d)" % (program(DEEP), line_of(DEEP, "down"))
        assert shallow[1:5] == [shown] * 3 + ["[previous frame repeated 598 more times]"]  # 601 calls of down()
        assert not shallow[5].startswith("down (") and not any("not shown" in line for line in shallow)
        deep = [line.strip() for line in blocks["deep"]]
        more = len(threads["deep"]["frames"]) - 4  # block() and 3 calls of down() shown
        assert deep[1:5] == [shown] * 3 + ["[previous frame repeated %d more times]" % more]
        assert deep[5:] == ["... the outermost frames are not shown (deeper than a dump reads)"]
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


RAW = "attach_raw_thread.py"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("imports", ["threading", "no-threading"])
def test_dump_names_threads_threading_does_not_know(version, imports):
    """A thread started with _thread (no Thread object), and every thread of
    a process without the threading module, keep their OS name, where py-spy
    has no name for them; the main thread is MainThread once threading is
    imported."""
    proc = subprocess.Popen([_interpreter(version), program(RAW), imports], stdout=subprocess.PIPE, text=True)
    try:
        ready, imported = proc.stdout.readline().split()
        assert ready == "ready" and imported == ("True" if imports == "threading" else imported)
        result = _run("dump", proc.pid, "--json")
        assert result.returncode == 0 and result.stderr == "", result.stderr
        threads = json.loads(result.stdout)["threads"]
        spy = subprocess.run([_pyspy(), "dump", "--pid", str(proc.pid), "--json", "--nonblocking"],
                             capture_output=True, text=True, timeout=60)
        assert spy.returncode == 0, spy.stderr
        spy_names = {t["thread_id"]: t.get("thread_name") for t in json.loads(spy.stdout)}
        assert len(threads) == 2 and set(spy_names) == {t["ident"] for t in threads}
        for t in threads:
            with open("/proc/%d/task/%d/comm" % (proc.pid, t["native_id"])) as f:
                comm = f.read().strip()
            assert t["os_name"] == comm
            assert t["name"] == (spy_names[t["ident"]] or comm)
            is_main = t["native_id"] == proc.pid
            assert t["name"] == ("MainThread" if is_main and imported == "True" else comm)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


@pytest.mark.parametrize("version", VERSIONS)
def test_dump_names_beyond_ascii(version):
    """Names of every str kind are py-spy's; a name longer than 255 bytes
    is cut there (py-spy shows it whole)."""
    proc = subprocess.Popen([_interpreter(version), program("attach_names.py")], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        result = _run("dump", proc.pid, "--json")
        assert result.returncode == 0 and result.stderr == "", result.stderr
        ours = {t["ident"]: t["name"] for t in json.loads(result.stdout)["threads"]}
        spy = subprocess.run([_pyspy(), "dump", "--pid", str(proc.pid), "--json", "--nonblocking"],
                             capture_output=True, text=True, timeout=60)
        assert spy.returncode == 0, spy.stderr
        theirs = {t["thread_id"]: t["thread_name"] for t in json.loads(spy.stdout)}
        assert sorted(ours.values()) == sorted(["MainThread", "wörker", "工作者", "emoji😀", "x" * 255])
        assert ours == {i: n[:255] for i, n in theirs.items()}
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


# ---- attach -----------------------------------------------------------------


def test_attach_spinning_function_on_top(target, tmp_path):
    out = tmp_path / "p.pyro"
    result = _run("attach", target.pid, "--duration", "2", "--mode", "cpu", "-o", out)
    assert result.returncode == 0, result.stderr
    data = pyrometer.load(str(out))
    stats = data.func_stats("samples")
    assert stats[0]["function"] == "spin_forever", stats[:3]
    assert "spinner" in {t.name for t in data.threads}  # threading's name, not the OS's
    meta = data.meta
    assert meta["mode"] == "cpu" and meta["target_python"] == target.version
    assert 1.9 <= meta["duration_s"] < 4
    assert meta["samples_taken"] > 0.5 * meta["samples_expected"]


def test_attach_target_exits(tmp_path):
    """The process ends while recorded: attach stops there and writes a
    whole profile of what it saw."""
    t = Target(_interpreter(_target_version("%d.%d" % sys.version_info[:2])), 1.5)
    try:
        out = tmp_path / "p.collapsed"
        result = _run("attach", t.pid, "-o", out, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "process %d ended" % t.pid in result.stderr
        data = pyrometer.load(str(out))
        functions = {s["function"] for s in data.func_stats("samples")}
        assert {"spin_forever", "sleep_forever", "wait_for_lock", "<module>"} <= functions
        assert sorted(t.name for t in data.threads) == ["MainThread", "blocked", "sleeper", "spinner"]
        assert t.proc.wait(10) == 0
    finally:
        t.close()


def test_attach_ctrl_c(tmp_path):
    """Ctrl-C ends the recording; the profile is written whole."""
    t = Target(_interpreter(_target_version("3.10")))
    try:
        out = tmp_path / "p.speedscope.json"
        proc = subprocess.Popen(pyrometer_cmd("attach", t.pid, "-o", out), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stderr.readline().startswith("pyrometer: attached to process %d" % t.pid)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert err == "pyrometer: wrote %s\n" % out
        doc = json.loads(out.read_text())
        names = {f["name"] for f in doc["shared"]["frames"]}
        assert {"spin_forever", "sleep_forever", "wait_for_lock"} <= names
        assert t.proc.poll() is None  # the target runs on
    finally:
        t.close()


def test_attach_report_and_formats(tmp_path):
    t = Target(_interpreter(_target_version("3.12")))
    try:
        result = _run("attach", t.pid, "--duration", "1")
        assert result.returncode == 0, result.stderr
        assert "spin_forever" in result.stdout and "Top" in result.stdout
        out = tmp_path / "p.prof"
        result = _run("attach", t.pid, "--duration", "1", "-o", out, "--rate", "200")
        assert result.returncode == 0, result.stderr
        import pstats

        names = {k[2] for k in pstats.Stats(str(out)).stats}
        assert "spin_forever" in names
    finally:
        t.close()


def test_attach_blocking(tmp_path):
    """--blocking: the threads are stopped while read, so no tick is torn;
    the target then runs on, unaware (it ends on its own, status 0)."""
    t = Target(_interpreter(_target_version("3.9")), 4)
    try:
        out = tmp_path / "p.pyro"
        result = _run("attach", t.pid, "--blocking", "--duration", "1.5", "--mode", "cpu", "-o", out)
        assert result.returncode == 0, result.stderr
        data = pyrometer.load(str(out))
        assert data.func_stats("samples")[0]["function"] == "spin_forever"
        # (a thread is seized from the tick after it is first seen: that
        # tick's read of it is not a stopped one, and may be torn)
        assert data.meta["blocking"] == 1, dict(data.meta)
        assert data.meta["samples_torn"] <= 0.01 * data.meta["samples_taken"], dict(data.meta)
        assert data.meta["samples_taken"] > 0.5 * data.meta["samples_expected"]
        assert t.proc.wait(30) == 0
        assert t.proc.stdout.read() == "" and t.proc.stderr.read() == ""
    finally:
        t.close()


def _attach_while_running(python, name, rate, tmp_path, seconds=3):
    """Runs tests/programs/NAME for SECONDS and attaches to it 0.3 s in, for
    one second less, at RATE: the profile, and the program's stdout once it
    ended on its own, silent on stderr and with status 0 (it never noticed)."""
    proc = subprocess.Popen([python, program(name), str(seconds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        time.sleep(0.3)
        out = tmp_path / "p.pyro"
        result = _run("attach", proc.pid, "--duration", str(seconds - 1), "--rate", str(rate), "-o", out)
        assert result.returncode == 0, result.stderr
        stdout, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 0 and stderr == "", stderr
        return pyrometer.load(str(out)), stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("version", ["3.9", "3.12"])
def test_attach_tiny_functions_not_torn(version, tmp_path):
    """Two threads of functions a microsecond long change their stacks
    faster than a read from outside: a tick no read caught whole is read
    again with the target stopped for that moment, so none is dropped (a
    dropped tick takes its time from exactly the callers of tiny
    functions).  The target runs on unaware: its own output, status 0."""
    data, stdout = _attach_while_running(_interpreter(_target_version(version)), "tiny_calls.py", 200, tmp_path)
    meta = data.meta
    assert meta["samples_torn"] <= 0.01 * meta["samples_taken"], dict(meta)
    # (how many ticks needed a stop depends on the machine: a loaded one
    # preempts the target, whose stacks are then still for the reads)
    assert meta["samples_stopped"] <= meta["samples_taken"], dict(meta)
    leaves = {}
    for stacks in data.stacks("samples").values():
        for stack, weight in stacks.items():
            assert not any(pseudo_frame(f[0]) for f in stack), stack
            if len(stack) >= 2 and stack[-2][0].rsplit(".", 1)[-1] == "mid":
                leaf = stack[-1][0].rsplit(".", 1)[-1]
                leaves[leaf] = leaves.get(leaf, 0) + weight
    assert set(leaves) == {"leaf_a", "leaf_b"}, leaves
    assert len(stdout.split()) == 2 and all(float(x) > 0 for x in stdout.split()), stdout


@pytest.mark.parametrize("version", ["3.9", "3.10", "3.11", "3.12", "3.13"])
def test_attach_deep_recursion_split_like_the_truth(version, tmp_path):
    """A 400-frame recursion in turns with the same calls one frame deep.
    Another process's thread clock stands still between the kernel's ticks
    while the thread runs, so a running thread is read at every tick rather
    than charged its last stack; a stack changed under every read is read
    with the thread stopped.  So the deep turns get the share of the time
    the program measured for them: within 10 points here.  At 1 kHz, with
    a core free, 0.3-1.2 points were measured on 3.11-3.13, 2-5 on
    3.14/3.15 (not under test: no such target from pyenv), 4.6-9 on
    3.9/3.10, whose frames are heap objects read as the pages they lie on
    (22-32 when each was read on its own); 0.1-3 beside a busy process;
    30-55 before the state letter was read."""
    # 250 Hz: the stops fit their budget (5% of the time attached) even on
    # a machine so loaded that a stop takes 0.3 ms; at 1 kHz a parallel
    # test run left a fifth of the ticks torn (counted, not charged).
    # 3.9/3.10's stops read 400 frame objects, 70 us apiece: 100 Hz keeps
    # them within the budget beside a parallel test run.
    rate = 100 if version in ("3.9", "3.10") else 250
    data, stdout = _attach_while_running(_interpreter(version), "deep_and_shallow.py", rate, tmp_path, seconds=4)
    meta = data.meta
    assert meta["samples_torn"] <= 0.1 * meta["samples_taken"], dict(meta)
    # Wall time, as the program measured its truth: a tick the sampler
    # took late (behind a stop that waited for a CPU) weighs its delay.
    found = {"deep": 0, "shallow": 0}
    for stacks in data.stacks("wall").values():
        for stack, weight in stacks.items():
            names = {f[0].rsplit(".", 1)[-1] for f in stack}
            for region in found:
                found[region] += weight if region in names else 0
    deep, shallow = (float(x) for x in stdout.split())
    sampled = 100.0 * found["deep"] / (found["deep"] + found["shallow"])
    truth = 100.0 * deep / (deep + shallow)
    assert abs(sampled - truth) <= 10, (sampled, truth, dict(meta))


@pytest.mark.parametrize("version", ["3.9", "3.12"])
def test_attach_deep_idle_threads(version, tmp_path):
    """Threads waiting 600 and 3000 calls deep: a thread off the CPU is read
    whole however long the read takes, and not read again while its clock
    stands still, so no tick is torn and none needs a stop; the stack
    deeper than the limit keeps its innermost frames under <truncated>, as
    in-process profiles keep them, and is counted."""
    proc = subprocess.Popen([_interpreter(_target_version(version)), program(DEEP)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        out = tmp_path / "p.pyro"
        result = _run("attach", proc.pid, "--duration", "1.5", "-o", out)
        assert result.returncode == 0, result.stderr
        data = pyrometer.load(str(out))
        meta = data.meta
        assert meta["samples_torn"] == 0 and meta["samples_stopped"] == 0, dict(meta)
        stacks = {t.name: s for t, s in data.stacks("samples").items()}
        down = ("down", program(DEEP), line_of(DEEP, "down"))
        for name in ("shallow", "deep"):
            assert len(stacks[name]) == 1, (name, len(stacks[name]))
            stack, weight = next(iter(stacks[name].items()))
            frames = [(f[0].rsplit(".", 1)[-1],) + tuple(f[1:3]) for f in stack]
            assert frames[-1][0] == "block" and frames[-2] == down, frames[-3:]
            if name == "shallow":
                assert frames.count(down) == 601 and frames[0][0] == "_bootstrap"
            else:
                assert frames[0][0] == "<truncated>" and len(frames) == meta["stack_depth_limit"] + 1
                assert meta["samples_truncated"] == weight
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


# ---- top ---------------------------------------------------------------------


def test_top_in_a_pty():
    t = Target(_interpreter(_target_version("3.12")))
    master, slave = pty.openpty()
    try:
        before = termios.tcgetattr(slave)
        proc = subprocess.Popen(pyrometer_cmd("top", t.pid), stdin=slave, stdout=slave, stderr=slave,
                                start_new_session=True)
        seen = b""
        deadline = time.monotonic() + 30
        while b"spin_forever" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                seen += os.read(master, 65536)
        assert b"spin_forever" in seen and b"%Own" in seen
        assert b"\x1b[H\x1b[2J" in seen  # redrawn in place
        os.write(master, b"q")
        assert proc.wait(20) == 0
        while select.select([master], [], [], 0.2)[0]:
            seen += os.read(master, 65536)
        assert seen.endswith(b"\x1b[?25h\r\n")  # cursor shown again
        assert termios.tcgetattr(slave) == before  # echo and line mode back
        # Ctrl-C quits the same way.
        proc = subprocess.Popen(pyrometer_cmd("top", t.pid), stdin=slave, stdout=slave, stderr=slave)
        time.sleep(2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)
        t.close()


# ---- what cannot be read ----------------------------------------------------


def test_no_such_process():
    proc = subprocess.Popen(["true"])
    proc.wait()
    for command in ("dump", "attach", "top"):
        line = _one_line_error(_run(command, proc.pid))
        assert line == "pyrometer: no process with pid %d" % proc.pid


def test_not_python(tmp_path):
    proc = subprocess.Popen(["sleep", "30"])
    try:
        time.sleep(0.2)
        line = _one_line_error(_run("dump", proc.pid))
        assert "is not running Python" in line
    finally:
        proc.kill()
        proc.wait()


def test_stripped_interpreter(tmp_path):
    """An executable named like Python without an interpreter's symbols (a
    stripped static build looks like this from outside)."""
    fake = tmp_path / "python3.12"
    shutil.copy(shutil.which("sleep"), fake)
    proc = subprocess.Popen([str(fake), "30"])
    try:
        time.sleep(0.2)
        line = _one_line_error(_run("attach", proc.pid, "--duration", "1"))
        assert "no _PyRuntime symbol" in line and "stripped" in line
    finally:
        proc.kill()
        proc.wait()


def test_unsupported_version():
    py = _pyenv_python("3.8")
    if py is None:
        pytest.skip("no CPython 3.8 from pyenv")
    proc = subprocess.Popen([py, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.5)
        line = _one_line_error(_run("dump", proc.pid))
        assert line.endswith("runs Python 3.8; pyrometer reads Python 3.9 to 3.15 in another process")
    finally:
        proc.kill()
        proc.wait()


def test_permission_denied():
    """An unprivileged user reading a root process: refused, and the line
    says what would allow it.  (A forked child drops to nobody and runs the
    CLI already imported here.)"""
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to another user")
    from pyrometer import cli
    from pyrometer.cli import attach, dump  # noqa: F401  (imported before dropping privileges)

    t = Target(_interpreter(_target_version("3.12")))
    r, w = os.pipe()
    try:
        child = os.fork()
        if child == 0:
            try:
                os.close(r)
                os.dup2(w, 2)
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                sys.stderr = os.fdopen(2, "w")
                status = cli.main(["dump", str(t.pid)])
            except BaseException:
                status = 99
            os._exit(status)
        os.close(w)
        err = b""
        while True:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            err += chunk
        _, status = os.waitpid(child, 0)
        assert os.WEXITSTATUS(status) == 1
        lines = err.decode().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("pyrometer: "), err
        assert "permission denied" in lines[0]
        assert "ptrace_scope" in lines[0] and "CAP_SYS_PTRACE" in lines[0]
    finally:
        os.close(r)
        t.close()


def test_usage_errors():
    assert _one_line_error(_run("dump")).endswith("dump needs a PID; usage: pyrometer dump PID [--json] [--locals]")
    assert "PID must be a process id" in _one_line_error(_run("attach", "abc"))
    assert "--mode must be wall or cpu" in _one_line_error(_run("attach", "1", "--mode", "gil"))
    assert _run("attach", "--help").stdout.startswith("usage: pyrometer attach PID")


# ---- stacks of pyrometer run's own program, and of the caller -----------------

WATCH = "attach_watch.py"


def _frames_of(text, function):
    """(function, file, line) lines of a dump, as printed."""
    return [line.strip() for line in text.splitlines() if line.strip().startswith(function + " (")]


def test_run_dump_on_signal_and_hang():
    """SIGUSR1 prints every thread's stack and the program goes on: same
    stdout and exit status as a plain run; --hang prints them once more."""
    plain = subprocess.run([sys.executable, program(WATCH), "wait"], capture_output=True, text=True, timeout=60)
    proc = subprocess.Popen(pyrometer_cmd("run", "--dump-on", "USR1", "--hang", "1.5", "-o", os.devnull, "--format", "collapsed",
                                          program(WATCH), "wait"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGUSR1)
    out, err = proc.communicate(timeout=60)
    assert "ready\n" + out == plain.stdout and proc.returncode == plain.returncode == 0
    assert err.count("pyrometer: Python stacks of process %d" % proc.pid) == 2, err
    assert "(signal User defined signal 1)" in err and "(still running after 1.5s)" in err
    assert _frames_of(err, "worker")[0] == "worker (%s:%d)" % (program(WATCH), line_of(WATCH, "worker"))
    assert "<module> (%s:%d)" % (program(WATCH), line_of(WATCH, "join")) in err
    assert "cli/run.py" not in err  # the runner's frames are left out


def test_run_dump_on_fatal_matches_faulthandler():
    """A segfault: the stacks, then death by SIGSEGV as without pyrometer;
    the crashing thread's frames are the ones faulthandler prints."""
    plain = subprocess.run([sys.executable, "-X", "faulthandler", program(WATCH), "crash"],
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode == -signal.SIGSEGV
    # faulthandler: '  File "path", line N in function', innermost first, in
    # the crashing thread's block (3.14+ add its C stack after it)
    import re

    crashed = [b for b in plain.stderr.split("\n\n") if b.startswith("Current thread ") and 'File "' in b][-1]
    theirs = [(m.group(3), m.group(1), int(m.group(2)))
              for m in re.finditer(r'File "(.*)", line (\d+) in (\S+)', crashed)]
    result = subprocess.run(pyrometer_cmd("run", "--dump-on-fatal", "-o", os.devnull, "--format", "collapsed", program(WATCH), "crash"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == -signal.SIGSEGV, result.stderr
    assert "(signal Segmentation fault)" in result.stderr
    block = [b for b in result.stderr.split("\n\n") if "string_at" in b][0]
    ours = [re.match(r"(\S+) \((.*):(\d+)\)", line.strip()).groups() for line in block.splitlines()[1:]]
    ours = [(f, file, int(n)) for f, file, n in ours]
    short = [(f.rsplit(".", 1)[-1], file, n) for f, file, n in ours]
    assert short == theirs


def test_run_dump_on_fatal_composes_with_faulthandler():
    """faulthandler enabled too: both reports are written, ours first (its
    handler was there before ours), and the process still dies by SIGSEGV."""
    cmd = pyrometer_cmd("run", "--dump-on-fatal", "-o", os.devnull, "--format", "collapsed", program(WATCH), "crash")
    result = subprocess.run(cmd[:1] + ["-X", "faulthandler"] + cmd[1:], capture_output=True, text=True, timeout=60)
    assert result.returncode == -signal.SIGSEGV, result.stderr
    ours = result.stderr.find("(signal Segmentation fault)")
    theirs = result.stderr.find("Fatal Python error: Segmentation fault")
    assert 0 <= ours < theirs, result.stderr
    assert "string_at" in result.stderr[ours:theirs]


def test_run_dump_on_fatal_report_is_whole_while_signals_keep_arriving():
    """A signal that arrives while the crashing thread waits for the report
    (a timer every 50 us here; the sampler's capture signal, or the
    program's own, in practice) must not end the wait: the report is whole,
    down to the crashing thread's outermost frame, and only then does the
    process die by SIGSEGV.  (Each wait used to end at the first signal:
    8 reports in 10 were cut short.)"""
    for _ in range(3):
        result = subprocess.run(pyrometer_cmd("run", "--dump-on-fatal", "-o", os.devnull, "--format", "collapsed",
                                              program(WATCH), "crash-interrupted"),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == -signal.SIGSEGV, result.stderr
        assert "(signal Segmentation fault)" in result.stderr, result.stderr
        crashed = [b for b in result.stderr.split("\n\n") if "string_at" in b]
        assert crashed and "<module> (%s:" % program(WATCH) in crashed[0], result.stderr[-2000:]


def test_dump_stacks_matches_traceback():
    import traceback

    r, w = os.pipe()
    with os.fdopen(w, "w") as stream:
        expected = traceback.extract_stack()
        pyrometer.dump_stacks(stream)
    text = os.fdopen(r).read()
    block = [b for b in text.split("\n\n") if "dump_stacks (" in b][0]
    import re

    frames = [re.match(r"(\S+) \((.*):(\d+)\)", line.strip()).groups() for line in block.splitlines()[1:]]
    assert frames[0][0] == "dump_stacks"
    # qualified names (3.11+) against traceback's plain ones
    got = [(name.rsplit(".", 1)[-1], file, int(line)) for name, file, line in frames[1:]]
    want = [(f.name, f.filename, f.lineno) for f in reversed(expected)]
    # The caller's own line is the call, one below the extract_stack line.
    assert got[0] == (want[0][0], want[0][1], want[0][2] + 1)
    assert got[1:] == want[1:]


def test_dump_stacks_folds_a_recursion():
    """300 calls of one function in a row print as a traceback prints them:
    three, then how many more; the frames below are traceback's."""
    import re
    import traceback

    r, w = os.pipe()

    def down(n):
        if n:
            return down(n - 1)  # MARK: down
        expected = traceback.extract_stack()
        pyrometer.dump_stacks(stream)
        return expected

    with os.fdopen(w, "w") as stream:
        expected = down(300)
    text = os.fdopen(r).read()
    block = [b for b in text.split("\n\n") if "dump_stacks (" in b][0].splitlines()[2:]
    assert block[4] == "    [previous frame repeated 297 more times]"
    frames = [re.match(r"(\S+) \((.*):(\d+)\)", text.strip()).groups() for text in block[:4] + block[5:]]
    got = [(name.rsplit(".", 1)[-1], file, int(n)) for name, file, n in frames]
    want = [(f.name, f.filename, f.lineno) for f in reversed(expected)]
    # The innermost down's line is the dump's call, one below the
    # extract_stack line; the 300 calls of down below it are shown 3 times.
    want[0] = (want[0][0], want[0][1], want[0][2] + 1)
    assert got == want[:4] + want[301:]


def _patched_copy(tmp_path, symbol, word, old, new):
    """This interpreter with the 64-bit word at symbol + 8 * word of the
    file defining it (a constant, or an initial value) changed from old to
    new, in a copy of that file: the executable, or a shared libpython
    (found first through LD_LIBRARY_PATH).  The same program otherwise, so it
    runs.  (python, environment to start it with), or None when neither file
    defines the symbol."""
    import sysconfig
    import struct

    nm = shutil.which("nm")
    exe = os.path.realpath(sys.executable)
    files = [exe]
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        files.append(os.path.join(sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME")))
    for path in files if nm else []:
        syms = subprocess.run([nm, "-D", "--defined-only", path], capture_output=True, text=True).stdout.split()
        if symbol not in syms:
            continue
        vaddr = int(syms[syms.index(symbol) - 2], 16) + 8 * word
        data = bytearray(open(path, "rb").read())
        phoff, = struct.unpack_from("<Q", data, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        for i in range(phnum):
            kind, _, offset, start, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
            if kind == 1 and start <= vaddr < start + filesz:  # the PT_LOAD segment holding it
                at = vaddr - start + offset
                assert struct.unpack_from("<Q", data, at)[0] == old
                struct.pack_into("<Q", data, at, new)
                fake = tmp_path / os.path.basename(path)
                fake.write_bytes(bytes(data))
                fake.chmod(0o755)
                if path == exe:  # the copy's standard library
                    return str(fake), {"PYTHONHOME": sys.base_prefix}
                return exe, {"LD_LIBRARY_PATH": str(tmp_path)}
    return None


def _refused(fake, monkeypatch, message):
    python, env = fake
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    t = Target(python)
    for k in env:
        monkeypatch.delenv(k)
    try:
        for cmd in (["dump"], ["attach", "--duration", "0.2"]):
            assert _one_line_error(_run(*(cmd + [t.pid]))) == "pyrometer: " + message % t.pid
    finally:
        t.close()


def test_unknown_version_is_refused_in_one_line(tmp_path, monkeypatch):
    """A Python pyrometer has no layout for (a copy of this interpreter
    whose Py_Version, where a reader from outside takes the version, says
    3.16): dump and attach refuse it in one line naming the version."""
    fake = _patched_copy(tmp_path, "Py_Version", 0, sys.hexversion, 0x031000F0)
    if fake is None:
        pytest.skip("no Py_Version in this interpreter (before 3.11)")
    _refused(fake, monkeypatch, "process %d runs Python 3.16; pyrometer reads Python 3.9 to 3.15 in another process")


@pytest.mark.skipif(sys.version_info < (3, 13), reason="_Py_DebugOffsets say whether a build is free-threaded from 3.13")
def test_free_threaded_is_refused_in_one_line(tmp_path, monkeypatch):
    """A free-threaded build, as its _Py_DebugOffsets say (a copy of this
    interpreter whose _PyRuntime starts with free_threaded = 1, the third
    word): refused in one line."""
    if getattr(sys, "_is_gil_enabled", lambda: True)() is False:
        pytest.skip("this interpreter is free-threaded itself")
    fake = _patched_copy(tmp_path, "_PyRuntime", 2, 0, 1)
    if fake is None:
        pytest.skip("no _PyRuntime among this interpreter's dynamic symbols")
    _refused(fake, monkeypatch, "process %%d runs a free-threaded Python %d.%d, which pyrometer does not read"
             % sys.version_info[:2])
