"""The sampler-cost scenario: pyrometer's own CPU use and rate with many deep
stacks, the floor (its wake-ups alone), and a bare timer thread waking at the
same rate with no profiler (scenarios/wake_floor.c: what the machine charges
for a wake-up itself, which no sampler waking per tick can go below).  Runs
benchmarks/scenarios/sampler_cost.py in the venv, each variant REPEATS times
in fresh processes, profiled runs interleaved with unprofiled baselines for
the variants whose threads are asleep (so "process CPU added" is the whole
cost of profiling, measured from outside the sampler: the sampler thread
plus anything pyrometer makes other threads do)."""
import json
import os
import shutil
import subprocess
import tempfile

from .util import capture, describe_status, last_line, log, median

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(HERE), "scenarios", "sampler_cost.py")
WAKE_FLOOR = os.path.join(os.path.dirname(HERE), "scenarios", "wake_floor.c")

DEPTH = 50
# (name, threads, busy, what it shows)
VARIANTS = [
    ("floor", 0, 0, "wake-ups alone: no extra thread, the main thread asleep"),
    ("10 asleep", 10, 0, "10 threads x 50 frames, all blocked on an Event"),
    ("10 mixed", 10, 5, "10 threads x 50 frames, 5 spinning in Python, 5 blocked"),
    ("10 busy", 10, 10, "10 threads x 50 frames, all spinning in Python (GIL-bound)"),
]


def _run(ctx, threads, busy, seconds, profiled):
    argv = [ctx.python, SCRIPT, "--threads", str(threads), "--busy", str(busy), "--depth", str(DEPTH),
            "--seconds", str(seconds), "--rate", "1000"]
    if not profiled:
        argv.append("--no-profile")
    rc, out, err = capture(argv, timeout=seconds * 10 + 120, env=ctx.env)
    if rc:
        return {"error": "%s: %s" % (describe_status(rc), last_line(err or out))}
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": "no JSON result: %s" % last_line(out or err)}


def bare_timer(seconds, repeats):
    """The median share of a core a thread doing nothing but wake at 1 kHz
    uses, or None without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(d, "wake_floor")
        if subprocess.run([cc, "-O2", "-o", exe, WAKE_FLOOR], capture_output=True).returncode:
            return None
        shares = []
        for _ in range(repeats):
            rc, out, _err = capture([exe, "1000", str(seconds)], timeout=seconds * 10 + 60)
            if rc == 0:
                shares.append(json.loads(out.strip().splitlines()[-1])["share"])
    return median(shares) if shares else None


def measure(ctx, seconds, repeats):
    results = []
    for name, threads, busy, what in VARIANTS:
        runs, baselines, errors = [], [], []
        for _ in range(repeats):
            r = _run(ctx, threads, busy, seconds, True)
            (errors if "error" in r else runs).append(r.get("error") or r)
            if busy == 0:
                b = _run(ctx, threads, busy, seconds, False)
                (errors if "error" in b else baselines).append(b.get("error") or b)
        row = {"variant": name, "threads": threads, "busy": busy, "depth": DEPTH, "seconds": seconds,
               "what": what, "repeats": len(runs), "errors": errors, "runs": runs, "baselines": baselines}
        metas = [r["meta"] for r in runs if r.get("meta")]
        if metas:
            row["sampler_cpu_share"] = median(m["sampler_cpu_s"] / m["duration_s"] for m in metas)
            row["taken_ratio"] = median(m["samples_taken"] / m["samples_expected"] for m in metas
                                        if m["samples_expected"])
            row["achieved_hz"] = median(m["samples_taken"] / m["duration_s"] for m in metas)
            row["torn"] = median(m["samples_torn"] for m in metas)
            walks = [r.get("stats", {}).get("walks") for r in runs]
            row["walks_per_sample"] = median(
                w / m["samples_taken"] for w, m in zip(walks, metas) if w is not None and m["samples_taken"])
            row["sampler_us_per_sample"] = median(
                m["sampler_cpu_s"] / m["samples_taken"] * 1e6 for m in metas if m["samples_taken"])
        if baselines and runs:
            added = median(r["process_cpu_s"] for r in runs) - median(b["process_cpu_s"] for b in baselines)
            row["process_cpu_added_share"] = added / median(r["wall_s"] for r in runs)
        log("  sampler cost %-10s sampler CPU %s  taken %s  rate %s Hz%s" % (
            name, _pct(row.get("sampler_cpu_share")), _pct(row.get("taken_ratio")),
            "%.0f" % row["achieved_hz"] if row.get("achieved_hz") else "-",
            ("  errors: %s" % errors[0]) if errors else ""))
        results.append(row)
    timer = bare_timer(seconds, repeats)
    if timer is not None:
        results.append({"variant": "bare timer", "threads": 0, "busy": 0, "seconds": seconds, "repeats": repeats,
                        "what": "no profiler: a C thread that only wakes at 1 kHz", "timer_cpu_share": timer})
        log("  sampler cost bare timer (no profiler) %s" % _pct(timer))
    return results


def _pct(x):
    return "%.2f%%" % (100 * x) if x is not None else "-"
