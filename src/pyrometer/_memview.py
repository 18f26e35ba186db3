"""A memory profile's views, read from its data: which metric each
``--memory-view`` shows, the heap timeline, and the report's wording.  The
ProfileData views (_profile.py) use it; the session that records a memory
profile is _memory.py."""
import os

# --memory-view -> the metric holding that view (Go's heap profile names).
VIEWS = {
    "peak": "peak_space",
    "live": "inuse_space",
    "allocated": "alloc_space",
    "leaks": "leak_space",
}
_TITLES = {
    "peak_space": "live at the peak",
    "inuse_space": "live at the end",
    "alloc_space": "allocated",
    "leak_space": "leaked (allocated since the start or the last checkpoint, still live)",
}

def check_memory_view(view):
    if view not in VIEWS:
        raise ValueError("memory view must be one of %s, not %r" % (", ".join(VIEWS), view))
    return view


def view_metric(meta):
    """The metric of the view a memory profile was asked to show."""
    return VIEWS.get(meta.get("memory_view"), "peak_space")


def timeline(data):
    """[(seconds, heap estimate in bytes, RSS in bytes or -1)] of a memory
    profile (ProfileData): a point every few milliseconds of allocation,
    the last one at the end."""
    text = data.meta.get("memory_timeline", "")
    points = []
    for item in text.split(";") if text else ():
        t, heap, rss = item.split()
        points.append((float(t), int(heap), int(rss)))
    return points


def _size(n):
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024


def _native(f):
    # A native frame: no line, and a shared object (or nothing) for its file.
    return f[2] <= 0 and (not f[1] or ".so" in os.path.basename(f[1]))


def _frame(f):
    if _native(f):
        return "%s (%s)" % (f[0], os.path.basename(f[1])) if f[1] else f[0]
    return "%s (%s:%d)" % (f[0], os.path.basename(f[1]), f[2])


def _where(stack, limit=3):
    frames = list(stack)[::-1]
    if frames and _native(frames[0]):
        # A native allocation: the allocator, the innermost and outermost
        # native functions with a name, then the Python frames that led
        # there.
        native = [f for f in frames if _native(f)]
        named = [f for f in native[1:] if "+0x" not in f[0]]
        named = named[:1] + named[-1:] if len(named) > 1 else named
        python = [f for f in frames if not _native(f)]
        keep = max(1, limit - 1)
        text = " <- ".join(_frame(f) for f in [frames[0]] + named + python[:keep])
        return text + (" <- ..." if len(python) > keep else "")
    frames = frames[:limit]
    text = " <- ".join(_frame(f) for f in frames)
    if len(stack) > limit:
        text += " <- ..."
    return text or "(no Python frame)"


def _top_stacks(data, metric, n):
    totals = {}
    for per_thread in data.stacks(metric).values():
        for stack, value in per_thread.items():
            totals[stack] = totals.get(stack, 0) + value
    rows = sorted(((v, s) for s, v in totals.items() if v > 0), key=lambda r: -r[0])
    return rows[:n]


def report(data, metric=None, top=15, **options):
    """The memory report: the peak (heap estimate and RSS, when), the call
    tree of the chosen view, the top allocating stacks and the leaks."""
    meta = data.meta
    metric = metric or view_metric(meta)
    rss_peak = meta.get("memory_peak_rss", -1)
    rss_max = meta.get("memory_rss_max", -1)
    rate = meta.get("memory_rate", 0)
    lines = [
        "pyrometer memory profile",
        "  peak        %s (heap estimate) at %.3f s%s"
        % (
            _size(meta.get("memory_peak_bytes", 0)),
            meta.get("memory_peak_s", 0.0),
            ", RSS then %s" % _size(rss_peak) if rss_peak >= 0 else "",
        ),
        "  RSS max     %s" % (_size(rss_max) if rss_max >= 0 else "unknown"),
        "  allocated   %s in %d allocations (estimated)"
        % (_size(meta.get("memory_allocated_bytes", 0)), meta.get("memory_allocated_count", 0)),
        "  live at end %s; leaked %s" % (_size(meta.get("memory_live_bytes", 0)), _size(meta.get("memory_leak_bytes", 0))),
    ]
    if meta.get("memory_native"):
        # Native bytes apart from Python's: what the stacks ending in an
        # allocator's native frame hold.
        peak, live = meta.get("memory_peak_bytes", 0), meta.get("memory_live_bytes", 0)
        npeak, nlive = meta.get("memory_native_peak_bytes", 0), meta.get("memory_native_live_bytes", 0)
        nalloc = meta.get("memory_native_allocated_bytes", 0)
        lines.append("  native      %s at the peak (Python %s), %s at the end (Python %s), %s allocated"
                     % (_size(npeak), _size(peak - npeak), _size(nlive), _size(live - nlive), _size(nalloc)))
    lines += [
        "  sampling    %s"
        % (
            "every allocation"
            if rate <= 1
            else "one sample per %s allocated on average, %d samples" % (_size(rate), meta.get("memory_samples", 0))
        ),
        "",
        "Call tree: %s (%s)" % (_TITLES.get(metric, metric), metric),
    ]
    head = "\n".join(lines) + "\n"
    tree = data._tree_report(metric=metric, top=0, **options)
    tail = []
    for title, m in (("Top allocating stacks", "alloc_space"), ("Leaks", "leak_space")):
        if m not in data.metrics:
            continue
        rows = _top_stacks(data, m, top)
        tail.append("%s (%s)" % (title, m))
        if not rows:
            tail.append("  none")
        width = max(40, int(options.get("width") or 100))
        for value, stack in rows:
            row = "  %10s  %s" % (_size(value), _where(stack))
            tail.append(row if len(row) <= width else row[: width - 1] + "\u2026")
        tail.append("")
    return head + tree + "\n" + "\n".join(tail)
