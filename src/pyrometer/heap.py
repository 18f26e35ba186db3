"""pyrometer.heap: what the heap holds, what grew, and why an object is alive.

    from pyrometer import heap

    heap.census()                  # [TypeStats(type, module, count, bytes)], largest first,
                                   # untracked objects (str, int, ...) included, each once
    s = heap.snapshot()
    ...
    heap.growth(s)                 # [Growth(type, module, count, delta, bytes, delta_bytes)]
    heap.growth(s, to=s2)          # between two snapshots, from their own censuses
    heap.new_objects(s, Rec)       # the Rec instances made since s
    r = heap.why_alive(obj)        # shortest reference chains from a root
    print(r.text()); r.json(); r.dot()
    heap.deep_size(obj)            # Pympler asizeof's total
    heap.top(Rec, 5)               # [(instance, deep size)], largest first
    with heap.Index() as ix:       # one reverse-reference index for many queries
        ix.why_alive(a); ix.why_alive(b); ix.refcount_gap(a); ix.leaking_objects()

The walking, sizing, indexing and searching are C (collect/pm_heap*.c); this
module names things and formats them.  No gc.collect() runs unless asked
(collect=True): a collection can destroy the very evidence being looked for.
"""
import builtins
import collections
import gc
import json as _json
import sys
import time

from . import _native

__all__ = [
    "HeapError", "TypeStats", "Growth", "census", "snapshot", "growth", "new_objects", "why_alive",
    "refcount_gap", "leaking_objects", "deep_size", "top", "track_class", "checkpoint", "timeline", "Index",
]

TypeStats = collections.namedtuple("TypeStats", "type module count bytes")
Growth = collections.namedtuple("Growth", "type module count delta bytes delta_bytes")


class HeapError(ValueError):
    """A question the heap analyser cannot answer as asked."""


def _collect(collect):
    if collect:
        gc.collect()


def census(*, untracked=True, collect=False):
    """Every object by type: TypeStats rows, largest total bytes first.
    Sizes follow sys.getsizeof.  With untracked (default), objects the GC
    does not track (str, int, float, tuples and dicts of atoms) that tracked
    objects hold are counted too, each once."""
    _collect(collect)
    rows = _native.heap_census(bool(untracked))
    rows.sort(key=lambda r: (-r[3], -r[2], r[1], r[0]))
    return [TypeStats(q, m, c, b) for q, m, c, b, _ in rows]


class Snapshot:
    """A census plus the address of every tracked object (8 bytes each in a
    C set), for growth() and new_objects()."""

    def __init__(self, untracked=True):
        self._native = _native.HeapSnapshot(untracked=bool(untracked))
        self.time = time.time()

    def rows(self):
        rows = self._native.rows()
        rows.sort(key=lambda r: (-r[3], -r[2], r[1], r[0]))
        return [TypeStats(q, m, c, b) for q, m, c, b, _ in rows]

    @property
    def nobjects(self):
        return self._native.nobjects

    @property
    def nbytes(self):
        return self._native.nbytes


_last_snapshot = None


def snapshot(*, untracked=True, collect=False):
    """Takes a snapshot for growth() and new_objects(); it is also the
    default `since` of both."""
    global _last_snapshot
    _collect(collect)
    _last_snapshot = Snapshot(untracked)
    return _last_snapshot


def _since(since, what):
    if since is None:
        since = _last_snapshot
    if since is None:
        raise HeapError("%s needs a snapshot: take one first with pyrometer.heap.snapshot()" % what)
    if not isinstance(since, Snapshot):
        raise HeapError("%s: since must be a pyrometer.heap.snapshot(), not %s" % (what, type(since).__name__))
    return since


def growth(since=None, *, collect=False, to=None):
    """Per-type change since a snapshot (objgraph's show_growth, without its
    forced collection): Growth rows, largest count growth first.  With `to`,
    a later snapshot, the change between the two snapshots' own censuses
    (no walk: each row is exactly to's census minus since's)."""
    since = _since(since, "growth()")
    if to is not None:
        if not isinstance(to, Snapshot):
            raise HeapError("growth(): to must be a pyrometer.heap.snapshot(), not %s" % type(to).__name__)
        if collect:
            raise HeapError("growth(): collect=True has no meaning with to= (both censuses are taken)")
        rows = since._native.growth(to._native)
    else:
        _collect(collect)
        rows = since._native.growth()
    rows.sort(key=lambda r: (-r[3], -r[5], r[1], r[0]))
    return [Growth(*r) for r in rows]


def new_objects(since=None, type=None):
    """The tracked objects (of exactly `type`, when given) made since the
    snapshot (an address the snapshot did not have)."""
    since = _since(since, "new_objects()")
    if type is not None and not isinstance(type, builtins.type):
        raise HeapError("new_objects(): type must be a class, not %r" % (type,))
    return since._native.new_objects(type)


# ---- sizes ----------------------------------------------------------------------


def deep_size(obj):
    """The bytes of obj and everything reachable from it, with Pympler
    asizeof's rules: shared objects once, classes, functions and modules
    inside the structure not followed."""
    return _native.heap_deep_size(obj)


def top(cls, n=10, by="deep_size"):
    """The n largest tracked instances of cls (subclasses included), as
    (instance, size) pairs; by "deep_size" or "size" (sys.getsizeof)."""
    if not isinstance(cls, type):
        raise HeapError("top(): expected a class, not %r" % (cls,))
    if by not in ("deep_size", "size"):
        raise HeapError("top(): by must be 'deep_size' or 'size', not %r" % (by,))
    measure = _native.heap_deep_size if by == "deep_size" else _native.heap_sizeof
    sized = [(o, measure(o)) for o in _native.heap_instances(cls)]
    sized.sort(key=lambda p: -p[1])
    return sized[: max(0, int(n))]


# ---- retention ----------------------------------------------------------------------


def _describe(o):
    """A short, safe description of an object for chains."""
    t = type(o)
    name = getattr(t, "__qualname__", t.__name__)
    try:
        if isinstance(o, type(sys)):
            return "module %s" % o.__name__
        if isinstance(o, type):
            return "class %s.%s" % (o.__module__, o.__qualname__)
        if hasattr(o, "__code__") and hasattr(o, "__qualname__"):
            return "%s %s" % (name, o.__qualname__)
        if isinstance(o, (dict, list, tuple, set, frozenset)):
            return "%s (%d items)" % (name, len(o))
        if isinstance(o, (str, bytes, int, float)):
            r = repr(o)
            return "%s %s" % (name, r if len(r) <= 40 else r[:37] + "...")
    except Exception:
        pass
    return "%s at 0x%x" % (name, id(o))


class Chain:
    """One reference chain: root (kind "module", "class", "frame" — a local
    variable of a running function — or "outside": nothing tracked refers to
    the first object, so a C extension, the interpreter or a C stack holds
    it), the objects from the root to the target, and the label of each
    reference between them."""

    def __init__(self, kind, root_label, objects, labels):
        self.kind = kind
        self.root_label = root_label
        self.objects = objects
        self.labels = labels

    def __len__(self):
        return len(self.objects)

    def steps(self):
        out = []
        for i, o in enumerate(self.objects):
            out.append({"type": type(o).__qualname__, "id": id(o), "repr": _describe(o),
                        "edge": self.labels[i] if i < len(self.labels) else None})
        return out


class Retention:
    """The answer of why_alive(): chains, shortest first, as text(), json()
    or dot()."""

    def __init__(self, target, chains):
        self.target = target
        self.chains = chains

    def __bool__(self):
        return bool(self.chains)

    def text(self):
        lines = ["%s is kept alive by:" % _describe(self.target)]
        if not self.chains:
            lines.append("  no chain found (within max_depth)")
        for n, c in enumerate(self.chains, 1):
            root = {"module": "a module", "class": "a class", "frame": c.root_label,
                    "outside": "no tracked object refers to the first object: the asking code's own "
                               "variables, the interpreter or C code hold it"}.get(c.kind, c.kind)
            lines.append("  chain %d, %d references, root: %s" % (n, len(c.labels) + (c.kind == "frame"), root))
            for i, o in enumerate(c.objects):
                lines.append("    %s%s" % ("" if i == 0 else "-> %s  " % c.labels[i - 1], _describe(o)))
        return "\n".join(lines) + "\n"

    def to_dict(self):
        return {"target": {"type": type(self.target).__qualname__, "id": id(self.target),
                           "repr": _describe(self.target)},
                "chains": [{"root_kind": c.kind, "root": c.root_label, "steps": c.steps()} for c in self.chains]}

    def graph(self):
        """The chains as one graph: nodes (id, label, kind: "root" — a
        running function's variable —, "object" or "target") and labelled
        edges; an object on several chains is one node.  This is what a
        .pyro file carries and the viewer draws."""
        nodes, edges, seen = [], [], set()

        def node(key, label, kind):
            if key not in seen:
                seen.add(key)
                nodes.append({"id": key, "label": label, "kind": kind})

        def edge(a, b, label):
            if (a, b, label) not in seen:
                seen.add((a, b, label))
                edges.append({"from": a, "to": b, "label": label})

        for c in self.chains:
            keys = ["o%d" % id(o) for o in c.objects]
            if c.kind == "frame":
                node("root" + keys[0][1:], c.root_label, "root")
                edge("root" + keys[0][1:], keys[0], "")
            for key, o in zip(keys, c.objects):
                node(key, _describe(o), "target" if o is self.target else "object")
            for i in range(len(keys) - 1):
                edge(keys[i], keys[i + 1], str(c.labels[i]))
        return {"target": _describe(self.target), "nodes": nodes, "edges": edges}

    def json(self):
        return _json.dumps(self.to_dict(), indent=1)

    def dot(self):
        def q(s):
            return '"%s"' % str(s).replace("\\", "\\\\").replace('"', '\\"')

        out = ["digraph retention {", "  node [shape=box, fontname=monospace];"]
        seen = set()
        for c in self.chains:
            ids = [id(o) for o in c.objects]
            if c.kind == "frame":
                out.append("  root%d [label=%s, shape=ellipse];" % (ids[0], q(c.root_label)))
            for o in c.objects:
                if id(o) not in seen:
                    seen.add(id(o))
                    extra = ", style=filled, fillcolor=lightpink" if o is self.target else ""
                    out.append("  o%d [label=%s%s];" % (id(o), q(_describe(o)), extra))
            if c.kind == "frame":
                out.append("  root%d -> o%d;" % (ids[0], ids[0]))
            for i in range(len(ids) - 1):
                out.append("  o%d -> o%d [label=%s];" % (ids[i], ids[i + 1], q(c.labels[i])))
        out.append("}")
        return "\n".join(out) + "\n"


def _own_frames():
    """Frames of pyrometer's own functions and of the one that called into
    pyrometer: not roots, and (3.9/3.10, where frames are heap objects) not
    referrers either."""
    frames = []
    f = sys._getframe(1)
    while f is not None and _is_ours(f):
        frames.append(f)
        f = f.f_back
    if f is not None:
        frames.append(f)  # the caller: its own variables are not the answer
    return frames


def _is_ours(frame):
    name = frame.f_globals.get("__name__")
    return isinstance(name, str) and (name == "pyrometer" or name.startswith("pyrometer."))


def _frame_roots(skip):
    """(label, value) of every local variable of every running function
    frame (module-level frames are their module's globals: the module is
    the root then)."""
    skip_ids = set(id(f) for f in skip)
    roots = []
    for tid, top_frame in sys._current_frames().items():
        f = top_frame
        while f is not None:
            if id(f) not in skip_ids and not _is_ours(f) and f.f_locals is not f.f_globals:
                code = f.f_code
                try:
                    items = list(f.f_locals.items())
                except Exception:
                    items = []
                for name, value in items:
                    roots.append(("local %r of %s (%s:%d, thread %d)" % (name, code.co_name, code.co_filename,
                                                                         f.f_lineno, tid), value))
            f = f.f_back
    return roots


def _check_target(obj, what):
    is_immortal = getattr(sys, "_is_immortal", None)  # 3.14+
    if (is_immortal(obj) if is_immortal else sys.version_info >= (3, 12) and sys.getrefcount(obj) >= 1 << 30):
        raise HeapError("%s: %s is immortal: the interpreter keeps it alive for ever" % (what, _describe(obj)))
    if not gc.is_tracked(obj):
        raise HeapError("%s: %s is not tracked by the garbage collector (atoms such as str and int, and "
                        "containers of atoms, are not), so its referrers are not indexed; ask about the "
                        "container that holds it" % (what, _describe(obj)))


class Index:
    """The reverse references of every tracked object, built once (C, CSR
    arrays) so that many why_alive / refcount_gap / leaking_objects
    questions take milliseconds each.  It holds a reference to every object
    it indexed until close() (or the end of a with block): what it answers is
    the heap as it was when built, and no object can vanish under it.  An
    object made later is not in it: asking about one rebuilds it."""

    def __init__(self, *, collect=False):
        _collect(collect)
        self._ix = _native.HeapIndex()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._ix.close()

    @property
    def nobjects(self):
        return self._ix.nobjects

    @property
    def nedges(self):
        return self._ix.nedges

    @property
    def nbytes(self):
        return self._ix.nbytes

    def _ensure(self, obj):
        if not self._ix.contains(obj):
            self._ix.close()
            self._ix = _native.HeapIndex()

    def why_alive(self, obj, max_depth=20, chains=1):
        """The shortest reference chains (up to `chains`) from a root to obj:
        a module (its globals), a class (its attributes), a local variable of
        a running function (in any thread), or, when none is found within
        max_depth references, the nearest object nothing tracked refers to."""
        _check_target(obj, "why_alive()")
        if int(max_depth) < 1 or int(chains) < 1:
            raise HeapError("why_alive(): max_depth and chains must be at least 1")
        self._ensure(obj)
        own = _own_frames()
        roots = _frame_roots(own)
        found = self._ix.chains(obj, int(max_depth), int(chains), list(own), roots)
        return Retention(obj, [Chain(*c) for c in found])

    def _raw_gap(self, obj):
        refs, referrers = self._ix.refcount(obj) if self._ix.contains(obj) else (sys.getrefcount(obj) - 1, 0)
        return refs - referrers

    def refcount_gap(self, obj):
        """References to obj that no tracked object accounts for: the
        caller's own variables, the interpreter's, and those C code holds (a
        leaked reference shows here)."""
        _check_target(obj, "refcount_gap()")
        self._ensure(obj)
        probe = []  # one local reference, none from the heap: the calibration
        return self._raw_gap(obj) - self._raw_gap(probe)

    def leaking_objects(self):
        """Tracked objects no tracked object refers to (objgraph's
        get_leaking_objects): held from C, the interpreter, or a frame."""
        own = set(id(f) for f in _own_frames())
        return [o for o in self._ix.leaking() if id(o) not in own]


def _one_shot(method, *args, **kw):
    with Index() as ix:
        return getattr(ix, method)(*args, **kw)


def why_alive(obj, max_depth=20, chains=1, *, index=None):
    """Index().why_alive(obj) with a temporary index (or the one given)."""
    if index is not None:
        return index.why_alive(obj, max_depth, chains)
    _check_target(obj, "why_alive()")
    return _one_shot("why_alive", obj, max_depth, chains)


def refcount_gap(obj, *, index=None):
    if index is not None:
        return index.refcount_gap(obj)
    _check_target(obj, "refcount_gap()")
    return _one_shot("refcount_gap", obj)


def leaking_objects(*, index=None):
    if index is not None:
        return index.leaking_objects()
    return _one_shot("leaking_objects")


# ---- class tracking and checkpoints ----------------------------------------------

_tracked = {}      # class -> set of instance ids at the last checkpoint
_timeline = []     # one dict per class per checkpoint
_listeners = []    # called with the checkpoint's label (the CLI prints then)


def track_class(cls):
    """Follows cls's instances over time: each checkpoint() records how
    many exist, how many were made and freed since the previous one, and
    their total deep size."""
    if not isinstance(cls, type):
        raise HeapError("track_class(): expected a class, not %s" % _describe(cls))
    if cls not in _tracked:
        _tracked[cls] = set()
        _record(cls, "track_class")


def _record(cls, label):
    instances = _native.heap_instances(cls)
    ids = set(id(o) for o in instances)
    before = _tracked[cls]
    _timeline.append({"time": time.time(), "label": label, "class": "%s.%s" % (cls.__module__, cls.__qualname__),
                      "count": len(ids), "created": len(ids - before), "freed": len(before - ids),
                      "deep_bytes": sum(_native.heap_deep_size(o) for o in instances)})
    _tracked[cls] = ids


def checkpoint(label=None):
    """Records every tracked class, and lets the `pyrometer heap` command
    print its census and growth."""
    label = label if label is not None else "checkpoint %d" % (len(_timeline) + 1)
    for cls in list(_tracked):
        _record(cls, label)
    for listener in list(_listeners):
        listener(label)


def timeline():
    """The checkpoints of every tracked class, oldest first (dicts)."""
    return [dict(e) for e in _timeline]
