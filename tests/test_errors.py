"""pyrometer's own failures: one line on stderr starting "pyrometer: ", a
non-zero status (2 for bad usage), never a traceback, and the program does
not run."""
import os
import sys

import pytest

import pyrometer
from conftest import program, pyrometer_lines, run_pyrometer

MARKER = program("marker.py")


def check_one_line_error(proc, status=2):
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == status, err
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("pyrometer: "), repr(err)
    assert "Traceback" not in err
    assert b"PROGRAM RAN" not in proc.stdout
    return err


BAD_USAGE = {
    "no command": [],
    "unknown command": ["frobnicate", MARKER],
    "no program": ["run"],
    "no program after options": ["run", "--rate", "100"],
    "-m without module": ["run", "-m"],
    "unknown option": ["run", "--bogus", MARKER],
    "rate zero": ["run", "--rate", "0", MARKER],
    "rate negative": ["run", "--rate", "-5", MARKER],
    "rate not a number": ["run", "--rate", "fast", MARKER],
    "rate absurd": ["run", "--rate", "1e9", MARKER],
    "rate nan": ["run", "--rate=nan", MARKER],
    "unknown mode": ["run", "--mode", "gpu", MARKER],
    "unknown format": ["run", "--format", "pdf", "-o", "x.pdf", MARKER],
    "threshold out of range": ["run", "--threshold", "250", MARKER],
    "top negative": ["run", "--top", "-1", MARKER],
    "timeline cap not a number": ["run", "--timeline-cap", "lots", MARKER],
    "flag with value": ["run", "--no-idle=1", MARKER],
    "format from unknown extension": ["run", "-o", "profile.bin", MARKER],
    "pyro format without a file": ["run", "--format", "pyro", MARKER],
    "program from stdin": ["run", "-"],
}


@pytest.mark.parametrize("args", list(BAD_USAGE.values()), ids=list(BAD_USAGE))
def test_bad_usage(args, tmp_path):
    check_one_line_error(run_pyrometer(*args, cwd=tmp_path))


def test_option_without_value():
    err = check_one_line_error(run_pyrometer("run", "--rate"))
    assert "--rate" in err


def test_missing_script(tmp_path):
    err = check_one_line_error(run_pyrometer("run", "no_such_script.py", cwd=tmp_path))
    assert "no_such_script.py" in err and "No such file" in err


def test_missing_module(tmp_path):
    err = check_one_line_error(run_pyrometer("run", "-m", "no_such_module_xyz", cwd=tmp_path))
    assert "no_such_module_xyz" in err


def test_directory_without_main(tmp_path):
    check_one_line_error(run_pyrometer("run", str(tmp_path)))


@pytest.mark.parametrize("where", ["missing directory", "parent is a file", "is a directory"])
def test_unwritable_output_is_refused_before_running(tmp_path, where):
    if where == "missing directory":
        out = tmp_path / "no" / "such" / "dir" / "p.pyro"
    elif where == "parent is a file":
        (tmp_path / "afile").write_text("x")
        out = tmp_path / "afile" / "p.pyro"
    else:
        out = tmp_path / "adir.pyro"
        out.mkdir()
    err = check_one_line_error(run_pyrometer("run", "-o", out, MARKER))
    assert "cannot write" in err and str(out) in err


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        err = check_one_line_error(run_pyrometer("run", "-o", ro / "p.pyro", MARKER))
        assert "cannot write" in err
    finally:
        ro.chmod(0o700)


def test_output_that_becomes_unwritable_is_saved_elsewhere(tmp_path):
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    out = doomed / "p.pyro"
    proc = run_pyrometer("run", "-o", out, program("remove_dir.py"), doomed)
    assert proc.stdout == b"removed doomed\n"
    lines = pyrometer_lines(proc.stderr)
    assert len(lines) == 1 and "Traceback" not in proc.stderr.decode(), proc.stderr
    line = lines[0]
    assert line.startswith("pyrometer: cannot write %s" % out), line
    # The profile is not lost: it went to a temporary file, named on the line.
    assert "; profile saved to " in line
    saved = line.rsplit("; profile saved to ", 1)[1]
    try:
        p = pyrometer.load(saved)
        assert p.meta["mode"] == "wall"
    finally:
        os.unlink(saved)
    # The program succeeded but pyrometer did not do its job.
    assert proc.returncode == 1


def _main_in_process(monkeypatch, capsys, args):
    """Runs pyrometer.cli.main in this process (for failures that cannot be
    provoked from outside); the failures tested here happen before the
    program or any process state is touched."""
    from pyrometer import cli

    saved = (list(sys.argv), list(sys.path), sys.modules["__main__"])
    status = cli.main(args)
    assert (list(sys.argv), list(sys.path), sys.modules["__main__"]) == saved
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_unsupported_python(monkeypatch, capsys):
    from pyrometer import _native

    monkeypatch.setattr(_native, "supported", lambda: (False, "no frame layout for this build"))
    status, out, err = _main_in_process(monkeypatch, capsys, ["run", MARKER])
    assert status == 1
    assert out == ""
    assert err == "pyrometer: Python %d.%d.%d is not supported: no frame layout for this build\n" % sys.version_info[:3]
    with pytest.raises(RuntimeError, match="no frame layout"):
        pyrometer.profile().start()


# `pyrometer run` on an interpreter pretending the newest tested minor is the
# one before it (what a CPython newer than pyrometer's newest looks like).
_AS_NEWER = """
import sys
from pyrometer import _native, cli
real = _native.supported
_native.supported = lambda: real(sys.version_info[1] - 1)
sys.exit(cli.main(sys.argv[1:]))
"""


def test_newer_python_warns_once_and_runs_or_refuses_in_one_line(tmp_path):
    import subprocess

    from conftest import _env

    out = tmp_path / "p.pyro"
    proc = subprocess.run(
        [sys.executable, "-c", _AS_NEWER, "run", "-o", str(out), MARKER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=_env(),
        timeout=120,
    )
    err = proc.stderr.decode("utf-8", "replace")
    minor = sys.version_info[1]
    known = "3.9-3.%d" % (minor - 1)
    if sys.version_info >= (3, 13):  # _Py_DebugOffsets to check the layout against
        assert proc.returncode == 0, err
        assert b"PROGRAM RAN" in proc.stdout
        warnings = [line for line in err.splitlines() if line.startswith("pyrometer: warning:")]
        assert warnings == [
            "pyrometer: warning: Python 3.%d is newer than the versions pyrometer is tested on (%s); running with "
            "its frame layout checked against the interpreter's _Py_DebugOffsets (%d fields, agree) and the stack "
            "self-check" % (minor, known, pyrometer._native._layout()["debug_offsets_fields"])
        ]
        assert "Traceback" not in err
        assert pyrometer.load(str(out)).meta["mode"] == "wall"
    else:
        err = check_one_line_error(proc, status=1)
        assert err == (
            "pyrometer: Python %d.%d.%d is not supported: it is newer than the versions pyrometer knows (%s) and its "
            "frame layout could not be checked against the interpreter's _Py_DebugOffsets (there are none)\n"
            % (sys.version_info[:3] + (known,))
        )
        assert not out.exists()


def test_self_check_failure(monkeypatch, capsys):
    from pyrometer import _native

    real = _native.Sampler

    class RefusingSampler:
        def __init__(self, profile, **options):
            self.inner = real(profile, **options)

        def start(self):
            raise RuntimeError("stack reader saw 3 frames, sys._getframe() 4")

        def stop(self):
            self.inner.stop()

    monkeypatch.setattr(_native, "Sampler", RefusingSampler)
    status, out, err = _main_in_process(monkeypatch, capsys, ["run", MARKER])
    assert status == 1
    assert "PROGRAM RAN" not in out
    assert err == "pyrometer: cannot start profiling: stack reader saw 3 frames, sys._getframe() 4\n"


def test_load_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.pyro"
    bad.write_bytes(b"this is not a profile")
    with pytest.raises(ValueError) as info:
        pyrometer.load(bad)
    assert "\n" not in str(info.value) and str(bad) in str(info.value)
    good = tmp_path / "good.pyro"
    proc = run_pyrometer("run", "-o", good, MARKER)
    assert proc.returncode == 0
    data = good.read_bytes()
    bad.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(ValueError):
        pyrometer.load(bad)
    with pytest.raises(OSError):
        pyrometer.load(tmp_path / "missing.pyro")
