"""pyrometer.heap against the reference tools: objgraph (typestats,
find_backref_chain, get_leaking_objects, growth), Pympler (asizeof) and
sys.getsizeof; its safety on odd objects; the `pyrometer heap` command."""
import ctypes
import gc
import inspect
import json
import sys
import weakref

import pytest

objgraph = pytest.importorskip("objgraph")
asizeof = pytest.importorskip("pympler.asizeof")

from pyrometer import _native, heap  # noqa: E402

from conftest import build_extension, run_plain, run_pyrometer  # noqa: E402


class Rec:
    def __init__(self, i):
        self.name = "rec-%d" % i
        self.tags = [i, i + 1]
        self.meta = {"k": [i]}


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, i):
        self.a = [float(i), "s%d" % i]
        self.b = (i, (i, "t%d" % i))


class Grown:
    pass


HOLDER = {"bucket": [Rec(i) for i in range(300)]}


def _long_name(q, m):
    """objgraph's long type name: module and __name__."""
    return "%s.%s" % (m, q.rsplit(".", 1)[-1])


@pytest.fixture(autouse=True, scope="module")
def _asyncio_free_list_in_use():
    """CPython 3.9-3.13: _asyncio's module reports the freed future iterators
    of its free list to the collector's traverse, and the reference tools
    these tests compare with (objgraph, Pympler, gc.get_referents) take
    references to them, which frees them twice (the list then loops and the
    next collection never ends).  As many live ones as the list holds keep
    it empty while these tests run; the last test checks pyrometer's own
    walk against a full list."""
    import asyncio

    loop = asyncio.new_event_loop()
    fut = loop.create_future()
    held = [fut.__await__() for _ in range(300)]
    yield
    del held
    fut.cancel()
    loop.close()


# ---- census -------------------------------------------------------------------------


def test_census_counts_equal_objgraph_typestats():
    gc.disable()
    try:
        expected = objgraph.typestats(shortnames=False)
        rows = heap.census(untracked=False)
    finally:
        gc.enable()
    got = {}
    for r in rows:
        got[_long_name(r.type, r.module)] = got.get(_long_name(r.type, r.module), 0) + r.count
    # A type with no string __module__ (none at all, or a Cython metatype's
    # descriptor): objgraph says "?" or the descriptor's repr, we say
    # "<unknown>"; the name after it is compared.
    for names in (expected, got):
        for k in [k for k in names if k.startswith(("<", "?."))]:
            short = "?." + k.rsplit(".", 1)[-1]
            if short != k:
                names[short] = names.get(short, 0) + names.pop(k)
    # objgraph's own result dict and our rows exist in one call and not the
    # other; every other type must agree exactly.
    diff = {k: (expected.get(k), got.get(k)) for k in set(expected) | set(got) if expected.get(k) != got.get(k)}
    assert all(k in ("builtins.dict", "builtins.list", "builtins.tuple", "builtins.frame") for k in diff), diff
    for k, (a, b) in diff.items():
        assert abs((a or 0) - (b or 0)) <= 3, (k, a, b)
    assert got["%s.Rec" % __name__] == expected["%s.Rec" % __name__] >= 300


def test_census_sizes_are_sys_getsizeof_of_every_object():
    objs = gc.get_objects()
    seen = {}
    for o in objs:
        seen[id(o)] = o
        # (gc.get_referents of _asyncio's module returns its free list's
        # dead future iterators on 3.9-3.13: holding one frees it twice.)
        if type(o).__name__ == "module" and getattr(o, "__name__", "") == "_asyncio":
            continue
        for r in gc.get_referents(o):
            seen.setdefault(id(r), r)
    wrong = [(type(o), _native.heap_sizeof(o), sys.getsizeof(o)) for o in seen.values()
             if _native.heap_sizeof(o) != sys.getsizeof(o)]
    assert not wrong[:10]
    del objs, seen


def test_census_counts_untracked_objects_once():
    gc.collect()
    gc.disable()
    try:
        before = dict(((r.module, r.type), (r.count, r.bytes)) for r in heap.census())
        floats = [float(i) + 0.5 for i in range(1000)]  # untracked, each distinct
        shared = "a fresh string %d" % id(floats)
        lists = [[shared] * 10 for _ in range(50)]      # 500 references to one str
        after = dict(((r.module, r.type), (r.count, r.bytes)) for r in heap.census())
    finally:
        gc.enable()
    d_float = after[("builtins", "float")][0] - before[("builtins", "float")][0]
    assert 1000 <= d_float <= 1005
    assert after[("builtins", "float")][1] - before[("builtins", "float")][1] >= 1000 * sys.getsizeof(0.5)
    tracked_only = {(r.module, r.type): r for r in heap.census(untracked=False)}
    assert ("builtins", "float") not in tracked_only
    # the shared str once, not 500 times (plus the names in `before`'s keys)
    d_str = after[("builtins", "str")][0] - before[("builtins", "str")][0]
    assert 1 <= d_str <= 5 + 2 * len(before), d_str
    assert d_str < 500
    rows = heap.census()
    assert [r.bytes for r in rows] == sorted((r.bytes for r in rows), reverse=True)
    del floats, lists


class BadSize:
    def __sizeof__(self):
        raise RuntimeError("no size for you")


class NonsenseSize:
    def __sizeof__(self):
        return "big"


class MutatingSize:
    """A __sizeof__ that frees other objects while the census runs."""
    victims = []

    def __sizeof__(self):
        del MutatingSize.victims[:]
        return 10


def test_census_survives_misbehaving_sizeof_and_keeps_the_exception_state():
    keep = [BadSize() for _ in range(5)] + [NonsenseSize() for _ in range(5)] + [MutatingSize() for _ in range(3)]
    MutatingSize.victims.extend([[i] for i in range(1000)])
    with pytest.raises(RuntimeError):
        sys.getsizeof(keep[0])
    try:
        raise KeyError("mine")
    except KeyError:
        rows = heap.census()
        assert sys.exc_info()[1].args == ("mine",)
    by = {r.type: r for r in rows if r.module == __name__}
    assert by["BadSize"].count == 5 and by["BadSize"].bytes > 0
    assert by["NonsenseSize"].count == 5
    assert not MutatingSize.victims
    # the same while measuring a structure that holds the victims
    MutatingSize.victims.extend([[i] for i in range(1000)])
    assert heap.deep_size([MutatingSize.victims, keep]) > 0
    assert not MutatingSize.victims
    del keep


class CollectingSize:
    """A __sizeof__ that makes garbage cycles and collects them while the
    census runs (it reads the collector's lists in place)."""

    def __sizeof__(self):
        junk = [[i] for i in range(2000)]
        for a, b in zip(junk, junk[1:]):
            a.append(b)
            b.append(a)
        del junk
        gc.collect()
        return 24


def test_census_survives_a_sizeof_that_allocates_and_collects():
    keep = [CollectingSize() for _ in range(3)]
    cycles = [[] for _ in range(500)]
    for c in cycles:
        c.append(c)
    del cycles, c
    rows = {(r.module, r.type): r for r in heap.census()}
    assert rows[(__name__, "CollectingSize")].count == 3
    assert rows[(__name__, "CollectingSize")].bytes == 3 * sys.getsizeof(keep[0])
    tracked = {(r.module, r.type): r for r in heap.census(untracked=False)}
    assert tracked[(__name__, "CollectingSize")].count == 3
    del keep


CACHE_PROBE = """
import sys
from pyrometer import _native

sizes = _native.heap_deep_size
sizes([1.5, "s", b"b"])  # sizing learns the builtins once, through attribute lookups
fresh = [type("Fresh%d" % i, (), {})() for i in range(300)]  # types never sized yet


class Probe:
    pass


names = ["pm_cache_probe_%d" % i for i in range(3 * 4096)]
for n in names:
    getattr(Probe, n, None)  # the type attribute cache now holds these names
refcount = sys.getrefcount
before = [refcount(n) for n in names]
sizes(fresh)
after = [refcount(n) for n in names]
print(sum(a != b for a, b in zip(after, before)))
"""


def test_sizing_a_new_type_leaves_the_type_attribute_cache_alone():
    """The census sizes each new type in the middle of its pass.  Looking
    __sizeof__ up through the type attribute cache fills a slot of it and
    releases the name the slot held, which can free a string the pass has
    already collected (3.14 reaches such names through the interned-string
    dict, which holds them without counting): the pass then sized and
    freed it a second time, and the process died later.  Sizing 300 new
    types must leave every name the cache holds with its references."""
    r = run_plain("-c", CACHE_PROBE)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [b"0"]


def test_census_with_weakrefs_and_c_extension_objects():
    import array
    import collections
    import io

    class W:
        pass

    w = W()
    keep = [weakref.ref(w), weakref.proxy(w), array.array("d", range(1000)), collections.deque(range(100)),
            io.BytesIO(b"x" * 1000), collections.OrderedDict(a=1), weakref.WeakValueDictionary({1: w})]
    rows = {(r.module, r.type): r for r in heap.census()}
    assert rows[("array", "array")].bytes >= sys.getsizeof(keep[2])
    assert rows[("collections", "deque")].count >= 1
    del w
    assert heap.census() and heap.deep_size(keep) > 0
    del keep


# ---- snapshots and growth --------------------------------------------------------------


def test_growth_and_new_objects_against_objgraph():
    objgraph.growth(limit=None)  # its baseline (it collects first)
    gc.collect()
    s = heap.snapshot()
    made = [Grown() for _ in range(250)]
    rows = {(g.module, g.type): g for g in heap.growth(s)}
    g = rows[(__name__, "Grown")]
    assert (g.count, g.delta) == (250, 250)
    assert g.delta_bytes == 250 * sys.getsizeof(made[0])
    theirs = dict((name, delta) for name, count, delta in objgraph.growth(limit=None))
    assert theirs["Grown"] == 250
    new = heap.new_objects(s, Grown)
    assert sorted(map(id, new)) == sorted(map(id, made))
    del made[:100]
    del new
    g = {(g.module, g.type): g for g in heap.growth(s)}[(__name__, "Grown")]
    assert g.delta == 150


def test_growth_between_two_snapshots_is_the_difference_of_their_censuses():
    a = heap.snapshot()
    made = [Grown() for _ in range(120)]
    b = heap.snapshot()
    del made[:20]
    ca = {(r.type, r.module): (r.count, r.bytes) for r in a.rows()}
    cb = {(r.type, r.module): (r.count, r.bytes) for r in b.rows()}
    expected = set()
    for key in set(ca) | set(cb):
        (c0, b0), (c1, b1) = ca.get(key, (0, 0)), cb.get(key, (0, 0))
        if (c0, b0) != (c1, b1):
            expected.add(key + (c1, c1 - c0, b1, b1 - b0))
    rows = heap.growth(a, to=b)  # after del: taken from b's census, not from now
    assert set(map(tuple, rows)) == expected and len(rows) == len(expected)
    assert next(g for g in rows if g.type == "Grown").delta == 120
    assert sorted(rows, key=lambda g: (-g.delta, -g.delta_bytes, g.module, g.type)) == rows
    assert heap.growth(b, to=b) == []
    with pytest.raises(heap.HeapError, match="to must be"):
        heap.growth(a, to=object())


def test_growth_needs_a_snapshot(monkeypatch):
    monkeypatch.setattr(heap, "_last_snapshot", None)
    with pytest.raises(heap.HeapError, match="snapshot"):
        heap.growth()
    with pytest.raises(heap.HeapError, match="snapshot"):
        heap.new_objects()
    with pytest.raises(heap.HeapError):
        heap.growth(since=object())


# ---- retention chains ----------------------------------------------------------------


class Holder:
    registry = {}

    def __init__(self):
        self.items = []


MODULE_LIST = [[i] for i in range(50)]


def _make_closure(value):
    def inner():
        return value

    return inner


CLOSURE = _make_closure(Rec(-1))
HOLDER_OBJ = Holder()
HOLDER_OBJ.items.append(Rec(-2))
Holder.registry["x"] = {"deep": [Rec(-3)]}
PROPERTY = property(Rec(-6))  # held in a slot of a built-in type (property.fget)


def _targets():
    return [
        ("list item", MODULE_LIST[17]),
        ("nested dict", HOLDER["bucket"][123]),
        ("instance attribute", HOLDER_OBJ.items[0]),
        ("closure cell", CLOSURE.__closure__[0].cell_contents),
        ("class attribute", Holder.registry["x"]["deep"][0]),
    ]


@pytest.mark.parametrize("case", range(5))
def test_why_alive_finds_a_chain_wherever_objgraph_does_never_longer(case):
    what, target = _targets()[case]
    theirs = objgraph.find_backref_chain(target, inspect.ismodule, max_depth=20)
    r = heap.why_alive(target)
    assert r.chains, what
    chain = r.chains[0]
    assert theirs[0] is not target  # objgraph found a module
    assert len(chain.objects) <= len(theirs), (what, chain.objects, theirs)
    assert chain.objects[-1] is target
    for a, b in zip(chain.objects, chain.objects[1:]):  # every link is real
        # (on 3.11+ an instance's attributes may have moved into its
        # __dict__ once read: the label of an attribute reads it)
        refs = gc.get_referents(a) + [x for d in gc.get_referents(a) if type(d) is dict for x in d.values()]
        assert any(x is b for x in refs), (what, type(a), type(b))
    assert chain.kind in ("module", "class", "frame")
    text = r.text()
    assert "kept alive" in text
    doc = json.loads(r.json())
    assert doc["chains"][0]["steps"][-1]["id"] == id(target)
    dot = r.dot()
    assert dot.startswith("digraph") and ("o%d" % id(target)) in dot


def test_why_alive_labels_edges():
    r = heap.why_alive(MODULE_LIST[17])
    assert r.chains[0].labels[-1] == "[17]"
    assert "['MODULE_LIST']" in r.chains[0].labels
    r = heap.why_alive(HOLDER_OBJ.items[0])
    assert r.chains[0].labels[-2:] in ([".items", "[0]"], ["__dict__", "['items']", "[0]"][-2:])
    r = heap.why_alive(CLOSURE.__closure__[0].cell_contents)
    assert "cell_contents" in r.chains[0].labels
    # a built-in type's member (its dict is per interpreter from 3.12)
    r = heap.why_alive(PROPERTY.fget)
    assert r.chains[0].labels[-2:] == ["['PROPERTY']", ".fget"]


def test_why_alive_sees_frame_locals_and_objects_held_from_outside():
    def holder():
        local_thing = Rec(-4)
        yield local_thing

    gen = holder()
    target = next(gen)
    found = heap.why_alive(target, chains=3)
    assert found.chains
    orphan = [Rec(-5)]
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(orphan))  # a C-held reference
    oid = id(orphan)
    inner = orphan[0]
    del orphan
    try:
        r = heap.why_alive(inner)
        assert r.chains and r.chains[0].kind == "outside" and id(r.chains[0].objects[0]) == oid
        del r
        theirs = [id(o) for o in objgraph.get_leaking_objects()]
        assert oid in theirs
        ours = [id(o) for o in heap.leaking_objects()]
        assert oid in ours
    finally:
        leaked = [o for o in gc.get_objects() if id(o) == oid][0]
        ctypes.pythonapi.Py_DecRef(ctypes.py_object(leaked))
        del leaked


def test_index_answers_many_queries_and_survives_heap_changes():
    with heap.Index() as ix:
        assert ix.nobjects > 1000 and ix.nedges > 1000
        a = ix.why_alive(HOLDER["bucket"][5])
        b = ix.why_alive(HOLDER["bucket"][6])
        assert a.chains and b.chains
        junk = [Rec(i) for i in range(100)]  # made after the index
        assert ix.why_alive(junk[3])       # rebuilt on demand
        del junk
        assert ix.why_alive(HOLDER["bucket"][7])


def test_refcount_gap_shows_a_leaked_reference():
    obj = [Rec(-6)]
    base = heap.refcount_gap(obj)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
    try:
        assert heap.refcount_gap(obj) == base + 1
    finally:
        ctypes.pythonapi.Py_DecRef(ctypes.py_object(obj))
    assert heap.refcount_gap(obj) == base


def test_bad_input_is_a_clear_error():
    with pytest.raises(heap.HeapError, match="not tracked"):
        heap.why_alive("an untracked str %d" % id(test_bad_input_is_a_clear_error))
    if sys.version_info >= (3, 12):
        with pytest.raises(heap.HeapError, match="immortal"):
            heap.why_alive(None)
    with pytest.raises(heap.HeapError, match="class"):
        heap.track_class(Rec(0))
    with pytest.raises(heap.HeapError, match="class"):
        heap.top("Rec")


# ---- deep size -------------------------------------------------------------------------


def _structures():
    shared = [1.5, "shared", (1, 2)]
    cyc = [1, 2]
    cyc.append(cyc)
    cyc.append({"me": cyc})
    return [
        ("nested containers", {"a": [1, 2, {"b": (3, 4, frozenset({5, 6}))}], "c": {7, 8}, "d": "x" * 300}),
        ("dict instances", [Rec(i) for i in range(200)]),
        ("slots instances", [Slotted(i) for i in range(200)]),
        ("cycles", cyc),
        ("shared objects", [shared, shared, {"again": shared}, (shared,)]),
        ("big", {i: [str(i), float(i)] for i in range(5000)}),
    ]


@pytest.mark.parametrize("case", range(6))
def test_deep_size_within_2_percent_of_pympler(case):
    what, obj = _structures()[case]
    ours, theirs = heap.deep_size(obj), asizeof.asizeof(obj)
    assert abs(ours - theirs) <= 0.02 * theirs, (what, ours, theirs)


def test_top_by_deep_size():
    keep = [Rec(i) for i in range(20)]
    keep[7].tags.extend(range(1000))
    best = heap.top(Rec, 3)
    assert best[0][0] is keep[7]
    assert best[0][1] == heap.deep_size(keep[7])
    assert [s for _, s in best] == sorted((s for _, s in best), reverse=True)
    del keep, best


def test_track_class_timeline():
    class Tracked:
        pass

    heap.track_class(Tracked)
    a = [Tracked() for _ in range(30)]
    heap.checkpoint("made 30")
    del a[:10]
    heap.checkpoint("freed 10")
    entries = [e for e in heap.timeline() if e["class"].endswith("Tracked")]
    assert [(e["count"], e["created"], e["freed"]) for e in entries[-2:]] == [(30, 30, 0), (20, 0, 10)]
    assert entries[-1]["deep_bytes"] == sum(asizeof.asizeof(t) for t in a)
    heap._tracked.pop(Tracked)


# ---- the command ------------------------------------------------------------------------

PROGRAM = """\
import os, signal, sys
class Node:
    def __init__(self, i):
        self.payload = "x" * 100 + str(i)
CACHE = {"nodes": [Node(i) for i in range(2000)]}
print("program output", sys.argv[1:])
if "signal" in sys.argv:
    os.kill(os.getpid(), signal.SIGUSR2)
if "checkpoint" in sys.argv:
    import pyrometer.heap
    pyrometer.heap.checkpoint("mine")
sys.stderr.write("program stderr\\n")
sys.exit(int(sys.argv[1]))
"""


def test_heap_command_runs_the_program_unchanged_and_reports(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    plain = run_plain(prog, "4", cwd=tmp_path)
    out = run_pyrometer("heap", "--why", "Node", "--track", "Node", "--json", tmp_path / "h.json",
                        "--dot", tmp_path / "h.dot", prog, "4", cwd=tmp_path)
    assert out.returncode == plain.returncode == 4
    assert out.stdout == plain.stdout
    err = out.stderr.decode()
    assert err.startswith("program stderr\n")
    assert "growth since the program started" in err and "__main__.Node" in err
    assert "['CACHE']" in err and "kept alive" in err
    doc = json.loads((tmp_path / "h.json").read_text())
    exit_census = doc["checkpoints"][-1]["census"]
    node = [r for r in exit_census if r["type"] == "Node"][0]
    assert node["count"] == 2000
    assert doc["why"]["chains"]
    track = [e for e in doc["timeline"] if e["class"] == "__main__.Node"]
    assert track and track[-1]["count"] == 2000 and track[-1]["deep_bytes"] > 2000 * 100
    assert (tmp_path / "h.dot").read_text().startswith("digraph")


@pytest.mark.parametrize("how", ["signal", "checkpoint"])
def test_heap_command_reports_at_sigusr2_and_checkpoint(tmp_path, how):
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    out = run_pyrometer("heap", prog, "0", how, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    err = out.stderr.decode()
    assert ("pyrometer heap (%s)" % ("SIGUSR2" if how == "signal" else "mine")) in err
    assert "pyrometer heap (at exit)" in err


def test_heap_command_module_and_errors(tmp_path):
    (tmp_path / "heapmod.py").write_text("import sys\nprint('mod', sys.argv[1:])\n")
    out = run_pyrometer("heap", "-m", "heapmod", "x", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout == b"mod ['x']\n"
    assert b"pyrometer heap (at exit)" in out.stderr
    for args in (["heap", "missing.py"], ["heap", "--top", "zero", "x.py"], ["heap", "--bogus", "x.py"], ["heap"]):
        out = run_pyrometer(*args, cwd=tmp_path)
        assert out.returncode == 2, args
        lines = out.stderr.decode().splitlines()
        assert len(lines) == 1 and lines[0].startswith("pyrometer:"), (args, lines)


# ---- last: it fills _asyncio's free list again ----------------------------------


def test_census_survives_dead_objects_a_traverse_reports():
    # A finished asyncio program leaves future iterators on _asyncio's free
    # list, which its module's traverse reports (refcount 0): the heap walk
    # must not take references to them, or the next collection never ends.
    import asyncio

    async def main():
        await asyncio.gather(asyncio.sleep(0.001), asyncio.sleep(0.002))

    asyncio.run(main())
    heap.census()
    heap.deep_size(sys.modules["_asyncio"])
    with heap.Index() as ix:
        ix.why_alive(HOLDER["bucket"][0])
    gc.collect()
    gc.collect()


# ---- a C type whose tp_traverse misbehaves ---------------------------------------------

TRAVERSE_EXT = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Holder(a, b): a GC container whose tp_traverse shows `a` and then fails
 * (returns an error code without visiting `b`), as a buggy or deliberately
 * partial extension type may.  The collector ignores the code; `b` then
 * merely looks referenced from outside. */
typedef struct {
    PyObject_HEAD
    PyObject *a, *b;
} Holder;

static int holder_traverse(Holder *self, visitproc visit, void *arg)
{
    Py_VISIT(self->a);
    return -1;
}

static int holder_clear(Holder *self)
{
    Py_CLEAR(self->a);
    Py_CLEAR(self->b);
    return 0;
}

static void holder_dealloc(Holder *self)
{
    PyObject_GC_UnTrack(self);
    holder_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *holder_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, "OO", &a, &b))
        return NULL;
    Holder *self = (Holder *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    Py_INCREF(a);
    Py_INCREF(b);
    self->a = a;
    self->b = b;
    return (PyObject *)self;
}

static PyTypeObject HolderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pmtrav.Holder",
    .tp_basicsize = sizeof(Holder),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = holder_new,
    .tp_traverse = (traverseproc)holder_traverse,
    .tp_clear = (inquiry)holder_clear,
    .tp_dealloc = (destructor)holder_dealloc,
};

static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "pmtrav", NULL, -1, NULL};

PyMODINIT_FUNC PyInit_pmtrav(void)
{
    if (PyType_Ready(&HolderType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&def);
    if (m && PyModule_AddObject(m, "Holder", (PyObject *)&HolderType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&HolderType);
    return m;
}
"""


@pytest.fixture(scope="module")
def pmtrav(tmp_path_factory):
    import importlib

    d = tmp_path_factory.mktemp("pmtrav")
    build_extension(d, "pmtrav", TRAVERSE_EXT)
    sys.path.insert(0, str(d))
    try:
        return importlib.import_module("pmtrav")
    finally:
        sys.path.remove(str(d))


class Shown:
    pass


class Hidden:
    pass


PARTIAL = []  # module-level: the holders below are reachable from here


def test_heap_survives_a_failing_tp_traverse(pmtrav):
    shown, hidden = [Shown() for _ in range(40)], [Hidden() for _ in range(40)]
    PARTIAL[:] = [pmtrav.Holder(s, h) for s, h in zip(shown, hidden)]
    del shown, hidden
    try:
        raise KeyError("mine")
    except KeyError:
        rows = {(r.module, r.type): r for r in heap.census()}
        assert sys.exc_info()[1].args == ("mine",)  # the caller's exception state kept
    assert rows[("pmtrav", "Holder")].count == 40
    assert rows[(__name__, "Shown")].count == 40 and rows[(__name__, "Hidden")].count == 40
    # A chain through what the holder shows is found; what it hides has
    # no chain through it (the walk cannot see that edge), and says so
    # rather than inventing one.
    # (gc.get_referents itself fails on a holder: SystemError.)
    with pytest.raises(SystemError):
        gc.get_referents(PARTIAL[0])
    shown_one = [o for o in gc.get_objects() if type(o) is Shown][0]
    r = heap.why_alive(shown_one)
    assert r.chains and type(r.chains[0].objects[-2]).__name__ == "Holder"
    hidden_one = [o for o in gc.get_objects() if type(o) is Hidden][0]
    r = heap.why_alive(hidden_one)
    assert not any(type(o).__name__ == "Holder" for c in r.chains for o in c.objects)
    assert "kept alive" in r.text() or "no chain" in r.text()
    assert heap.deep_size(PARTIAL) > 0
    snap = heap.snapshot()
    PARTIAL.extend(pmtrav.Holder(Shown(), Hidden()) for _ in range(10))
    grown = {(g.module, g.type): g for g in heap.growth(snap)}
    assert grown[("pmtrav", "Holder")].delta == 10
    PARTIAL.clear()
