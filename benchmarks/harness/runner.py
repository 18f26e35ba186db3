"""Interleaved paired runs.

For one workload, the runner goes round by round; in each round every
profiler gets one pair: a plain run immediately followed by a profiled run.
The order of the profilers rotates from round to round.  So each profiler's
pairs are spread over the whole time the workload is measured, and a burst of
load from elsewhere on the machine hits one pair of many profilers rather
than every pair of one.

Per pair two times are kept: the whole process (time.perf_counter() around
the subprocess: interpreter and profiler start-up, the work, writing the
profile, shutdown) and the work loop (what the workload itself measured
around its work and printed on stderr).  A cell's slowdown is the median of
its per-pair ratios (profiled / plain); the ratio of the medians is kept in
the JSON too.  Also per run: the peak RSS (see run_once) and, for the
profiled run, the bytes of the files it left in its working directory
(the profile).

Slow cells are bounded twice.  A cell stops early once it has used its time
budget (after min_pairs pairs, or after one pair when that pair's slowdown is
above 3x: noise cannot matter there).  And a profiled run that takes longer
than `cap` times its plain run is killed: the pair counts as "more than cap
x" (a lower bound) and ends the cell.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from .util import describe_status, last_line, log, median

WORK_RE = re.compile(r"^pyrobench: work_s=([0-9.eE+-]+)\s*$", re.M)
RUN_TIMEOUT = 900
CAP_MIN_S = 3.0  # a capped run may always take this long (start-up of a slow tool on a tiny quick run)


class Run:
    __slots__ = ("wall", "work", "rc", "stdout", "stderr", "maxrss_kb", "killed_after")

    def __init__(self, wall, work, rc, stdout, stderr, maxrss_kb=None, killed_after=None):
        self.wall, self.work, self.rc = wall, work, rc
        self.stdout, self.stderr = stdout, stderr
        self.maxrss_kb = maxrss_kb
        self.killed_after = killed_after  # the time limit, when the run hit it

    def failure(self):
        if self.killed_after is not None:
            return "stopped after %.0fs (time limit)" % self.killed_after
        if self.rc != 0:
            return "%s: %s" % (describe_status(self.rc), last_line(self.stderr) or "(no message)")
        if self.work is None:
            return "no 'pyrobench: work_s=' line on stderr"
        return None


def _gnu_time():
    """GNU time, when installed: a small launcher whose %M is the peak RSS
    of the command it starts (see run_once)."""
    path = shutil.which("time")
    if not path:
        return None
    try:
        p = subprocess.run([path, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return path if b"GNU" in p.stdout else None


GNU_TIME = _gnu_time()
# How peak RSS is measured, for the report.
RSS_METHOD = ("GNU time's %M (ru_maxrss of the command, started by a small launcher)" if GNU_TIME else
              "ru_maxrss from os.wait4 (GNU time missing: includes the benchmark harness's own size, "
              "which Linux records when the child execs)")
_SIGNALLED = re.compile(r"Command terminated by signal (\d+)")


def run_once(argv, env, cwd, limit=RUN_TIMEOUT):
    """Runs argv to the end (or kills its process group after `limit`
    seconds).  Output goes to temporary files, not pipes, so nothing has to
    be read while it runs.

    Peak RSS: ru_maxrss of the command's process (Linux: the largest peak
    among it and the descendants it reaped, not a sum): for `python prog.py`
    and in-process profilers the Python process; for py-spy and austin,
    which start Python as their child, the larger of the sampler and the
    Python process.  Linux also counts in ru_maxrss the size of the process
    that called exec, i.e. of the parent it was forked from: forked from
    this harness (~20 MB) that would hide a 10 MB program, so the command
    is started by GNU time (~2 MB), which reports its child's figure."""
    rss_file = None
    if GNU_TIME:
        fd, rss_file = tempfile.mkstemp(prefix="pyrobench-rss-")
        os.close(fd)
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file, "--"] + list(argv)
    try:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            t0 = time.perf_counter()
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd,
                                        start_new_session=True)  # its own process group, to kill it whole
            except OSError as exc:
                return Run(0.0, None, 127, "", "cannot start %s: %s" % (argv[0], exc))
            hit = []

            def stop():
                hit.append(True)
                _kill_group(proc.pid)

            timer = threading.Timer(limit, stop)
            timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                timer.cancel()
            wall = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
            _kill_group(proc.pid)  # anything the program left running in its group
            out.seek(0)
            err.seek(0)
            stdout = out.read().decode("utf-8", "replace")
            stderr = err.read().decode("utf-8", "replace")
        rc, maxrss = proc.returncode, usage.ru_maxrss
        if rss_file:
            with open(rss_file) as f:
                report = f.read()
            numbers = [l for l in report.split() if l.isdigit()]
            maxrss = int(numbers[-1]) if numbers else None
            m = _SIGNALLED.search(report)
            if m:
                rc = -int(m.group(1))  # GNU time exits 128+N: keep the signal
    finally:
        if rss_file:
            os.unlink(rss_file)
    works = WORK_RE.findall(stderr)
    work = float(works[-1]) if works else None
    return Run(wall, work, rc, stdout, stderr, maxrss, limit if hit else None)


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _tree_size(path):
    if os.path.isdir(path) and not os.path.islink(path):
        return sum(_tree_size(os.path.join(path, n)) for n in os.listdir(path))
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except OSError:
            pass


class Cell:
    """One workload x one profiler."""

    def __init__(self, workload, profiler):
        self.workload = workload
        self.profiler = profiler
        self.pairs = []        # dicts: plain_/prof_ wall, work, rss_kb; profile_bytes, capped, extra
        self.outputs = []      # files the profiled runs wrote, for profilers that read them afterwards
        self.error = None
        self.done = False
        self.spent = 0.0
        self.extras = []

    def ratios(self, key):
        return [p["prof_" + key] / p["plain_" + key] for p in self.pairs
                if p.get("plain_" + key) and p.get("prof_" + key) is not None]

    def summary(self):
        s = {"profiler": self.profiler.name, "pairs": len(self.pairs), "error": self.error}
        capped = sum(1 for p in self.pairs if p.get("capped"))
        s["capped"] = capped
        for key in ("wall", "work"):
            r = self.ratios(key)
            plain = median(p["plain_" + key] for p in self.pairs)
            prof = median(p.get("prof_" + key) for p in self.pairs)
            s["slowdown_" + key] = median(r)                       # median of per-pair ratios
            s["slowdown_%s_of_medians" % key] = prof / plain if plain and prof else None
            s["slowdown_%s_min" % key] = min(r) if r else None
            s["slowdown_%s_max" % key] = max(r) if r else None
            s["plain_%s_s" % key] = plain
            s["profiled_%s_s" % key] = prof
        # A capped run's whole-process ratio is only a lower bound; the
        # median is one too when it falls on a capped pair.
        s["slowdown_wall_is_lower_bound"] = bool(capped) and 2 * capped >= len(self.pairs)
        rss = [p["prof_rss_kb"] / p["plain_rss_kb"] for p in self.pairs
               if p.get("plain_rss_kb") and p.get("prof_rss_kb") and not p.get("capped")]
        s["peak_rss_ratio"] = median(rss)
        s["plain_peak_rss_kb"] = median(p.get("plain_rss_kb") for p in self.pairs)
        s["profiled_peak_rss_kb"] = median(p.get("prof_rss_kb") for p in self.pairs if not p.get("capped"))
        s["profile_bytes"] = median(p.get("profile_bytes") for p in self.pairs if not p.get("capped"))
        s["runs"] = self.pairs
        s["extras"] = self.extras
        return s


def measure_workload(ctx, workload, profilers, availability, quick, pairs, budget, min_pairs, cap):
    """Returns {"workload", "size", "reference", "cells": {name: summary}}."""
    size = workload.size(quick)
    args = [str(size)]
    plain_argv = [ctx.python, workload.path] + args
    # The runs' working directory: an empty temporary one, so that whatever
    # a profiler writes there (its profile, or a stray file) is counted as
    # its output and removed.
    tmp = tempfile.mkdtemp(prefix="pyrobench-%s-" % workload.name)
    result = {"workload": workload.name, "description": workload.description, "size": size, "cells": {}}
    try:
        # Warm-up (discarded): page cache, and the reference output.
        ref = run_once(plain_argv, ctx.env, tmp)
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
                _one_pair(ctx, cell, plain_argv, ref, tmp, rnd, cap)
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


def _one_pair(ctx, cell, plain_argv, ref, tmp, rnd, cap):
    prof = cell.profiler
    out = os.path.join(tmp, "%s-%d" % (prof.name, rnd))
    plain = run_once(plain_argv, ctx.env, tmp)
    failure = plain.failure()
    if failure or plain.stdout != ref.stdout:
        # The machine, not the profiler: skip this pair, try again next round.
        log("  %s: a plain run failed or printed something else (%s); pair dropped"
            % (cell.workload.name, failure or "different stdout"))
        return
    before = set(os.listdir(tmp))
    limit = min(RUN_TIMEOUT, max(cap * plain.wall, CAP_MIN_S))
    profiled = run_once(prof.build(ctx, cell.workload.path, list(plain_argv[2:]), out), ctx.env, tmp, limit)
    written = sorted(set(os.listdir(tmp)) - before)
    pair = {"plain_wall": plain.wall, "plain_work": plain.work, "plain_rss_kb": plain.maxrss_kb,
            "prof_wall": profiled.wall, "prof_work": profiled.work, "prof_rss_kb": profiled.maxrss_kb,
            "profile_bytes": sum(_tree_size(os.path.join(tmp, n)) for n in written), "files": written}
    keep = []
    if profiled.killed_after is not None:
        # Too slow: the ratio is at least the cap; the work loop's own time
        # counts when the program got as far as printing it (the profiler
        # was still writing its output).
        pair.update(capped=True, prof_wall=profiled.killed_after, profile_bytes=None,
                    extra={"killed_after_s": profiled.killed_after})
        cell.pairs.append(pair)
        cell.done = True
        log("  %s under %s: stopped after %.1fs (> %gx the plain run)"
            % (cell.workload.name, prof.name, profiled.killed_after, cap))
    else:
        failure = profiled.failure()
        if failure is None and prof.clean_stdout(profiled.stdout) != ref.stdout:
            failure = "output differs from the plain run: %r" % profiled.stdout[:120]
        if failure:
            cell.error = failure
            cell.done = True
            log("  %s under %s: %s" % (cell.workload.name, prof.name, failure))
        else:
            pair["extra"] = prof.parse_run(profiled.stdout, profiled.stderr) if prof.parse_run else {}
            cell.pairs.append(pair)
            if prof.collect:
                keep = [n for n in written if n.startswith(os.path.basename(out) + ".")]
                cell.outputs += [os.path.join(tmp, n) for n in keep]
    for name in written:  # keep the directory small: profiles can be large (viztracer)
        if name not in keep:
            _remove(os.path.join(tmp, name))
