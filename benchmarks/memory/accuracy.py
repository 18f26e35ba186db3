#!/usr/bin/env python3
"""How true pyrometer's sampled memory figures are: per-site live bytes, the
peak and the leaks, at the default rate, against the exact figures
(--memory-rate 1) and against what the program holds (sys.getsizeof of the
objects kept); with --peers, tracemalloc's and memray's figures on the same
program beside them.

    python benchmarks/memory/accuracy.py [--runs N] [--rate BYTES] [--peers]

The program keeps four sites alive (about 50, 100 and 175 MB of small and medium
objects, and 100 MB of 1 MB buffers) and holds a 50 MB transient at its peak
before freeing it.  Each run is one profile; the table gives, per site, the
mean and worst relative error of the sampled live bytes over the runs, and
the same for the peak (heap estimate against the exact peak of an exact
run).  Targets: within 10% for sites of 50 MB or more, peak within 3%.

Leaks: a second program frees what it made while warming up, takes a
checkpoint, then keeps about 60 MB of small objects (leak_60) and makes and
frees 200 MB (churn_200).  Its rows give the leak found at leak_60 against
what it holds, and the largest leak charged anywhere else (a named site, or
all stacks through none of them): target, none over 5 MB.

--peers (each once, where installed): tracemalloc (every allocation traced,
sites by the lines of their functions, leaks as the difference of a snapshot
at the checkpoint and one at the end) and memray (Tracker with
trace_python_allocators, so each object is seen rather than pymalloc's
arenas; live at the end of tracking, its peak; leaks: tracking from the
checkpoint on, what is still live at its end)."""
import argparse
import inspect
import os
import sys
import tempfile

import pyrometer
from pyrometer._memory import DEFAULT_RATE

MB = 1024 * 1024


def small_50():
    return [("s%d" % i) * 4 for i in range(50 * MB // 72)]


def medium_100():
    return [bytearray(2000) for _ in range(100 * MB // 2057)]


def medium_200():
    return [list(range(40)) for _ in range(200 * MB // 440)]


def large_100():
    return [bytearray(MB) for _ in range(100)]


def transient_50():
    tmp = [bytearray(5000) for _ in range(50 * MB // 5057)]
    size = held(tmp)
    del tmp
    return size


SITES = (small_50, medium_100, medium_200, large_100)

LEAKED = []


def warm_up():
    tmp = [bytearray(1000) for _ in range(20000)]
    del tmp


def leak_60():
    LEAKED.append([("leak%d" % i) * 8 for i in range(60 * MB // 137)])


def churn_200():
    for _ in range(20):
        tmp = [bytearray(1000) for _ in range(10 * MB // 1057)]
        del tmp


LEAK_SITES = (warm_up, leak_60, churn_200)
NAMES = [f.__name__ for f in SITES + LEAK_SITES + (transient_50,)]


def held(objs):
    return sum(sys.getsizeof(o) for o in objs) + sys.getsizeof(objs)


def site_of(funcs):
    """The site a stack (function names, any order) passes through, or None."""
    for name in funcs:
        if name in NAMES:
            return name
    return None


def by_site(prof, metric):
    """{site or None: bytes of metric} over every stack of the profile."""
    out = {}
    for per_thread in prof.stacks(metric).values():
        for stack, value in per_thread.items():
            site = site_of([f[0].rsplit(".", 1)[-1] for f in reversed(stack)])
            out[site] = out.get(site, 0) + value
    return out


def one_run(rate):
    with pyrometer.profile(mode="memory", memory_rate=rate) as p:
        kept = [f() for f in SITES]
        transient_50()
    truth = {f.__name__: held(k) for f, k in zip(SITES, kept)}
    live = by_site(p, "inuse_space")
    est = {name: live.get(name, 0) for name in truth}
    peak = p.meta["memory_peak_bytes"]
    del kept
    return truth, est, peak


def leak_run(rate):
    """(truth at leak_60, leak found there, largest leak anywhere else)."""
    LEAKED.clear()
    with pyrometer.profile(mode="memory", memory_rate=rate) as p:
        warm_up()
        p.checkpoint()
        leak_60()
        churn_200()
    leaks = by_site(p, "leak_space")
    found = leaks.pop("leak_60", 0)
    truth = held(LEAKED[0])
    LEAKED.clear()
    return truth, found, max(leaks.values(), default=0)


# ---- peers --------------------------------------------------------------------


def line_ranges():
    """{site: (first line, last line)} of this file's site functions."""
    out = {}
    for f in SITES + LEAK_SITES + (transient_50,):
        lines, start = inspect.getsourcelines(f)
        out[f.__name__] = (start, start + len(lines) - 1)
    return out


def tracemalloc_figures():
    import tracemalloc

    here = os.path.abspath(__file__)
    ranges = line_ranges()

    def site_of_trace(tb):
        for fr in tb:
            if os.path.abspath(fr.filename) == here:
                for name, (lo, hi) in ranges.items():
                    if lo <= fr.lineno <= hi:
                        return name
        return None

    def sums(stats):
        out = {}
        for st in stats:
            site = site_of_trace(st.traceback)
            out[site] = out.get(site, 0) + st.size
        return out

    tracemalloc.start(10)
    kept = [f() for f in SITES]
    transient_50()
    live = sums(tracemalloc.take_snapshot().statistics("traceback"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del kept

    LEAKED.clear()
    tracemalloc.start(10)
    warm_up()
    before = tracemalloc.take_snapshot()
    leak_60()
    churn_200()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    diff = {}
    for st in after.compare_to(before, "traceback"):
        site = site_of_trace(st.traceback)
        diff[site] = diff.get(site, 0) + st.size_diff
    LEAKED.clear()
    return live, peak, diff


def memray_figures():
    import memray

    def sums(records):
        out = {}
        for r in records:
            site = site_of([fr[0] for fr in r.stack_trace()])
            out[site] = out.get(site, 0) + r.size
        return out

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "sites.bin")
        with memray.Tracker(path, trace_python_allocators=True,
                            file_format=memray.FileFormat.AGGREGATED_ALLOCATIONS):
            kept = [f() for f in SITES]
            transient_50()
        reader = memray.FileReader(path)
        live = sums(reader.get_leaked_allocation_records(merge_threads=True))
        peak = reader.metadata.peak_memory
        del kept

        LEAKED.clear()
        warm_up()
        path = os.path.join(d, "leaks.bin")
        with memray.Tracker(path, trace_python_allocators=True,
                            file_format=memray.FileFormat.AGGREGATED_ALLOCATIONS):
            leak_60()
            churn_200()
        leaks = sums(memray.FileReader(path).get_leaked_allocation_records(merge_threads=True))
        LEAKED.clear()
    return live, peak, leaks


def peers():
    """{peer: (live by site, peak, leaks by site)} of the peers installed."""
    out = {}
    for name, fn in (("tracemalloc", tracemalloc_figures), ("memray", memray_figures)):
        try:
            out[name] = fn()
        except ImportError:
            pass
    return out


def pct(x):
    return "%.1f%%" % (100 * x)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rate", type=int, default=DEFAULT_RATE)
    ap.add_argument("--peers", action="store_true", help="tracemalloc's and memray's figures beside")
    a = ap.parse_args(argv)
    truth, exact, exact_peak = one_run(1)
    errors = {name: [] for name in truth}
    peak_errors = []
    leak_errors, false_leaks = [], []
    for _ in range(a.runs):
        t, est, peak = one_run(a.rate)
        for name in t:
            errors[name].append((est[name] - t[name]) / t[name])
        peak_errors.append((peak - exact_peak) / exact_peak)
        lt, found, other = leak_run(a.rate)
        leak_errors.append((found - lt) / lt)
        false_leaks.append(other)
    exact_leak = leak_run(1)
    others = peers() if a.peers else {}

    print("Python %s, rate %d bytes, %d runs\n" % (sys.version.split()[0], a.rate, a.runs))
    head = "| site | held (getsizeof) | exact mode | sampled: mean abs error | worst |"
    print(head + "".join(" %s: error |" % n for n in others))
    print("|---|---|---|---|---|" + "---|" * len(others))
    for name in truth:
        e = [abs(x) for x in errors[name]]
        cells = "".join(" %s |" % pct(abs(o[0].get(name, 0) - truth[name]) / truth[name]) for o in others.values())
        print("| %s | %.1f MB | %.1f MB | %s | %s |%s" % (
            name, truth[name] / MB, exact[name] / MB, pct(sum(e) / len(e)), pct(max(e)), cells))
    e = [abs(x) for x in peak_errors]
    cells = "".join(" %s |" % pct(abs(o[1] - exact_peak) / exact_peak) for o in others.values())
    print("| peak (heap estimate) | | %.1f MB | %s | %s |%s" % (exact_peak / MB, pct(sum(e) / len(e)), pct(max(e)), cells))
    e = [abs(x) for x in leak_errors]
    lt = exact_leak[0]
    cells = "".join(" %s |" % pct(abs(o[2].get("leak_60", 0) - lt) / lt) for o in others.values())
    print("| leak at leak_60 | %.1f MB | %.1f MB | %s | %s |%s" % (
        lt / MB, exact_leak[1] / MB, pct(sum(e) / len(e)), pct(max(e)), cells))
    cells = "".join(" %.1f MB |" % (max((v for k, v in o[2].items() if k != "leak_60"), default=0) / MB)
                    for o in others.values())
    print("| largest leak elsewhere (target ≤ 5 MB) | | %.1f MB | %.1f MB (mean) | %.1f MB |%s" % (
        exact_leak[2] / MB, sum(false_leaks) / len(false_leaks) / MB, max(false_leaks) / MB, cells))


if __name__ == "__main__":
    main()
