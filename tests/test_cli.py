"""`pyrometer run` must be invisible to the program: same argv, __main__,
sys.path[0], streams, exceptions, tracebacks and exit status as plain
python; and the profile is written however the program ends."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import pyrometer
from conftest import (
    PROGRAMS,
    _env,
    pyrometer_cmd,
    pyrometer_lines,
    program,
    run_plain,
    run_pyrometer,
    without_pyrometer_lines,
    wrote_only,
)


def test_version_and_help():
    proc = run_pyrometer("--version")
    assert proc.returncode == 0
    assert proc.stdout.decode() == "pyrometer %s\n" % pyrometer.__version__
    proc = run_pyrometer("--help")
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert out.startswith("usage: pyrometer run")
    for option in ("--rate", "--mode", "--no-idle", "--output", "--format", "--show-all",
                   "--threshold", "--top", "--color", "--no-color", "--timeline-cap"):
        assert option in out
    assert run_pyrometer("run", "--help").stdout == proc.stdout


@pytest.mark.parametrize("script", ["programs/show_env.py", "./programs/show_env.py"])
def test_program_sees_what_plain_python_gives_it(tmp_path, script):
    tests = PROGRAMS.parent
    args = [script, "an arg", "--rate", "-o", "\u00e9t\u00e9"]  # options after the script are its own
    plain = run_plain(*args, cwd=tests)
    assert plain.returncode == 0, plain.stderr
    out = tmp_path / "env.pyro"
    prof = run_pyrometer("run", "-o", out, *args, cwd=tests)
    assert prof.returncode == 0, prof.stderr
    assert prof.stdout == plain.stdout  # byte for byte
    info = json.loads(prof.stdout)
    assert info["argv"] == args
    assert info["name"] == "__main__"
    assert info["file"] == os.path.join(str(tests), script)
    assert info["path0"] == str(PROGRAMS)
    assert info["main_is_me"] and info["builtins_is_module"]
    assert info["loader"] == "SourceFileLoader"
    assert info["spec"] is None and info["package"] is None
    assert info["cached"] == (None if sys.version_info < (3, 15) else "<not set>")  # 3.15: no __cached__
    assert "pyrometer" not in json.dumps(info["globals"])
    assert pyrometer.load(out).meta["mode"] == "wall"


def test_stdout_and_stderr_are_untouched(tmp_path):
    plain = run_plain(program("stdio.py"))
    prof = run_pyrometer("run", "-o", tmp_path / "o.pyro", program("stdio.py"))
    assert prof.returncode == plain.returncode == 0
    assert prof.stdout == plain.stdout
    assert bytes(range(256)) in prof.stdout
    assert without_pyrometer_lines(prof.stderr) == plain.stderr.decode()


def test_report_goes_to_stderr_not_stdout():
    plain = run_plain(program("stdio.py"))
    prof = run_pyrometer("run", "--rate", "500", program("stdio.py"))
    assert prof.returncode == 0
    assert prof.stdout == plain.stdout
    err = prof.stderr.decode()
    assert err.startswith("to stderr\n")
    assert len(err) > len("to stderr\n")  # the report follows the program's own stderr
    assert "\x1b[" not in err  # not a terminal: no colours


def test_stdin_passes_through(tmp_path):
    data = os.urandom(200000) + b"\nlast line without newline"
    plain = run_plain(program("stdio.py"), "stdin", input=data)
    prof = run_pyrometer("run", "-o", tmp_path / "o.pyro", program("stdio.py"), "stdin", input=data)
    assert prof.returncode == plain.returncode == 0
    assert prof.stdout == plain.stdout
    assert data[::-1] in prof.stdout


@pytest.mark.parametrize(
    "how, status",
    [("fallthrough", 0), ("0", 0), ("none", 0), ("3", 3), ("string", 1), ("raise", 1), ("chained", 1)],
)
def test_exit_status_and_messages(tmp_path, how, status):
    plain = run_plain(program("exit_with.py"), how)
    out = tmp_path / "o.pyro"
    prof = run_pyrometer("run", "-o", out, program("exit_with.py"), how)
    assert plain.returncode == status
    assert prof.returncode == status
    assert prof.stdout == plain.stdout
    assert b"atexit handler ran" in prof.stdout
    # stderr: the program's, exactly, plus one pyrometer line
    assert wrote_only(prof.stderr, out)
    assert without_pyrometer_lines(prof.stderr) == plain.stderr.decode()
    if how == "string":
        assert plain.stderr == b"bye: this message goes to stderr\n"
    if how in ("raise", "chained"):
        err = prof.stderr.decode()
        assert "Traceback (most recent call last):" in err
        assert "pyrometer" not in without_pyrometer_lines(err)
        assert 'in outer' in err and 'in inner' in err
    assert pyrometer.load(out).meta["command"].startswith("pyrometer run")


def test_syntax_error_is_reported_like_python(tmp_path):
    plain = run_plain(program("syntax_error.py"))
    prof = run_pyrometer("run", "-o", tmp_path / "o.pyro", program("syntax_error.py"))
    assert plain.returncode == prof.returncode == 1
    assert prof.stdout == plain.stdout == b""
    assert prof.stderr == plain.stderr
    assert b"SyntaxError" in prof.stderr


def test_module(tmp_path):
    out = tmp_path / "m.pyro"
    plain = run_plain("-m", "pyro_testmod", "x", "-o", cwd=PROGRAMS)
    prof = run_pyrometer("run", "-o", out, "-m", "pyro_testmod", "x", "-o", cwd=PROGRAMS)
    assert plain.returncode == prof.returncode == 0, prof.stderr
    assert prof.stdout == plain.stdout
    info = json.loads(prof.stdout)
    assert info["argv"] == [str(PROGRAMS / "pyro_testmod.py"), "x", "-o"]
    assert info["name"] == "__main__" and info["spec"] == "pyro_testmod"
    assert info["path0"] == str(PROGRAMS)
    assert info["main_is_me"]
    assert pyrometer.load(out).meta["mode"] == "wall"


def test_module_package_and_bundled_flag(tmp_path):
    plain = run_plain("-m", "pyro_testpkg", "y", cwd=PROGRAMS)
    prof = run_pyrometer("run", "-o", tmp_path / "p.pyro", "-mpyro_testpkg", "y", cwd=PROGRAMS)
    assert plain.returncode == prof.returncode == 0, prof.stderr
    assert prof.stdout == plain.stdout
    assert json.loads(prof.stdout)["file"].endswith(os.path.join("pyro_testpkg", "__main__.py"))


def test_module_traceback_is_pythons(tmp_path):
    plain = run_plain("-m", "pyro_testmod", "raise", cwd=PROGRAMS)
    prof = run_pyrometer("run", "-o", tmp_path / "m.pyro", "-m", "pyro_testmod", "raise", cwd=PROGRAMS)
    assert plain.returncode == prof.returncode == 1
    assert prof.stdout == plain.stdout
    # python -m shows runpy's frames; so must we, and nothing of ours.
    assert without_pyrometer_lines(prof.stderr) == plain.stderr.decode()
    assert b"LookupError" in plain.stderr


def test_python_dash_m_pyrometer_is_the_pyrometer_command(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "pyrometer")
    if not os.path.exists(script):
        pytest.skip("no pyrometer console script beside %s" % sys.executable)
    for args in (["--version"], ["--help"], ["run", "--rate", "0", "x.py"]):
        a = subprocess.run([script] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
        b = run_pyrometer(*args)
        assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)
    outs = []
    for name, cmd in (("script", [script]), ("module", pyrometer_cmd())):
        out = tmp_path / (name + ".pyro")
        proc = subprocess.run(
            cmd + ["run", "-o", str(out), program("exit_with.py"), "raise"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=str(tmp_path),
        )
        outs.append((proc.returncode, proc.stdout, without_pyrometer_lines(proc.stderr)))
        assert pyrometer.load(out).meta["command"].startswith("pyrometer run -o")
    assert outs[0] == outs[1]
    assert outs[0][0] == 1


def _default_sigint():
    # A shell without job control starts background commands with SIGINT
    # ignored, and an ignored SIGINT is inherited: Python then never turns
    # it into KeyboardInterrupt.  The program starts as from a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(cmd, cwd):
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=str(cwd),
        stdin=subprocess.DEVNULL, preexec_fn=_default_sigint,
    )
    line = proc.stdout.readline()
    assert line == b"ready\n", (line, proc.stderr.read() if proc.poll() is not None else b"")
    time.sleep(0.4)  # let it work (and be sampled) a little
    return proc


def _finish(proc, sig):
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, b"ready\n" + out, err.decode()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signals_end_the_program_as_plain_python_but_the_profile_is_written(tmp_path, sig):
    plain = _finish(_start([sys.executable, program("wait_for_signal.py")], tmp_path), sig)
    out = tmp_path / "sig.pyro"
    prof = _finish(
        _start(pyrometer_cmd("run", "-o", out, program("wait_for_signal.py")), tmp_path), sig
    )
    assert plain[0] == -sig  # python dies of the signal...
    assert prof[0] == plain[0]  # ...and so does the program under pyrometer
    assert prof[1] == plain[1]  # same stdout (atexit ran after Ctrl-C, not after SIGTERM)
    assert wrote_only(prof[2], out)
    if sig == signal.SIGINT:
        assert plain[2].startswith("Traceback (most recent call last):")
        assert prof[2].split("\n", 1)[1].startswith("Traceback (most recent call last):")
        assert without_pyrometer_lines(prof[2]).rstrip().endswith("KeyboardInterrupt")
        assert "pyrometer" not in without_pyrometer_lines(prof[2])
        assert "cli.py" not in prof[2]
    p = pyrometer.load(out)
    assert any(
        f[0] == "busy_wait" for stacks in p.stacks().values() for stack in stacks for f in stack
    )


def test_own_sigterm_handler_is_left_alone(tmp_path):
    plain = _finish(_start([sys.executable, program("wait_for_signal.py"), "handler"], tmp_path), signal.SIGTERM)
    out = tmp_path / "h.pyro"
    prof = _finish(
        _start(pyrometer_cmd("run", "-o", out, program("wait_for_signal.py"), "handler"), tmp_path),
        signal.SIGTERM,
    )
    assert plain[0] == prof[0] == 7
    assert prof[1] == plain[1]
    assert b"own handler ran" in prof[1]
    assert pyrometer.load(out).threads


def test_output_written_where_asked_even_if_program_chdirs(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    out = tmp_path / "rel.pyro"
    code = "import os; os.chdir(%r); print(os.getcwd())" % str(work)
    script = tmp_path / "chdir.py"
    script.write_text(code)
    proc = run_pyrometer("run", "-o", "rel.pyro", script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and not (work / "rel.pyro").exists()
    assert wrote_only(proc.stderr, "rel.pyro")


def test_command_line_is_quoted_as_shlex_quotes():
    """The recorded command line reads back with shlex.split (quoted by
    shlex's rule without importing it at start-up)."""
    import shlex

    from pyrometer import _env

    argv = ["pyrometer", "run", "", "a b", "it's", "x$y", "é", "a/b.c:d=e,f@g%h+i-j", "tab\there", "new\nline"]
    line = _env.command_line(argv)
    assert line == " ".join(shlex.quote(a) for a in argv)
    assert shlex.split(line) == argv
