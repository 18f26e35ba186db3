"""--native: C frames (an extension, the interpreter, libc) between the
Python frames that called them.  A test extension is compiled here with the
C compiler and this Python's headers, so its functions are known."""
import os
import subprocess
import sys

import pytest

from conftest import all_stacks, build_extension, pyrometer_lines, run_plain, run_pyrometer, wrote_only


EXT_SOURCE = r"""
#include <Python.h>

static volatile double sink;

/* Kept out of line so that it is a frame of its own. */
__attribute__((noinline)) static double pmspin_inner(long n)
{
    double x = 0;
    for (long i = 0; i < n; i++)
        x += (double)i * 0.5;
    return x;
}

static PyObject *pmspin_spin(PyObject *self, PyObject *arg)
{
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    sink = pmspin_inner(n);
    Py_RETURN_NONE;
}

/* C calling back into Python. */
static PyObject *pmspin_call(PyObject *self, PyObject *fn)
{
    PyObject *r = PyObject_CallNoArgs(fn);
    sink += 1;
    return r;
}

static PyMethodDef methods[] = {
    {"spin", pmspin_spin, METH_O, NULL},
    {"call", pmspin_call, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "pmspin", NULL, -1, methods};
PyMODINIT_FUNC PyInit_pmspin(void) { return PyModule_Create(&def); }
"""

PROGRAM = r"""
import hashlib
import sys
import zlib

sys.path.insert(0, sys.argv[1])
import pmspin


def spin_direct():
    for _ in range(150):
        pmspin.spin(1000000)


def callback():
    pmspin.spin(1000000)


def spin_via_callback():
    for _ in range(150):
        pmspin.call(callback)


def do_zlib():
    data = bytes(range(256)) * 4096
    n = 0
    for _ in range(40):
        n += len(zlib.compress(data, 9))
    return n


def do_hash():
    data = b"pyrometer" * 200000
    for _ in range(150):
        hashlib.sha256(data).hexdigest()


spin_direct()
spin_via_callback()
print("zlib", do_zlib())
do_hash()
print("done")
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("native")
    build_extension(d, "pmspin", EXT_SOURCE)
    (d / "prog.py").write_text(PROGRAM)
    return d


@pytest.fixture(scope="module")
def native_run(workdir):
    import pyrometer

    out = workdir / "native.pyro"
    proc = run_pyrometer("run", "--native", "-o", out, workdir / "prog.py", workdir, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert wrote_only(proc.stderr, out), proc.stderr
    return proc, pyrometer.load(str(out))


def sampling(profile):
    """The run's sample counts, for a failure's message: a profile with
    too few stacks says whether ticks were lost, torn or never taken."""
    keys = ("samples_expected", "samples_taken", "samples_torn", "samples_captured", "duration_s", "sampler_cpu_s")
    return {k: profile.meta.get(k) for k in keys}


def native_names(profile):
    return set(f[0] for f in profile.native.frames() if f[3] == 1)


def kinds(profile):
    return {(f[0], f[1]): f[3] for f in profile.native.frames()}


def stacks_with(profile, name):
    """The stacks (as lists of (name, file, kind)) through the Python function name."""
    kind = kinds(profile)
    for _, stack, weight in all_stacks(profile):
        frames = [(f[0], f[1], kind[(f[0], f[1])]) for f in stack]
        if any(f[0].rsplit(".", 1)[-1] == name and f[2] == 0 for f in frames):
            yield frames, weight


def below(frames, name):
    """What a Python frame called: the frames after it."""
    for i, f in enumerate(frames):
        if f[2] == 0 and f[0].rsplit(".", 1)[-1] == name:
            return frames[i + 1 :]
    raise AssertionError(name)


def test_output_unchanged(workdir, native_run):
    plain = run_plain(workdir / "prog.py", workdir, timeout=300)
    proc, _ = native_run
    assert proc.stdout == plain.stdout
    assert proc.returncode == plain.returncode == 0


def test_c_function_under_its_python_caller(native_run):
    _, profile = native_run
    hits = 0
    for frames, weight in stacks_with(profile, "spin_direct"):
        called = below(frames, "spin_direct")
        # The extension's function directly under the Python frame that
        # called it (the interpreter's call plumbing left out), then the
        # function it calls.
        if [f[0] for f in called[:2]] == ["pmspin_spin", "pmspin_inner"]:
            assert called[0][2] == called[1][2] == 1  # native frames
            assert os.path.basename(called[0][1]).startswith("pmspin")
            hits += weight
    assert hits >= 5, (sampling(profile), list(stacks_with(profile, "spin_direct")))


def test_python_called_from_c_sits_between_c_frames(native_run):
    _, profile = native_run
    hits = 0
    for frames, weight in stacks_with(profile, "spin_via_callback"):
        called = [f[0].rsplit(".", 1)[-1] for f in below(frames, "spin_via_callback")]
        if called[:4] == ["pmspin_call", "callback", "pmspin_spin", "pmspin_inner"]:
            hits += weight
    assert hits >= 5, (sampling(profile), list(stacks_with(profile, "spin_via_callback")))


def test_zlib_and_hashlib_show_their_c_frames(native_run):
    _, profile = native_run
    zlib_hits = hash_hits = 0
    for frames, weight in stacks_with(profile, "do_zlib"):
        called = below(frames, "do_zlib")
        if called and all(f[2] == 1 for f in called) and any("libz" in os.path.basename(f[1]) for f in called):
            zlib_hits += weight
    for frames, weight in stacks_with(profile, "do_hash"):
        called = below(frames, "do_hash")
        if called and all(f[2] == 1 for f in called) and any("sha256" in f[0].lower() for f in called):
            hash_hits += weight
    assert zlib_hits >= 5, (sampling(profile), list(stacks_with(profile, "do_zlib")))
    assert hash_hits >= 5, (sampling(profile), list(stacks_with(profile, "do_hash")))


def test_no_pseudo_frames_and_quality_counts(native_run):
    _, profile = native_run
    for name in native_names(profile):
        assert name and not name.startswith("<"), name
    meta = profile.meta
    assert meta["native"] == 1
    assert meta["samples_native"] > 0
    assert meta["samples_native_failed"] <= meta["samples_native"]


def test_without_native_no_c_frames(workdir):
    import pyrometer

    out = workdir / "plain.pyro"
    proc = run_pyrometer("run", "-o", out, workdir / "prog.py", workdir, timeout=300)
    assert proc.returncode == 0, proc.stderr
    profile = pyrometer.load(str(out))
    assert native_names(profile) == set()
    assert "native" not in profile.meta
    names = set(f[0].rsplit(".", 1)[-1] for f in profile.native.frames())
    assert "spin_direct" in names


def test_native_is_for_sampling_modes(workdir):
    proc = run_pyrometer("run", "--native", "--mode", "calls", workdir / "prog.py", workdir)
    assert proc.returncode != 0
    assert pyrometer_lines(proc.stderr) == ["pyrometer: --native is for the sampling modes (wall, cpu, gil), not --mode calls"]
    assert b"Traceback" not in proc.stderr


def test_api_native(workdir):
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "import pmspin, pyrometer\n"
        "with pyrometer.profile(native=True) as p:\n"
        "    for _ in range(40): pmspin.spin(1000000)\n"
        "print(sorted(set(f[0] for f in p.native.frames() if f[3] == 1) & {'pmspin_spin', 'pmspin_inner'}))\n"
    ) % str(workdir)
    proc = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() == "['pmspin_inner', 'pmspin_spin']"


BLOCKING = r"""
import threading
import time


def waiter():
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        sum(range(3000))
        time.sleep(0.002)


t = threading.Thread(target=waiter)
t.start()
t.join()
print("ok")
"""


def test_thread_off_cpu_named_by_its_blocking_call(tmp_path):
    """A thread that ran since the last tick but waits in a system call now is
    never signalled: its Python stack is read from outside and the C library
    function it waits in (from the kernel's view of its registers) is its
    leaf."""
    import pyrometer

    (tmp_path / "blocking.py").write_text(BLOCKING)
    out = tmp_path / "blocking.pyro"
    proc = run_pyrometer("run", "--native", "-o", out, tmp_path / "blocking.py", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"ok\n"
    profile = pyrometer.load(str(out))
    assert profile.meta["samples_native_syscall"] > 0
    waits = 0
    for frames, weight in stacks_with(profile, "waiter"):
        called = below(frames, "waiter")
        if len(called) == 1 and called[0][2] == 1 and os.path.basename(called[0][1]).startswith("libc.so"):
            waits += weight
    assert waits >= 5, list(stacks_with(profile, "waiter"))


def test_native_frames_in_pstats_and_pprof(workdir, native_run, tmp_path):
    """C frames reach the other formats as functions of their own, read back
    by the formats' own readers (pstats; go tool pprof)."""
    import pstats

    prof = tmp_path / "native.prof"
    pb = tmp_path / "native.pb.gz"
    for out in (prof, pb):
        proc = run_pyrometer("convert", workdir / "native.pyro", out)
        assert proc.returncode == 0, proc.stderr
    functions = set(key[2] for key in pstats.Stats(str(prof)).stats)
    assert {"pmspin_spin", "pmspin_inner"} <= functions, sampling(native_run[1])
    top = subprocess.run(["go", "tool", "pprof", "-top", "-nodefraction=0", str(pb)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=300)
    assert top.returncode == 0, top.stderr
    assert b"pmspin_inner" in top.stdout


def test_program_with_its_own_fault_handler_gets_python_frames(workdir, tmp_path):
    """faulthandler replaces the fault guard's handler: C stacks are then not
    unwound (a fault there would be the program's), samples keep their
    Python frames and the program runs as without pyrometer."""
    import pyrometer

    prog = tmp_path / "fh.py"
    prog.write_text(
        "import faulthandler, sys\n"
        "faulthandler.enable()\n"
        "sys.path.insert(0, %r)\n"
        "import pmspin\n"
        "def spin_here():\n"
        "    for _ in range(40): pmspin.spin(1000000)\n"
        "spin_here()\n"
        "print('ok')\n" % str(workdir)
    )
    out = tmp_path / "fh.pyro"
    proc = run_pyrometer("run", "--native", "-o", out, prog, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"ok\n"
    profile = pyrometer.load(str(out))
    assert profile.meta["samples_native_failed"] > 0
    assert "pmspin_inner" not in native_names(profile)
    assert any(short == "spin_here" for short in (f[0].rsplit(".", 1)[-1] for f in profile.native.frames()))
