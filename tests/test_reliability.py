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

from conftest import PROGRAMS, _env, pyrometer_lines, run_plain, run_pyrometer, without_pyrometer_lines, wrote_only

import pyrometer

REL = PROGRAMS / "reliability"
MODES = ("wall", "cpu", "calls", "timeline", "lines", "memory")
TIMEOUT = 120


def rel(name):
    return str(REL / name)


def _normalise(stderr):
    """stderr without pyrometer's lines, and with the pid in 3.12+'s fork
    warning (the only text that differs from run to run) blanked."""
    text = without_pyrometer_lines(stderr)
    return re.sub(r"\(pid=\d+\)", "(pid=N)", text)


def same_as_plain(tmp_path, args, mode="wall", output="out.pyro", options=(), timeout=TIMEOUT, cwd=None,
                  env=None, drops_ok=False):
    """Runs ``python ARGS`` and ``pyrometer run --mode MODE -o OUT ARGS``;
    asserts the same stdout, stderr and exit status; returns (pyrometer's
    completed process, the profile loaded back).  drops_ok: pyrometer may
    also say that the timeline's ring was full (its oldest events dropped)."""
    plain = run_plain(*args, timeout=timeout, cwd=cwd, env=env)
    out = tmp_path / output
    prof = run_pyrometer("run", "--mode", mode, "-o", out, *options, *args, timeout=timeout, cwd=cwd, env=env)
    assert prof.stdout == plain.stdout
    assert _normalise(prof.stderr) == _normalise(plain.stderr), prof.stderr.decode("utf-8", "replace")
    assert prof.returncode == plain.returncode, prof.stderr
    said = prof.stderr
    if drops_ok:
        dropped = b"pyrometer: timeline: the oldest "
        said = b"".join(line for line in said.splitlines(True) if not line.startswith(dropped))
    assert wrote_only(said, out), prof.stderr
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
# one it tries) but the program sees every id free and may claim any, ours
# included: pyrometer then moves to another free id (with none free it waits
# for one).  Before 3.12 the program uses sys.setprofile and sys.settrace
# instead, whatever the ids say.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ids", ["0", "1", "2", "3", "4", "5", "3 4", "0 1 2 3 5", "0 1 2 3 4 5"])
def test_program_claims_tool_ids(tmp_path, mode, ids):
    same_as_plain(tmp_path, [rel("claim_tool.py")] + ids.split(), mode=mode)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring")
@pytest.mark.parametrize("ids", ["4", "3 4", "5 4 3"])
def test_calls_counted_exactly_after_the_program_takes_our_tool_id(tmp_path, ids):
    _, prof = same_as_plain(tmp_path, [rel("claim_tool.py")] + ids.split(), mode="calls")
    from pyrometer import _calls
    work = [v for k, v in _calls.pstats_of(prof.native).items() if k[2].endswith("work")]
    assert [w[:2] for w in work] == [(1, 465)]  # work(12): 465 calls, 1 primitive


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring")
@pytest.mark.parametrize("mode", ["calls", "lines"])
def test_deterministic_modes_leave_every_tool_id_free_to_see(tmp_path, mode):
    probe = tmp_path / "probe.py"
    probe.write_text("import sys\nm = sys.monitoring\nprint([m.get_tool(i) for i in range(6)])\n"
                     "m.free_tool_id(4)\nprint(m.get_tool(4))\n")
    r, _ = same_as_plain(tmp_path, [probe], mode=mode)
    assert r.stdout.decode() == "[None, None, None, None, None, None]\nNone\n"


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
    # A pool's threads poll on their own clock, so how many calls a run
    # makes, and whether they fill the timeline's ring (a million events),
    # depends on the machine: 1,034,350 once on 3.15.
    r, p = same_as_plain(tmp_path, [rel("pool.py"), method, str(rounds)], mode=mode, timeout=90,
                         drops_ok=mode == "timeline")
    assert r.stdout == ("%s %d %d\n" % (method, rounds, 285 * rounds)).encode()
    # timeline mode is calls mode with a timeline: its meta says both
    assert p.meta["mode"] == ("calls" if mode == "timeline" else mode)
    assert (p.meta.get("timeline") == "calls") == (mode == "timeline")


@pytest.mark.parametrize("mode", MODES)
def test_fork_pool_shuts_down(tmp_path, mode):
    _pool_case(tmp_path, mode, "fork", 20)


@pytest.mark.heavy
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_spawn_and_forkserver_pools(tmp_path, mode, method):
    _pool_case(tmp_path, mode, method, 20)


# ---- -o PATH never destroys what PATH is ------------------------------------------------


def _reader(path, into):
    with open(path, "rb") as f:
        into.append(f.read())


def _fifo_run(fifo, run):
    """Runs run() while a thread reads the FIFO; returns (run's result, bytes)."""
    got = []
    t = threading.Thread(target=_reader, args=(fifo, got))
    t.start()
    try:
        result = run()
    finally:
        t.join(60)
    assert not t.is_alive()
    return result, got[0]


def test_output_to_a_symlink_writes_its_target(tmp_path):
    target = tmp_path / "real" / "target.pyro"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.pyro"
    link.symlink_to(target)
    # calls mode: a profile that has threads whatever the machine's load
    r = run_pyrometer("run", "--mode", "calls", "-o", link, rel("busy.py"), timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and os.readlink(str(link)) == str(target)
    assert pyrometer.load(target).threads
    # convert and view -o too; a dangling link names the file to create
    dangling = tmp_path / "dangling.collapsed"
    dangling.symlink_to(tmp_path / "made.collapsed")
    r = run_pyrometer("convert", target, dangling, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert dangling.is_symlink() and pyrometer.load(tmp_path / "made.collapsed").threads
    html_link = tmp_path / "v.html"
    html_link.symlink_to(tmp_path / "real" / "v-target.html")
    r = run_pyrometer("view", "--no-browser", "-o", html_link, target, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert html_link.is_symlink() and (tmp_path / "real" / "v-target.html").read_bytes().startswith(b"<!")


@pytest.mark.parametrize("fmt", ["pyro", "collapsed", "pstats", "speedscope"])
def test_output_to_a_fifo_streams(tmp_path, fmt):
    fifo = tmp_path / "pipe"
    os.mkfifo(str(fifo))
    r, data = _fifo_run(fifo, lambda: run_pyrometer("run", "--mode", "calls", "--format", fmt, "-o", fifo,
                                                    rel("busy.py"), timeout=TIMEOUT))
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(os.lstat(str(fifo)).st_mode)
    assert pyrometer.ProfileData.from_bytes(data).threads
    # convert streams into it as well
    saved = tmp_path / "saved.pyro"
    saved.write_bytes(data if fmt == "pyro" else pyrometer.ProfileData.from_bytes(data).to_bytes("pyro"))
    r, data = _fifo_run(fifo, lambda: run_pyrometer("convert", saved, fifo, "--format", "collapsed",
                                                    timeout=TIMEOUT))
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(os.lstat(str(fifo)).st_mode)
    assert pyrometer.ProfileData.from_bytes(data).threads


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")
def test_output_to_a_device_node_streams_and_keeps_it(tmp_path):
    null = tmp_path / "null"  # a private node (1, 3) = /dev/null's numbers, never /dev itself
    os.mknod(str(null), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    r = run_pyrometer("run", "-o", null, "--format", "pyro", rel("busy.py"), timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISCHR(os.lstat(str(null)).st_mode)
    full = tmp_path / "full"  # (1, 7): every write fails with ENOSPC
    os.mknod(str(full), 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    r = run_pyrometer("run", "-o", full, "--format", "pyro", rel("busy.py"), timeout=TIMEOUT)
    assert r.stdout == b"done\n"
    assert r.returncode != 0
    lines = pyrometer_lines(r.stderr)
    assert len(lines) == 1 and "cannot write" in lines[0] and "full" in lines[0], r.stderr
    assert stat.S_ISCHR(os.lstat(str(full)).st_mode)
    r = run_pyrometer("convert", tmp_path / "nothing.pyro", null, "--format", "pyro", timeout=TIMEOUT)
    assert r.returncode != 0 and stat.S_ISCHR(os.lstat(str(null)).st_mode)


def test_output_to_stdout_streams_after_the_programs_output(tmp_path):
    for dest in ("-", "/dev/stdout"):
        r = run_pyrometer("run", "--mode", "calls", "--format", "collapsed", "-o", dest, rel("busy.py"),
                          timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr
        first, rest = r.stdout.split(b"\n", 1)
        assert first == b"done"
        assert pyrometer.ProfileData.from_bytes(rest).threads


def test_output_to_other_non_regular_files_is_one_line(tmp_path):
    import socket

    sock_path = tmp_path / "s"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(sock_path))
    try:
        for dest, what in ((tmp_path, "a directory"), (sock_path, "a socket")):
            r = run_pyrometer("run", "-o", dest, "--format", "pyro", rel("busy.py"), timeout=TIMEOUT)
            assert r.returncode == 2 and r.stdout == b""
            assert pyrometer_lines(r.stderr) == ["pyrometer: cannot write %s: it is %s" % (dest, what)]
            assert r.stderr.count(b"\n") == 1
        assert stat.S_ISSOCK(os.lstat(str(sock_path)).st_mode)
    finally:
        s.close()


# ---- an empty profile is a valid file of every format pyrometer reads back ---------------


@pytest.mark.parametrize("mode", MODES)
def test_empty_profile_reads_back_in_every_format(tmp_path, mode):
    import json
    import pstats

    for ext in ("pyro", "collapsed", "prof", "speedscope.json", "pb.gz", "trace.json", "gecko.json", "html"):
        if mode == "memory" and ext == "prof":
            continue  # a memory profile is refused as pstats (tests/test_memory.py)
        r, _ = same_as_plain(tmp_path, [rel("empty.py")], mode=mode, output="e." + ext) if ext == "pyro" else (
            None, None)
        if ext != "pyro":
            out = tmp_path / ("e." + ext)
            r = run_pyrometer("run", "--mode", mode, "-o", out, rel("empty.py"), timeout=TIMEOUT)
            assert r.returncode == 0 and r.stdout == b"", r.stderr
            assert out.stat().st_size > 0, ext
            if ext in ("collapsed", "prof", "speedscope.json"):
                pyrometer.load(out)
            if ext == "prof":
                pstats.Stats(str(out))
            if ext.endswith("json"):
                json.loads(out.read_bytes())
    # and the API's own empty profile
    empty = pyrometer.ProfileData.from_bytes((tmp_path / "e.collapsed").read_bytes())
    for fmt in ("pyro", "collapsed", "pstats", "speedscope"):
        pyrometer.ProfileData.from_bytes(empty.to_bytes(fmt))


# ---- the program's stacks start at the program --------------------------------------------

_RUNNER = (b"_run_script", b"_run_module", b"_run_main_of", b"_wait_for_threads", b"pyrometer/cli",
           b"pyrometer/__main__.py", b"_run_module_as_main", b"_run_code")
_EXTS = ("pyro", "collapsed", "prof", "speedscope.json", "pb.gz", "trace.json", "gecko.json", "html")


def _plain_bytes(path):
    import gzip

    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if path.name.endswith(".html"):  # only the embedded profile, not the viewer's code
        data = data[data.index(b'"frames"'):]
    return data


@pytest.mark.parametrize("mode", ["wall", "cpu", "calls", "lines"])
@pytest.mark.parametrize("how", ["script", "module", "command"])
def test_stacks_start_at_the_program(tmp_path, mode, how):
    args = {
        "script": [rel("spin_mod.py")],
        "module": ["-m", "spin_mod"],
        "command": ["-c", "import spin_mod; spin_mod.main()"],
    }[how]
    for ext in _EXTS:
        out = tmp_path / ("p." + ext)
        r = run_pyrometer("run", "--mode", mode, "-o", out, *args, cwd=REL, timeout=TIMEOUT)
        assert r.returncode == 0 and r.stdout == b"spun\n", r.stderr
        data = _plain_bytes(out)
        for word in _RUNNER:
            assert word not in data, (ext, word)
    if mode == "lines":
        return
    p = pyrometer.load(tmp_path / "p.pyro")
    mains = [t for t in p.threads if t.name == "MainThread"]
    if mode != "calls" and not mains:
        return  # a machine too loaded to take a sample in 0.2 s: nothing to look at
    stacks = [s for s in p.stacks("calls" if mode == "calls" else "samples")[mains[0]] if s]
    assert stacks or mode != "calls"
    top = "<string>" if how == "command" else rel("spin_mod.py")
    for stack in stacks:
        if stack[0][0] != "_shutdown":  # threading's, as the interpreter runs it at exit
            assert stack[0][0] == "<module>" and stack[0][1] == top, stack[:3]
    assert mode != "calls" or any(f[0].endswith("spin") for s in stacks for f in s)
    # the report and the collapsed stacks (the thread, then the program's <module>)
    for line in (tmp_path / "p.collapsed").read_text().splitlines():
        frames = line.split(";")
        if frames[0] == "MainThread" and not frames[1].startswith("_shutdown"):
            assert frames[1].startswith("<module> (%s:" % top), line


@pytest.mark.parametrize("mode", ["wall", "calls"])
def test_stacks_start_at_the_program_in_the_report(tmp_path, mode):
    out = tmp_path / "r.txt"
    show_all = ["--show-all"] if mode == "wall" else []  # the call tree's option; calls mode prints a table
    r = run_pyrometer("run", "--mode", mode, *show_all, "-o", out, rel("spin_mod.py"), timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "spin" in text or mode != "calls"  # a loaded machine may leave a 0.2 s run unsampled
    for word in _RUNNER:
        assert word.decode() not in text


@pytest.mark.parametrize("code", [
    "import sys; print(sys.argv, repr(sys.path[0]), __name__, '__file__' in dir())",
    "import spin_mod; spin_mod.main(); raise SystemExit(3)",
    "def f():\n    raise ValueError('boom')\nf()",
])
def test_dash_c_is_python_dash_c(tmp_path, code):
    same_as_plain(tmp_path, ["-c", code, "a", "b"], cwd=REL)


def test_dash_c_syntax_error_is_pythons(tmp_path):
    plain = run_plain("-c", "print(1\n", timeout=TIMEOUT)
    prof = run_pyrometer("run", "-o", tmp_path / "p.pyro", "-c", "print(1\n", timeout=TIMEOUT)
    assert (prof.returncode, prof.stdout, prof.stderr) == (plain.returncode, plain.stdout, plain.stderr)


# ---- deep recursion: runs as without pyrometer; the API's views stay linear ---------------


def _deep_case(tmp_path, mode):
    import pstats

    r, p = same_as_plain(tmp_path, [rel("recurse.py"), "15000"], mode=mode, timeout=180)
    assert r.stdout == b"15000\n"
    metric = {"calls": "calls", "lines": "hits"}.get(mode, "samples")
    stacks = p.stacks(metric)  # was past 4 GB for a calls profile: one tuple per stack
    mains = [t for t in p.threads if t.name == "MainThread"]
    if not mains:  # a sampler that took no sample (a loaded machine): the views must still work
        assert mode in ("wall", "cpu")
        p.func_stats(metric)
        p.report(show_all=True)
        return
    main = mains[0]
    if not stacks[main]:
        # The sampler may see no whole stack of a recursion this deep and
        # fast (its torn reads are another matter): the views must still work.
        assert mode in ("wall", "cpu")
        stacks[main][()] = 0
    deepest = max(stacks[main], key=len)
    if mode in ("wall", "cpu"):
        # Stacks deeper than the walk's limit keep their innermost frames
        # under <truncated>, and the samples so charged are counted.
        cut = sum(v for s, v in p.stacks("samples")[main].items() if s and s[0][0] == "<truncated>")
        counted = p.meta.get("samples_truncated", 0)
        assert counted == cut if mode == "wall" else counted <= cut, (counted, cut)
        assert cut == 0 or p.meta["stack_depth_limit"] < 15000
    if mode == "calls":
        assert len(deepest) > 10000
        # (calls mode times builtins: the innermost frame may be one that down calls)
        python_frames = [f for f in deepest if f[1] != "~"]
        assert deepest[0][0] == "<module>" and python_frames[-1][0].endswith("down")
    # a Stack is its tuple: equal, same hash, usable as the key
    as_tuple = tuple(deepest)
    assert deepest == as_tuple and hash(deepest) == hash(as_tuple)
    assert stacks[main][as_tuple] == stacks[main][deepest]
    assert list(deepest[:2]) == list(as_tuple[:2]) and deepest[-1:] == as_tuple[-1:]
    p.func_stats(metric)
    p.report(show_all=True)
    again = pyrometer.ProfileData.from_bytes(p.to_bytes("pyro"))
    assert sum(sum(s.values()) for s in again.stacks(metric).values()) == sum(
        sum(s.values()) for s in stacks.values())
    prof = tmp_path / "deep.prof"
    p.write(prof)
    names = [k[2] for k in pstats.Stats(str(prof)).stats]
    assert mode != "calls" or any(n.endswith("down") for n in names)


def test_deep_recursion_calls_mode_and_its_api_views(tmp_path):
    _deep_case(tmp_path, "calls")


@pytest.mark.heavy
@pytest.mark.parametrize("mode", ["wall", "cpu", "lines"])
def test_deep_recursion_other_modes_and_their_api_views(tmp_path, mode):
    _deep_case(tmp_path, mode)


def test_stack_hashes_as_its_tuple():
    from pyrometer._profile import _tuple_hash_final, _tuple_hash_step, _XXPRIME_5

    for items in [(), ("a",), (("f", "x.py", 3), ("g", "x.py", 0)), tuple(range(50)), (-1, -2, 2 ** 70)]:
        acc = _XXPRIME_5
        for item in items:
            acc = _tuple_hash_step(acc, hash(item))
        assert _tuple_hash_final(acc, len(items)) == hash(items)


# ---- thousands of short-lived threads (idents reused): registering them is linear ----------


def _threads_case(tmp_path, mode):
    r, p = same_as_plain(tmp_path, [rel("many_threads.py"), "10000"], mode=mode, timeout=300)
    assert r.stdout == b"10000\n"
    names = [t.name for t in p.threads]
    # one model thread per OS thread that ran the target (idents are reused)
    assert len(p.threads) > 1000 and len(set((t.ident, t.native_id) for t in p.threads)) == len(p.threads)
    assert all(n for n in names)
    assert any(f[0].endswith("work") for s in p.stacks("calls" if mode == "calls" else "hits").values()
               for st in s for f in st) or mode == "lines"


def test_ten_thousand_threads_calls_mode(tmp_path):
    _threads_case(tmp_path, "calls")


@pytest.mark.heavy
def test_ten_thousand_threads_lines_mode(tmp_path):
    _threads_case(tmp_path, "lines")
