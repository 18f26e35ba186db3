"""Sampler-cost scenario: how much CPU does pyrometer's sampling thread use,
and does it keep its rate, when the process has many deep stacks?

    python sampler_cost.py --threads 10 --busy 5 --depth 50 --seconds 5 [--rate 1000] [--no-profile]

Starts THREADS threads; each recurses to DEPTH Python frames and there either
spins in pure Python (the first BUSY of them) or blocks on an Event.  Once all
are in place, the main thread sleeps SECONDS inside ``pyrometer.profile(rate)``
(or without it, for the baseline), then releases the threads.  Prints one JSON
line: the profile's meta (sampler_cpu_s, duration_s, samples_*), the
low-level sampler stats when they can be read, and the process CPU time
(all threads, including the sampler) over the sampled window.
"""
import argparse
import json
import sys
import threading
import time


def descend(depth, leaf):
    if depth <= 1:
        return leaf()
    return descend(depth - 1, leaf) + 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=10)
    ap.add_argument("--busy", type=int, default=0)
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--no-profile", action="store_true")
    a = ap.parse_args()

    stop = threading.Event()
    running = [True]
    ready = threading.Barrier(a.threads + 1) if a.threads else None
    # Frames of descend() below the thread's own bootstrap frames: the depth
    # counted is the Python frames this program adds (DEPTH), plus the few
    # frames of threading's bootstrap.

    def spin():
        ready.wait()
        x = 0
        while running[0]:
            for i in range(200):
                x += i
        return x

    def sleep():
        ready.wait()
        stop.wait()
        return 0

    threads = []
    for i in range(a.threads):
        leaf = spin if i < a.busy else sleep
        t = threading.Thread(target=descend, args=(a.depth, leaf), name="deep-%d" % i, daemon=True)
        t.start()
        threads.append(t)
    if ready is not None:
        ready.wait()
    time.sleep(0.05)  # let every thread reach its leaf

    result = {"threads": a.threads, "busy": a.busy, "depth": a.depth, "seconds": a.seconds,
              "rate": a.rate, "profiled": not a.no_profile}
    if a.no_profile:
        c0, w0 = time.process_time(), time.perf_counter()
        time.sleep(a.seconds)
        c1, w1 = time.process_time(), time.perf_counter()
    else:
        import pyrometer

        p = pyrometer.profile(rate=a.rate)
        c0, w0 = time.process_time(), time.perf_counter()
        with p:
            time.sleep(a.seconds)
            try:  # private, optional: the raw counters (walks, reads, ...)
                result["stats_running"] = dict(p._sampler.stats())
            except Exception as exc:
                result["stats_error"] = "%s: %s" % (type(exc).__name__, exc)
        c1, w1 = time.process_time(), time.perf_counter()
        meta = p.meta
        result["meta"] = {k: meta.get(k) for k in (
            "rate_hz", "duration_s", "samples_expected", "samples_taken", "samples_torn", "sampler_cpu_s")}
        try:
            result["stats"] = dict(p._sampler.stats())
        except Exception:
            pass
        try:
            result["threads_seen"] = len(p.threads)
        except Exception:
            pass
    result["process_cpu_s"] = c1 - c0
    result["wall_s"] = w1 - w0

    running[0] = False
    stop.set()
    for t in threads:
        t.join()
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
