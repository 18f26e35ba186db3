"""Memory mode's native allocations (--native-memory, native_memory=True):
malloc, calloc, realloc, posix_memalign and anonymous mmap called by an
extension module (built here) and by a library (sqlite3), against the
sizes the extension really allocated."""
import os
import subprocess
import sys

import pytest

import pyrometer
from conftest import build_extension, pyrometer_lines, run_pyrometer, without_pyrometer_lines

MB = 1024 * 1024

EXTENSION = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct { void *p; size_t n; int mapped; } block;

static void drop(PyObject *cap)
{
    block *b = PyCapsule_GetPointer(cap, "block");
    if (b->mapped)
        munmap(b->p, b->n);
    else
        free(b->p);
    free(b);
}

static PyObject *wrap(void *p, size_t n, int mapped)
{
    if (!p || p == MAP_FAILED)
        return PyErr_NoMemory();
    memset(p, 1, n); /* touched: resident, as a real buffer */
    block *b = malloc(sizeof *b);
    b->p = p;
    b->n = n;
    b->mapped = mapped;
    return PyCapsule_New(b, "block", drop);
}

/* A named function between the Python caller and the allocator: the
 * stack must show it. */
__attribute__((noinline)) void *nm_make_buffer(size_t n, int how)
{
    void *p = NULL;
    switch (how) {
    case 0: p = malloc(n); break;
    case 1: p = calloc(n, 1); break;
    case 2: {
        size_t have = 4096;
        p = malloc(have);
        while (p && have < n) {
            have = have * 2 < n ? have * 2 : n;
            p = realloc(p, have);
        }
        break;
    }
    case 3: if (posix_memalign(&p, 4096, n) != 0) p = NULL; break;
    case 4: p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); break;
    }
    __asm__ volatile("" ::: "memory"); /* not a tail call */
    return p;
}

static PyObject *alloc(PyObject *self, PyObject *args)
{
    Py_ssize_t n;
    int how = 0;
    if (!PyArg_ParseTuple(args, "n|i", &n, &how))
        return NULL;
    return wrap(nm_make_buffer((size_t)n, how), (size_t)n, how == 4);
}

static void *in_thread(void *arg)
{
    size_t n = *(size_t *)arg;
    return nm_make_buffer(n, 0);
}

/* From a thread the interpreter never saw (no thread state). */
static PyObject *alloc_in_thread(PyObject *self, PyObject *args)
{
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "n", &n))
        return NULL;
    size_t size = (size_t)n;
    pthread_t t;
    void *p = NULL;
    Py_BEGIN_ALLOW_THREADS
    if (pthread_create(&t, NULL, in_thread, &size) == 0)
        pthread_join(t, &p);
    Py_END_ALLOW_THREADS
    return wrap(p, size, 0);
}

static PyMethodDef methods[] = {
    {"alloc", alloc, METH_VARARGS, NULL},
    {"alloc_in_thread", alloc_in_thread, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "NAME", NULL, -1, methods};
PyMODINIT_FUNC PyInit_NAME(void) { return PyModule_Create(&mod); }
"""

HOW = {"malloc": 0, "calloc": 1, "realloc": 2, "posix_memalign": 3, "mmap": 4}


def build(tmp_path, name):
    build_extension(tmp_path, name, EXTENSION.replace("NAME", name))
    sys.path.insert(0, str(tmp_path))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(tmp_path))


@pytest.fixture(scope="module")
def ext(tmp_path_factory):
    return build(tmp_path_factory.mktemp("nativemem"), "nm_ext")


def native_at(prof, metric, func, allocator=None):
    """Bytes of metric in stacks through the Python function func that end
    in a native allocator's frame (allocator: that one)."""
    total = 0
    for per_thread in prof.stacks(metric).values():
        for stack, value in per_thread.items():
            leaf = stack[-1] if stack else None
            if leaf is None or leaf[2] != 0 or leaf[0] not in HOW:
                continue
            if allocator and leaf[0] != allocator:
                continue
            if func is None or any(f[0].endswith(func) for f in stack):
                total += value
    return total


def keep_native(ext, how, n, size):
    return [ext.alloc(size, HOW[how]) for _ in range(n)]


@pytest.mark.parametrize("how", sorted(HOW))
def test_every_native_allocation_exact(ext, how):
    with pyrometer.profile(mode="memory", memory_rate=1, native_memory=True) as p:
        kept = keep_native(ext, how, 20, MB)
    truth = 20 * MB
    live = native_at(p, "inuse_space", "keep_native", how)
    # Exact: the blocks themselves, and the few small headers the extension
    # mallocs beside them.
    assert truth <= live <= truth + 64 * 1024, (how, live, truth)
    # The blocks, to the byte, under the native function that asked for them.
    through = {s: v for t in p.stacks("inuse_space").values() for s, v in t.items()
               if s and s[-1][0] == how and any(f[0] == "nm_make_buffer" for f in s)}
    assert sum(through.values()) == truth, (how, through)
    # The native frames lie below the Python caller, the allocator last.
    s = max(through, key=len)
    names = [f[0] for f in s]
    assert names.index("keep_native") < names.index("nm_make_buffer") < len(names) - 1
    meta = p.meta
    assert meta["memory_native"] == 1
    assert truth <= meta["memory_native_live_bytes"] <= meta["memory_live_bytes"]
    del kept


def keep_200mb_native(ext):
    return [ext.alloc(64 * 1024) for _ in range(3200)]


def peak_50mb_native_then_free(ext):
    tmp = [ext.alloc(64 * 1024) for _ in range(800)]
    del tmp


def test_sampled_sites_and_peak(ext):
    # One sample per 64 KiB: a site of 3200 blocks is within 10% at seven
    # standard deviations of the estimate (the 50 MB one at five).
    with pyrometer.profile(mode="memory", memory_rate=64 * 1024, native_memory=True) as p:
        kept = keep_200mb_native(ext)
        peak_50mb_native_then_free(ext)
    truth = 3200 * 64 * 1024
    live = native_at(p, "inuse_space", "keep_200mb_native")
    assert abs(live - truth) / truth < 0.10, (live, truth)
    at_peak = native_at(p, "peak_space", "peak_50mb_native_then_free")
    assert abs(at_peak - 800 * 64 * 1024) / (800 * 64 * 1024) < 0.15, at_peak
    assert native_at(p, "inuse_space", "peak_50mb_native_then_free") < 0.02 * 800 * 64 * 1024
    peak = p.meta["memory_native_peak_bytes"]
    assert abs(peak - (truth + 800 * 64 * 1024)) / (truth + 800 * 64 * 1024) < 0.10, peak
    del kept


def keep_python():
    return [bytearray(10000) for _ in range(5000)]


def test_python_bytes_are_not_counted_again(ext):
    """The interpreter's own malloc calls (PyMem's RAW domain, pymalloc's
    arenas) are not native allocations: counted once, by the PyMem hooks."""
    with pyrometer.profile(mode="memory", memory_rate=1, native_memory=True) as p:
        kept = keep_python()
    truth = sum(sys.getsizeof(b) for b in kept)
    python = 0
    for per_thread in p.stacks("inuse_space").values():
        for stack, value in per_thread.items():
            if any(f[0] == "keep_python" for f in stack):
                python += value
    assert truth <= python <= truth * 1.01, (python, truth)
    assert native_at(p, "inuse_space", "keep_python") == 0
    del kept


def test_thread_without_a_thread_state(ext):
    with pyrometer.profile(mode="memory", memory_rate=1, native_memory=True) as p:
        kept = [ext.alloc_in_thread(MB) for _ in range(8)]
    total = 0
    for thread, per_thread in p.stacks("inuse_space").items():
        for stack, value in per_thread.items():
            names = [f[0] for f in stack]
            if names and names[-1] == "malloc" and "nm_make_buffer" in names:
                if not any(f[2] > 0 for f in stack):  # no Python frame: the C thread's
                    total += value
    assert total >= 8 * MB, total
    del kept


def test_extension_loaded_after_start(tmp_path):
    """An extension imported while the session runs is hooked as it loads."""
    with pyrometer.profile(mode="memory", memory_rate=1, native_memory=True) as p:
        late = build(tmp_path, "nm_late")
        kept = keep_native(late, "malloc", 10, MB)
    assert native_at(p, "inuse_space", "keep_native", "malloc") >= 10 * MB
    del kept


def test_start_stop_twice_and_blocks_across_sessions(ext):
    before = keep_native(ext, "malloc", 5, MB)  # allocated before any session
    with pyrometer.profile(mode="memory", memory_rate=1, native_memory=True) as p1:
        first = keep_native(ext, "malloc", 5, MB)
        del before  # freed inside: never seen allocated, never counted
    assert native_at(p1, "inuse_space", "keep_native") >= 5 * MB
    assert p1.meta["memory_native_live_bytes"] >= 0
    with pyrometer.profile(mode="memory", memory_rate=1, native_memory=True) as p2:
        del first  # sampled by the first session, freed in the second
        second = keep_native(ext, "calloc", 3, MB)
    assert 3 * MB <= native_at(p2, "inuse_space", "keep_native", "calloc") <= 3 * MB + 64 * 1024
    # Stopped: the program's allocations go straight to libc again.
    after = keep_native(ext, "realloc", 3, MB)
    del second, after


def test_without_the_flag_native_bytes_are_not_seen(ext):
    with pyrometer.profile(mode="memory", memory_rate=1) as p:
        kept = keep_native(ext, "malloc", 5, MB)
    assert native_at(p, "inuse_space", None) == 0
    assert "memory_native" not in p.meta
    del kept


def test_fork_while_profiling_native(ext):
    with pyrometer.profile(mode="memory", memory_rate=64 * 1024, native_memory=True) as p:
        kept = keep_native(ext, "malloc", 4, MB)
        pid = os.fork()
        if pid == 0:  # the child passes everything through, and exits cleanly
            more = keep_native(ext, "mmap", 4, MB)
            del more
            os._exit(7)
        _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 7
    assert native_at(p, "inuse_space", "keep_native") >= 3 * MB
    del kept


SQLITE = """
import sqlite3, sys
def fill():
    con = sqlite3.connect(":memory:")
    con.execute("create table t (a integer, b text)")
    con.executemany("insert into t values (?, ?)", ((i, "x" * 200) for i in range(60000)))
    return con
con = fill()
print(con.execute("select count(*) from t").fetchone()[0])
sys.exit(3)
"""


def test_cli_native_memory_on_a_library(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(SQLITE)
    plain = subprocess.run([sys.executable, str(script)], capture_output=True)
    out = tmp_path / "m.pyro"
    proc = run_pyrometer("run", "--mode", "memory", "--native-memory", "-o", out, script, cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (plain.returncode, plain.stdout) == (3, b"60000\n")
    assert without_pyrometer_lines(proc.stderr) == plain.stderr.decode()
    prof = pyrometer.load(str(out))
    meta = prof.meta
    assert meta["memory_native"] == 1 and meta["memory_native_allocated_bytes"] > 5 * MB
    # sqlite's pages are malloc'd by libsqlite3 under fill().
    names = {f[0] for t in prof.stacks("alloc_space").values() for s in t if s and s[-1][0] == "malloc" for f in s}
    assert "fill" in names and any(n.startswith("sqlite3") for n in names), sorted(names)[:20]
    report = run_pyrometer("run", "--mode", "memory", "--native-memory", script, cwd=tmp_path)
    text = report.stderr.decode()
    assert "\n  native      " in text and " malloc <- sqlite3" in text


def test_native_memory_is_for_memory_mode(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("print('never')\n")
    proc = run_pyrometer("run", "--native-memory", script, cwd=tmp_path)
    assert proc.returncode != 0 and proc.stdout == b""
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines == pyrometer_lines(proc.stderr), lines
    assert "--native-memory is for --mode memory" in lines[0]
    with pytest.raises(ValueError):
        pyrometer.profile(mode="memory", native_memory="yes")
    with pytest.raises(TypeError):
        pyrometer.profile(native_memory=True)
