"""The index of a directory of per-request profiles (``pyrometer view
DIR``): each kept request (method, route, status, duration) and, per route,
the count and durations; one request, or a route's requests merged into one
profile, opens in the viewer."""
import os

from .. import _native

_KEYS = ("request.method", "request.route", "request.status", "request.duration_ms")


class Entry:
    __slots__ = ("path", "method", "route", "status", "duration_ms", "start")

    def __init__(self, path, meta):
        self.path = path
        self.method = meta.get("request.method", "")
        self.route = meta.get("request.route", "")
        status = meta.get("request.status")
        self.status = int(status) if isinstance(status, float) else None
        self.duration_ms = float(meta.get("request.duration_ms", 0.0))
        self.start = float(meta.get("start_unix", 0.0))


def read(directory):
    """The request profiles in directory, oldest first (files that are not
    request profiles are left out)."""
    entries = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as f:
                meta = _native.Profile.from_bytes(f.read()).meta
        except (OSError, ValueError):
            continue
        if "request.method" in meta:
            entries.append(Entry(path, meta))
    entries.sort(key=lambda e: (e.start, e.path))
    return entries


def routes(entries):
    """{(method, route): [entries]} in first-seen order."""
    out = {}
    for e in entries:
        out.setdefault((e.method, e.route), []).append(e)
    return out


def _median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def table(entries):
    """The text index: one line per request, then one per route."""
    lines = ["%4s  %-7s %-40s %6s %11s  %s" % ("#", "method", "route", "status", "duration", "file")]
    for i, e in enumerate(entries, 1):
        status = "-" if e.status is None else str(e.status)
        lines.append("%4d  %-7s %-40s %6s %9.1fms  %s" % (i, e.method, e.route, status, e.duration_ms,
                                                          os.path.basename(e.path)))
    lines.append("")
    lines.append("%-7s %-40s %6s %11s %11s %11s" % ("method", "route", "count", "median", "max", "total"))
    for (method, route), group in sorted(routes(entries).items(), key=lambda kv: -sum(e.duration_ms for e in kv[1])):
        d = [e.duration_ms for e in group]
        lines.append("%-7s %-40s %6d %9.1fms %9.1fms %9.1fms" % (method, route, len(d), _median(d), max(d), sum(d)))
    return "\n".join(lines) + "\n"


def merged(entries, route):
    """One profile holding every request of a route (by route, or
    "METHOD route")."""
    chosen = [e for e in entries if e.route == route or "%s %s" % (e.method, e.route) == route]
    if not chosen:
        raise ValueError("no request of route %r in this directory" % route)
    out = _native.Profile()
    total = 0.0
    for e in chosen:
        with open(e.path, "rb") as f:
            p = _native.Profile.from_bytes(f.read())
        if not out.meta:
            for k, v in p.meta.items():
                if not k.startswith("request.") and not k.startswith("label.") and not k.startswith("source:"):
                    out.set_meta(k, v)
        out.merge(p)
        total += e.duration_ms
    out.set_meta("duration_s", total / 1000.0)
    out.set_meta("command", "%d requests of %s" % (len(chosen), route))
    out.set_meta("request.route", chosen[0].route)
    return out
