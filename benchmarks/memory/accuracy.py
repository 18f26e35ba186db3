#!/usr/bin/env python3
"""How true pyrometer's sampled memory figures are: per-site live bytes and
the peak, at the default rate, against the exact figures (--memory-rate 1)
and against what the program holds (sys.getsizeof of the objects kept).

    python benchmarks/memory/accuracy.py [--runs N] [--rate BYTES]

The program keeps four sites alive (about 50, 100 and 175 MB of small and medium
objects, and 100 MB of 1 MB buffers) and holds a 50 MB transient at its peak
before freeing it.  Each run is one profile; the table gives, per site, the
mean and worst relative error of the sampled live bytes over the runs, and
the same for the peak (heap estimate against the exact peak of an exact
run).  Targets: within 10% for sites of 50 MB or more, peak within 3%."""
import argparse
import sys

import pyrometer

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


def held(objs):
    return sum(sys.getsizeof(o) for o in objs) + sys.getsizeof(objs)


def site_total(prof, metric, func):
    total = 0
    for per_thread in prof.stacks(metric).values():
        for stack, value in per_thread.items():
            if any(f[0].endswith(func) for f in stack):
                total += value
    return total


def one_run(rate):
    with pyrometer.profile(mode="memory", memory_rate=rate) as p:
        kept = [f() for f in SITES]
        transient_50()
    truth = {f.__name__: held(k) for f, k in zip(SITES, kept)}
    est = {name: site_total(p, "inuse_space", name) for name in truth}
    peak = p.meta["memory_peak_bytes"]
    del kept
    return truth, est, peak


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rate", type=int, default=512 * 1024)
    a = ap.parse_args(argv)
    truth, exact, exact_peak = one_run(1)
    errors = {name: [] for name in truth}
    peak_errors = []
    for _ in range(a.runs):
        t, est, peak = one_run(a.rate)
        for name in t:
            errors[name].append((est[name] - t[name]) / t[name])
        peak_errors.append((peak - exact_peak) / exact_peak)
    print("Python %s, rate %d bytes, %d runs\n" % (sys.version.split()[0], a.rate, a.runs))
    print("| site | held (getsizeof) | exact mode | sampled: mean abs error | worst |")
    print("|---|---|---|---|---|")
    for name in truth:
        e = [abs(x) for x in errors[name]]
        print("| %s | %.1f MB | %.1f MB | %.1f%% | %.1f%% |" % (
            name, truth[name] / MB, exact[name] / MB, 100 * sum(e) / len(e), 100 * max(e)))
    e = [abs(x) for x in peak_errors]
    print("| peak (heap estimate) | | %.1f MB | %.1f%% | %.1f%% |" % (exact_peak / MB, 100 * sum(e) / len(e), 100 * max(e)))


if __name__ == "__main__":
    main()
