"""Interleaved paired runs.

For one workload, the runner goes round by round; in each round every
profiler gets one pair: a plain run immediately followed by a profiled run.
The order of the profilers rotates from round to round.  So each profiler's
pairs are spread over the whole time the workload is measured, and a burst of
load from elsewhere on the machine hits one pair of many profilers rather
than every pair of one.

Per pair two times are kept: the whole process (time.perf_counter() around
subprocess.run: interpreter and profiler start-up, the work, writing the
profile, shutdown) and the work loop (what the workload itself measured
around its work and printed on stderr).  A cell's slowdown is the median of
its per-pair ratios (profiled / plain); the ratio of the medians is kept in
the JSON too.

A cell whose runs are slow stops early once it has used its time budget
(after min_pairs pairs, or after one pair when that pair's slowdown is above
3x: noise cannot matter there); the pairs used are reported.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time

from .util import describe_status, last_line, log, median

WORK_RE = re.compile(r"^pyrobench: work_s=([0-9.eE+-]+)\s*$", re.M)
RUN_TIMEOUT = 900


class Run:
    __slots__ = ("wall", "work", "rc", "stdout", "stderr", "timed_out")

    def __init__(self, wall, work, rc, stdout, stderr, timed_out=False):
        self.wall, self.work, self.rc = wall, work, rc
        self.stdout, self.stderr, self.timed_out = stdout, stderr, timed_out

    def failure(self):
        if self.timed_out:
            return "timed out after %ds" % RUN_TIMEOUT
        if self.rc != 0:
            return "%s: %s" % (describe_status(self.rc), last_line(self.stderr) or "(no message)")
        if self.work is None:
            return "no 'pyrobench: work_s=' line on stderr"
        return None


def run_once(argv, env, cwd):
    t0 = time.perf_counter()
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
                           timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Run(time.perf_counter() - t0, None, None, "", "", timed_out=True)
    wall = time.perf_counter() - t0
    stderr = p.stderr.decode("utf-8", "replace")
    works = WORK_RE.findall(stderr)
    work = float(works[-1]) if works else None
    return Run(wall, work, p.returncode, p.stdout.decode("utf-8", "replace"), stderr)


class Cell:
    """One workload x one profiler."""

    def __init__(self, workload, profiler):
        self.workload = workload
        self.profiler = profiler
        self.pairs = []        # dicts: plain_wall, prof_wall, plain_work, prof_work, extra
        self.outputs = []      # output path prefixes of the profiled runs
        self.error = None
        self.done = False
        self.spent = 0.0
        self.extras = []

    def ratios(self, key):
        return [p["prof_" + key] / p["plain_" + key] for p in self.pairs
                if p["plain_" + key] and p["prof_" + key] is not None]

    def summary(self):
        s = {"profiler": self.profiler.name, "pairs": len(self.pairs), "error": self.error}
        for key in ("wall", "work"):
            r = self.ratios(key)
            plain = median(p["plain_" + key] for p in self.pairs)
            prof = median(p["prof_" + key] for p in self.pairs)
            s["slowdown_" + key] = median(r)                       # median of per-pair ratios
            s["slowdown_%s_of_medians" % key] = prof / plain if plain and prof else None
            s["slowdown_%s_min" % key] = min(r) if r else None
            s["slowdown_%s_max" % key] = max(r) if r else None
            s["plain_%s_s" % key] = plain
            s["profiled_%s_s" % key] = prof
        s["runs"] = self.pairs
        s["extras"] = self.extras
        return s


def measure_workload(ctx, workload, profilers, availability, quick, pairs, budget, min_pairs):
    """Returns {"workload", "size", "reference", "cells": {name: summary}}."""
    size = workload.size(quick)
    args = [str(size)]
    cwd = os.path.dirname(workload.path)
    plain_argv = [ctx.python, workload.path] + args
    tmp = tempfile.mkdtemp(prefix="pyrobench-%s-" % workload.name)
    result = {"workload": workload.name, "description": workload.description, "size": size, "cells": {}}
    try:
        # Warm-up (discarded): page cache, and the reference output.
        ref = run_once(plain_argv, ctx.env, cwd)
        failure = ref.failure()
        if failure:
            result["error"] = "plain run failed: " + failure
            log("  %s: plain run failed: %s" % (workload.name, failure))
            return result
        result["reference_stdout"] = ref.stdout
        cells = []
        for prof in profilers:
            cell = Cell(workload, prof)
            if availability[prof.name]["status"] != "ok":
                cell.error = "unavailable: " + availability[prof.name]["reason"]
                cell.done = True
            cells.append(cell)
        for rnd in range(pairs):
            live = [c for c in cells if not c.done]
            if not live:
                break
            shift = rnd % len(live)
            order = live[shift:] + live[:shift]
            for cell in order:
                t0 = time.monotonic()
                _one_pair(ctx, cell, plain_argv, args, ref, cwd, tmp, rnd)
                cell.spent += time.monotonic() - t0
                n = len(cell.pairs)
                if cell.done or n >= pairs:
                    cell.done = True
                elif cell.spent > budget and (n >= min_pairs or (n >= 1 and (median(cell.ratios("wall")) or 0) > 3)):
                    cell.done = True
            log("  %s round %d/%d: %s" % (workload.name, rnd + 1, pairs, "  ".join(
                "%s %s" % (c.profiler.name, _fmt(median(c.ratios("wall")))) for c in cells if c.pairs)))
        for cell in cells:
            if cell.profiler.collect and cell.outputs:
                cell.extras = cell.profiler.collect(ctx, cell.outputs)
            result["cells"][cell.profiler.name] = cell.summary()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def _fmt(x):
    return "%.3fx" % x if x is not None else "-"


def _one_pair(ctx, cell, plain_argv, args, ref, cwd, tmp, rnd):
    prof = cell.profiler
    out = os.path.join(tmp, "%s-%d" % (prof.name, rnd))
    plain = run_once(plain_argv, ctx.env, cwd)
    profiled = run_once(prof.build(ctx, cell.workload.path, args, out), ctx.env, cwd)
    failure = plain.failure()
    if failure or plain.stdout != ref.stdout:
        # The machine, not the profiler: skip this pair, try again next round.
        log("  %s: a plain run failed or printed something else (%s); pair dropped"
            % (cell.workload.name, failure or "different stdout"))
        return
    failure = profiled.failure()
    if failure is None and prof.clean_stdout(profiled.stdout) != ref.stdout:
        failure = "output differs from the plain run: %r" % profiled.stdout[:120]
    if failure:
        cell.error = failure
        cell.done = True
        log("  %s under %s: %s" % (cell.workload.name, prof.name, failure))
        return
    extra = prof.parse_run(profiled.stdout, profiled.stderr) if prof.parse_run else {}
    cell.pairs.append({"plain_wall": plain.wall, "prof_wall": profiled.wall,
                       "plain_work": plain.work, "prof_work": profiled.work, "extra": extra})
    if prof.collect:
        for name in os.listdir(tmp):
            if name.startswith(os.path.basename(out) + "."):
                cell.outputs.append(os.path.join(tmp, name))
    else:
        for name in os.listdir(tmp):  # keep the temporary directory small
            if name.startswith(os.path.basename(out) + "."):
                try:
                    os.unlink(os.path.join(tmp, name))
                except OSError:
                    pass
