"""``pyrometer run --mode memory --heap-at-exit``: what the program's heap
gained between its start and its end, per type, with where the surviving
new instances were allocated and what keeps one of them alive.

Three pieces already built meet here:
  - a heap snapshot (pyrometer.heap, C) taken just before the program's
    code runs: a census by type and the address of every tracked object;
  - the memory sampler's table of live sampled blocks (collect/pm_blocks.c):
    an object made since the snapshot whose block was sampled is looked up
    by its block's address (the object's address minus its type's
    pre-header) and gives the stack that allocated it;
  - why_alive on one survivor of each type.

The census at exit is the first thing done once the program's code has
finished, so that nothing pyrometer makes afterwards is counted; the
sampler is told to ignore this thread's allocations while the snapshot and
the census are taken (they are not the program's).  Counts are exact (every
object is visited); bytes follow sys.getsizeof; allocation sites are those
of the survivors the sampler happened to sample."""
import json
import math
import os
import sys

from . import _native

DEFAULT_TOP = 5
STACKS_SHOWN = 3
FRAMES_SHOWN = 4
META_KEY = "heap_at_exit"

_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class HeapAtExit:
    """One run's heap report: start() before the program, collect() right
    after it (the sampler still running), finish(native_profile) after the
    sampler stopped and before its stacks are re-rooted.  The caller keeps
    the sampler quiet on this thread around start() and collect()."""

    def __init__(self, sampler, top=DEFAULT_TOP):
        self.sampler = sampler  # the native MemoryProfiler
        self.top = top
        self.snap = None
        self.start_frame = None
        self.picked = None
        self.report = None

    def start(self, frame):
        """frame: the one that runs the program; the frames below it at
        exit are pyrometer's own (3.9/3.10 count frames as heap objects)."""
        # Its id, not the frame: a reference of ours would make a frame
        # object reachable that the census at start did not see; and taken
        # before the snapshot, so that the int is older than it.
        self.start_frame = id(frame)
        # A census first: naming a type that was never readied (3.9's
        # _functools._lru_list_elem) readies it, making its MRO tuples and a
        # weakref, which the snapshot must already see.
        _native.heap_census(True)
        self.snap = _native.HeapSnapshot(untracked=True)

    def collect(self):
        """The census and the surviving new objects of the types that grew;
        the allocation nodes of those the sampler sampled; one chain each."""
        rows = self.snap.growth()  # first: nothing of ours made since counts
        new = self.snap.new_objects(None)
        frames = _own_new_frames(self.start_frame)
        # What pyrometer made since the program ended, and is new too: the
        # rows of the census, and (3.9/3.10) its own frames.
        ours = set(id(f) for f in frames)
        ours.add(id(rows))
        ours.update(id(r) for r in rows)
        own_frames = (len(frames), sum(sys.getsizeof(f) for f in frames))
        grown = []
        for qualname, module, count, delta, nbytes, delta_bytes in rows:
            if module.startswith("pyrometer"):
                continue  # pyrometer's own session objects
            if (module, qualname) == ("builtins", "frame") and own_frames[0]:
                delta -= own_frames[0]
                delta_bytes -= own_frames[1]
                count -= own_frames[0]
                nbytes -= own_frames[1]
            if delta > 0:
                grown.append({"type": qualname, "module": module, "count": count, "delta": delta,
                              "bytes": nbytes, "delta_bytes": delta_bytes})
        grown.sort(key=lambda g: (-g["delta_bytes"], -g["delta"], g["module"], g["type"]))
        picked = grown[: self.top]
        wanted = {(g["module"], g["type"]): g for g in picked}
        survivors = {key: [] for key in wanted}
        for o in new:
            if id(o) in ours:
                continue
            t = type(o)
            lst = survivors.get((_attr(t, "__module__"), _attr(t, "__qualname__", t.__name__)))
            if lst is not None:
                lst.append(o)
        from . import heap

        index = heap.Index() if any(survivors.values()) else None
        try:
            for key, g in wanted.items():
                objs = survivors[key]
                g["survivors"] = len(objs)
                # The block an instance lives in is its whole getsizeof only
                # when nothing else is counted in (object's __sizeof__, no items).
                t = type(objs[0]) if objs else None
                g["block_bytes"] = (g["delta_bytes"] // g["delta"] if t is not None and t.__itemsize__ == 0
                                    and getattr(t, "__sizeof__", None) is object.__sizeof__ else None)
                nodes = self.sampler.sampled_nodes(objs) if objs else []
                g["nodes"] = [n for n in nodes if n >= 0]
                g["chain"] = None
                if objs:
                    # A survivor the sampler saw, if any: its chain and its
                    # stack tell one story.
                    target = next((o for o, n in zip(objs, nodes) if n >= 0), objs[0])
                    try:
                        r = index.why_alive(target, max_depth=20, chains=1)
                        if r.chains:
                            c = r.to_dict()["chains"][0]
                            g["chain"] = {"root_kind": c["root_kind"], "root": c["root"],
                                          "steps": [{"edge": s["edge"], "repr": s["repr"], "type": s["type"]}
                                                    for s in c["steps"]],
                                          "text": _chain_text(r)}
                    except Exception as exc:
                        g["chain_error"] = str(exc)
                del objs[:]
            del new[:]
        finally:
            if index is not None:
                index.close()
        self.picked = picked
        self.ntypes_grown = len(grown)

    def finish(self, native_profile):
        """Turns sample nodes into stacks; stores the report in the
        profile's meta (JSON under META_KEY) and returns it."""
        frames = native_profile.frames()
        nodes = native_profile.nodes()
        types = []
        for g in self.picked:
            by_stack = {}
            for n in g.pop("nodes"):
                stack = _stack_of(n, nodes, frames)
                by_stack[stack] = by_stack.get(stack, 0) + 1
            sampled = sum(by_stack.values())
            stacks = sorted(by_stack.items(), key=lambda kv: (-kv[1], kv[0]))
            g["sampled"] = sampled
            g["stacks"] = [{"count": c, "frames": [list(f) for f in s]} for s, c in stacks[:STACKS_SHOWN]]
            g["other_stacks"] = max(0, len(stacks) - STACKS_SHOWN)
            types.append(g)
        self.report = {"top": self.top, "types_grown": self.ntypes_grown, "types": types,
                       "memory_rate": native_profile.meta.get("memory_rate")}
        native_profile.set_meta(META_KEY, json.dumps(self.report, sort_keys=True))
        return self.report


def _attr(t, name, default="?"):
    try:
        v = getattr(t, name)
        return v if isinstance(v, str) else default
    except Exception:
        return default


def _own_new_frames(start_frame):
    """start_frame: the id of the frame that ran the program.  pyrometer's frame objects made since the program started and alive
    at the census: on 3.9/3.10 every call has one (those from the frame that
    ran the program down to collect, its caller).  From 3.11 frames are
    objects only when asked for, and none of these was."""
    if sys.version_info >= (3, 11) or start_frame is None:
        return []
    frames = []
    f = sys._getframe(1)
    while f is not None and id(f) != start_frame:
        frames.append(f)
        f = f.f_back
    return frames if f is not None else []


def _launcher(file):
    return file.startswith(_OWN_DIR) or file in ("<frozen runpy>",) or os.path.basename(file) == "runpy.py"


def _stack_of(node, nodes, frames):
    """The frames of a node, innermost first, up to the program's outermost
    one (pyrometer's launcher and runpy left out): ((name, file, line), ...)."""
    out = []
    seen = 0
    while node is not None and node >= 0 and seen < 10000:
        seen += 1
        parent, frame, line, _thread = nodes[node]
        if frame >= 0:
            name, file, _first, _kind = frames[frame]
            if _launcher(file):
                break
            out.append((name, file, line))
        node = parent
    return tuple(out)


def _chain_text(retention):
    """The first chain of why_alive's text, without its header lines."""
    lines = retention.text().splitlines()
    return "\n".join(line for line in lines[2:] if line.strip())


def _size(n):
    n = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024


def _odds(g, rate):
    """How often the sampler samples an instance's block: a block of s
    bytes with probability 1 - exp(-s/rate)."""
    if not rate or not g.get("block_bytes"):
        return ""
    p = -math.expm1(-g["block_bytes"] / float(rate))
    if p >= 0.5:
        return ""
    return " (1 in ~%d expected at --memory-rate %d)" % (round(1 / p), rate)


def _where(frames):
    shown = ["%s (%s:%d)" % (name, os.path.basename(file), line) for name, file, line in frames[:FRAMES_SHOWN]]
    if len(frames) > FRAMES_SHOWN:
        shown.append("...")
    return " < ".join(shown) if shown else "(no Python frame)"


def text(report):
    """The stderr section: a few lines per type."""
    types = report["types"]
    head = "Heap growth from the program's start to its end (--heap-at-exit): "
    if not types:
        return "\n" + head + "none, no type has more instances than when the program started\n"
    n = report["types_grown"]
    lines = ["", head + "%d type%s grew; the top %d by bytes (counts exact, sizes as sys.getsizeof):"
             % (n, "" if n == 1 else "s", len(types))]
    for g in types:
        name = g["type"] if g["module"] == "builtins" else "%s.%s" % (g["module"], g["type"])
        lines.append("  %s: +%d instances, +%s (now %d, %s)" % (name, g["delta"], _size(g["delta_bytes"]),
                                                                g["count"], _size(g["bytes"])))
        if not g["survivors"]:
            lines.append("    its instances are not tracked by the GC (atoms held by other objects): "
                         "new ones cannot be told from old ones")
            continue
        lines.append("    allocated at: %d of the %d new instances alive were sampled%s"
                     % (g["sampled"], g["survivors"], _odds(g, report.get("memory_rate"))))
        for s in g["stacks"]:
            lines.append("      %6d  %s" % (s["count"], _where([tuple(f) for f in s["frames"]])))
        if g["other_stacks"]:
            lines.append("      and %d other stack%s" % (g["other_stacks"], "" if g["other_stacks"] == 1 else "s"))
        chain = g.get("chain")
        if chain:
            lines.append("    one is kept alive by:")
            lines.extend("    " + line for line in chain["text"].splitlines())
        elif g.get("chain_error"):
            lines.append("    no retention chain: %s" % g["chain_error"])
        else:
            lines.append("    no retention chain found within 20 references")
    return "\n".join(lines) + "\n"
