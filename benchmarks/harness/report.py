"""The report: the targets first (MET / MISSED with the measured number),
then per Python the tables grouped by kind of profiler (sampling,
deterministic, memory), and the raw numbers as JSON."""
import json
import math

from .util import median

TARGET_SLOWDOWN = 1.01        # sampling, median of pairs, at 1 kHz
TARGET_TAKEN = 0.99           # share of expected samples taken
TARGET_SAMPLER_CPU = 0.02     # of one core, 10 threads x 50 frames
TARGET_CALLS_SHARE = 1 / 3.0  # calls mode's added overhead / cProfile's
TARGET_LINES = 2.0            # lines mode slowdown on its targets
TARGET_ACCURACY_POINTS = 2.0  # max error per region, percentage points
TARGET_MEMORY_GEOMEAN = 1.05  # memory mode, default rate, whole process
TARGET_MEMORY_WORST = 1.3
TARGET_MEMORY_EXACT = 3.0     # --memory-rate 1 on alloc_heavy
TARGET_MEMORY_RSS = (1.02, 5 * 1024)  # peak RSS ≤ ratio × plain + KiB
# Below this added overhead of cProfile (work loop), the calls-mode share is
# noise divided by noise: such workloads are listed but not judged.
CALLS_MIN_CPROFILE_ADDED = 0.10

KINDS = [
    ("sampling", "Sampling profilers"),
    ("deterministic", "Deterministic profilers"),
    ("memory", "Memory profilers"),
]

NOISE_NOTE = (
    "The machine is shared and noisy (2 cores; other jobs run on it): every figure is a median "
    "of interleaved plain/profiled pairs, and the A/A column (plain against plain) shows how far "
    "noise alone moves a ratio on this run."
)


def _x(v):
    return "%.2f×" % v if v is not None else "–"


def _x3(v):
    return "%.3f×" % v if v is not None else "–"


def _pct(v, digits=1):
    return ("%." + str(digits) + "f%%") % (100 * v) if v is not None else "–"


def _bytes(n):
    if n is None:
        return "–"
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            v = n / float(size)
            return ("%.0f %s" if v >= 100 else "%.1f %s") % (v, unit)
    return "%d B" % n


def _cell(res, workload, name):
    """A usable cell (ran, no error) of one workload, else None."""
    for w in res.get("workloads", []):
        if w["workload"] == workload:
            c = w.get("cells", {}).get(name)
            if c and not c.get("error") and c.get("pairs"):
                return c
    return None


def _cells(res, name):
    out = []
    for w in res.get("workloads", []):
        c = _cell(res, w["workload"], name)
        if c:
            out.append((w["workload"], c))
    return out


# ---- targets ---------------------------------------------------------------------

def _taken(cell):
    """Per workload: the median over runs of samples_taken/expected, the worst
    run, the median achieved rate, torn samples, sampler CPU share."""
    metas = [m for m in cell.get("extras", []) if "error" not in m]
    if not metas:
        return None
    return {
        "taken_ratio": median(m.get("taken_ratio") for m in metas),
        "taken_ratio_min": min((m["taken_ratio"] for m in metas if m.get("taken_ratio") is not None), default=None),
        "achieved_hz": median(m.get("achieved_hz") for m in metas),
        "samples_taken": median(m.get("samples_taken") for m in metas),
        "torn": median(m.get("samples_torn") for m in metas),
        "torn_ratio": median(m.get("torn_ratio") for m in metas),
        "sampler_cpu_share": median(m.get("sampler_cpu_share") for m in metas),
        "duration_s": median(m.get("duration_s") for m in metas),
        "runs": len(metas),
    }


def _t(key, target, status, measured, short, value=None):
    return {"key": key, "target": target, "status": status, "measured": measured, "short": short, "value": value}


def _slowdown_targets(res):
    out = []
    aa = [c for _, c in _cells(res, "aa")]
    for key, what in (("wall", "whole process"), ("work", "work loop")):
        name = "sampling: median slowdown ≤ %.2f× at 1 kHz (pyrometer wall mode, %s)" % (TARGET_SLOWDOWN, what)
        vals = [(n, c["slowdown_" + key]) for n, c in _cells(res, "pyrometer") if c.get("slowdown_" + key) is not None]
        if not vals:
            out.append(_t("slowdown_" + key, name, "NOT MEASURED", "pyrometer did not run", "pyrometer did not run"))
            continue
        worst_n, worst = max(vals, key=lambda t: t[1])
        text = "worst %s (%s), median over workloads %s; per workload: %s" % (
            _x3(worst), worst_n, _x3(median(v for _, v in vals)), ", ".join("%s %s" % (n, _x3(v)) for n, v in vals))
        cpu = [(n, c["slowdown_" + key]) for n, c in _cells(res, "pyrometer-cpu") if c.get("slowdown_" + key)]
        if cpu:
            cn, cv = max(cpu, key=lambda t: t[1])
            text += "; cpu mode: worst %s (%s)" % (_x3(cv), cn)
        noise = [c["slowdown_" + key] for c in aa if c.get("slowdown_" + key) is not None]
        if noise:
            text += "; A/A control: %s to %s" % (_x3(min(noise)), _x3(max(noise)))
        status = "MET" if worst <= TARGET_SLOWDOWN else "MISSED"
        out.append(_t("slowdown_" + key, name, status, text, "worst %s (%s)" % (_x3(worst), worst_n), worst))
    return out


def _taken_target(res):
    name = "≥ %d%% of expected samples taken" % round(TARGET_TAKEN * 100)
    rates = []
    for n, c in _cells(res, "pyrometer"):
        t = _taken(c)
        if t and t["taken_ratio"] is not None:
            rates.append((n, t["taken_ratio"], t["taken_ratio_min"]))
    for row in res.get("sampler_cost", []):
        if row.get("taken_ratio") is not None:
            rates.append(("sampler cost: " + row["variant"], row["taken_ratio"], None))
    if not rates:
        return _t("taken", name, "NOT MEASURED", "no pyrometer runs", "no pyrometer runs")
    worst_n, worst, _ = min(rates, key=lambda t: t[1])
    worst_run = min((r[2] for r in rates if r[2] is not None), default=None)
    text = "lowest median %s (%s); per case: %s" % (
        _pct(worst, 2), worst_n, ", ".join("%s %s" % (n, _pct(v, 2)) for n, v, _ in rates))
    if worst_run is not None:
        text += "; worst single workload run %s" % _pct(worst_run, 2)
    return _t("taken", name, "MET" if worst >= TARGET_TAKEN else "MISSED", text,
              "lowest %s (%s)" % (_pct(worst, 1), worst_n), worst)


def _sampler_cpu_target(res):
    name = "sampler ≤ %d%% of one core with 10 threads of 50-frame stacks" % round(TARGET_SAMPLER_CPU * 100)
    rows = [r for r in res.get("sampler_cost", []) if r.get("threads") == 10 and r.get("sampler_cpu_share") is not None]
    if not rows:
        return _t("sampler_cpu", name, "NOT MEASURED", "the sampler-cost scenario did not run", "scenario not run")
    worst = max(rows, key=lambda r: r["sampler_cpu_share"])
    floor = [r for r in res.get("sampler_cost", []) if r["variant"] == "floor" and r.get("sampler_cpu_share")]
    text = "worst %s (%s); %s" % (_pct(worst["sampler_cpu_share"], 2), worst["variant"], ", ".join(
        "%s %s" % (r["variant"], _pct(r["sampler_cpu_share"], 2)) for r in rows))
    if floor:
        text += "; floor (wake-ups alone) %s" % _pct(floor[0]["sampler_cpu_share"], 2)
    timer = [r for r in res.get("sampler_cost", []) if r.get("timer_cpu_share") is not None]
    if timer:
        text += "; a bare 1 kHz timer thread, no profiler, %s" % _pct(timer[0]["timer_cpu_share"], 2)
    return _t("sampler_cpu", name, "MET" if worst["sampler_cpu_share"] <= TARGET_SAMPLER_CPU else "MISSED", text,
              "worst %s" % _pct(worst["sampler_cpu_share"], 2), worst["sampler_cpu_share"])


def calls_shares(res):
    """Per workload: (workload, cProfile slowdown, pyrometer calls slowdown,
    share of cProfile's added overhead or None, note), work loop, plus the
    whole-process share."""
    rows = []
    for w in res.get("workloads", []):
        n = w["workload"]
        c, p = _cell(res, n, "cProfile"), _cell(res, n, "pyrometer-calls")
        if not c or not p:
            continue
        row = {"workload": n}
        for key in ("work", "wall"):
            cv, pv = c.get("slowdown_" + key), p.get("slowdown_" + key)
            row["cprofile_" + key], row["pyrometer_" + key] = cv, pv
            ok = cv is not None and pv is not None and cv - 1 >= CALLS_MIN_CPROFILE_ADDED
            row["share_" + key] = (pv - 1) / (cv - 1) if ok else None
        rows.append(row)
    return rows


def _calls_target(res):
    name = "calls mode ≤ 1/3 of cProfile's added overhead (work loop; (pyrometer calls − 1) / (cProfile − 1))"
    rows = calls_shares(res)
    judged = [r for r in rows if r["share_work"] is not None]
    micro = [(r["case"], r["share"]) for r in (res.get("deterministic") or {}).get("calls_shares", [])
             if r.get("share") is not None]
    if micro:
        # The micro-benchmarks (fib, method loop, call-free loop) and the
        # suite's workloads are judged together: the worst of both.
        cases = micro + [(r["workload"], r["share_work"]) for r in judged]
        worst_n, worst = max(cases, key=lambda t: t[1])
        text = "worst %.2f (%s); micro-benchmarks: %s; suite workloads (work loop): %s" % (
            worst, worst_n, ", ".join("%s %.2f" % c for c in micro),
            ", ".join("%s %.2f" % (r["workload"], r["share_work"]) for r in judged) or "none judged")
        return _t("calls", name, "MET" if worst <= TARGET_CALLS_SHARE else "MISSED", text,
                  "worst %.2f (%s)" % (worst, worst_n), worst)
    if not judged:
        why = "no workload where both ran" if not rows else \
            "cProfile adds < %d%% on every workload measured" % round(CALLS_MIN_CPROFILE_ADDED * 100)
        return _t("calls", name, "NOT MEASURED", why, why)
    worst = max(judged, key=lambda r: r["share_work"])
    text = "worst %.2f (%s); per workload: %s" % (worst["share_work"], worst["workload"], ", ".join(
        "%s %s" % (r["workload"], "%.2f" % r["share_work"] if r["share_work"] is not None else "not judged")
        for r in rows))
    whole = [r["share_wall"] for r in rows if r["share_wall"] is not None]
    if whole:
        text += "; whole process: worst %.2f" % max(whole)
    skipped = [r["workload"] for r in rows if r["share_work"] is None]
    if skipped:
        text += "; not judged (cProfile adds < %d%%): %s" % (round(CALLS_MIN_CPROFILE_ADDED * 100), ", ".join(skipped))
    return _t("calls", name, "MET" if worst["share_work"] <= TARGET_CALLS_SHARE else "MISSED", text,
              "worst %.2f (%s)" % (worst["share_work"], worst["workload"]), worst["share_work"])


def _lines_target(res):
    """From the deterministic micro-benchmarks when run.py was given their
    results (res["deterministic"]["lines_on_target"]), else from the suite's
    own pyrometer-lines cells, where every line of the workload is a target."""
    name = "lines mode ≤ %.0f× on its targets" % TARGET_LINES
    det = res.get("deterministic") or {}
    rows = [(r["case"], r["slowdown"]) for r in det.get("lines_on_target", []) if r.get("slowdown") is not None]
    source = "benchmarks/deterministic/lines_overhead.py"
    if not rows:
        rows = [(n, c["slowdown_work"]) for n, c in _cells(res, "pyrometer-lines") if c.get("slowdown_work")]
        source = "the pyrometer lines cells of this run (work loop; every line of each workload is a target)"
    if not rows:
        return _t("lines", name, "NOT MEASURED", "neither the deterministic micro-benchmarks nor the pyrometer "
                                                   "lines column ran", "not run")
    worst_n, worst = max(rows, key=lambda t: t[1])
    text = "worst %s (%s), from %s; per case: %s" % (_x(worst), worst_n, source, ", ".join(
        "%s %s" % (n, _x(v)) for n, v in rows))
    return _t("lines", name, "MET" if worst <= TARGET_LINES else "MISSED", text,
              "worst %s (%s)" % (_x(worst), worst_n), worst)


def accuracy_max_error(result):
    """pyrometer's largest error per region, in percentage points, from the
    accuracy package's result: its "max_error_points" (a number, or a dict
    by profiler with a "pyrometer" entry)."""
    if not isinstance(result, dict):
        return None
    v = result.get("max_error_points")
    if isinstance(v, dict):
        v = v.get("pyrometer")
    return v if isinstance(v, (int, float)) else None


def _accuracy_target(res):
    name = "accuracy: ≤ %.0f percentage points max error per region" % TARGET_ACCURACY_POINTS
    acc = res.get("accuracy") or {}
    if acc.get("status") != "ok":
        why = {"absent": "the accuracy package (benchmarks/accuracy/) is not there",
               "disabled": "not run (--no-accuracy)",
               "error": "the accuracy run failed: %s" % acc.get("reason")}.get(acc.get("status"), "not run")
        return _t("accuracy", name, "NOT MEASURED", why, why)
    v = accuracy_max_error(acc.get("result"))
    if v is None:
        return _t("accuracy", name, "NOT EVALUATED", "the accuracy result has no max_error_points; "
                                                     "see the accuracy section", "see section")
    return _t("accuracy", name, "MET" if v <= TARGET_ACCURACY_POINTS else "MISSED",
              "max error %.2f points (the accuracy section has every region)" % v, "%.2f points" % v, v)


def _memory_target(res):
    name = ("memory mode: geomean ≤ %.2f×, worst ≤ %.1f× at the default rate (whole process), exact "
            "(--memory-rate 1) ≤ %.0f× on alloc_heavy, peak RSS ≤ %.2f× + %d MB" % (
                TARGET_MEMORY_GEOMEAN, TARGET_MEMORY_WORST, TARGET_MEMORY_EXACT, TARGET_MEMORY_RSS[0],
                TARGET_MEMORY_RSS[1] // 1024))
    vals = [(n, c["slowdown_wall"]) for n, c in _cells(res, "pyrometer-mem") if c.get("slowdown_wall")]
    if not vals:
        return _t("memory", name, "NOT MEASURED", "pyrometer's memory mode did not run", "not run")
    geo = math.exp(sum(math.log(v) for _, v in vals) / len(vals))
    worst_n, worst = max(vals, key=lambda t: t[1])
    ok = geo <= TARGET_MEMORY_GEOMEAN and worst <= TARGET_MEMORY_WORST
    text = "geomean %s, worst %s (%s)" % (_x3(geo), _x3(worst), worst_n)
    exact = _cell(res, "alloc_heavy", "pyrometer-mem-exact")
    if exact and exact.get("slowdown_wall"):
        ok = ok and exact["slowdown_wall"] <= TARGET_MEMORY_EXACT
        text += "; exact on alloc_heavy %s" % _x(exact["slowdown_wall"])
    else:
        ok, text = False, text + "; exact mode not measured on alloc_heavy"
    over = [n for n, c in _cells(res, "pyrometer-mem")
            if c.get("profiled_peak_rss_kb") and c.get("plain_peak_rss_kb")
            and c["profiled_peak_rss_kb"] > TARGET_MEMORY_RSS[0] * c["plain_peak_rss_kb"] + TARGET_MEMORY_RSS[1]]
    ok = ok and not over
    text += "; peak RSS over its bound: %s" % (", ".join(over) or "none")
    return _t("memory", name, "MET" if ok else "MISSED", text, "geomean %s, worst %s" % (_x3(geo), _x3(worst)), geo)


def targets(res):
    return (_slowdown_targets(res) + [_taken_target(res), _sampler_cpu_target(res), _calls_target(res),
                                      _lines_target(res), _accuracy_target(res), _memory_target(res)])


# ---- markdown --------------------------------------------------------------------------

def _table(header, rows, left=1):
    """A markdown table; the first `left` columns are text, the rest numbers."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i < left else "---:" for i in range(len(header))) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return lines


def _note(footnotes, text):
    if text not in footnotes:
        footnotes.append(text)
    return footnotes.index(text) + 1


def _slowdown_cell(res, w, p, key, footnotes):
    c = w["cells"].get(p["name"])
    if c is None:
        return "–"
    if c.get("error") and c["error"].startswith("unavailable"):
        return "n/a"
    if c.get("error"):
        return "FAILED[%d]" % _note(footnotes, "%s under %s failed: %s" % (w["workload"], p["label"], c["error"]))
    v = c.get("slowdown_" + key)
    if c.get("capped"):
        n = _note(footnotes, "capped: a run stopped at the time limit (the cap × its plain run); the whole-process "
                             "ratio is then a lower bound, the work loop counts when the program got to print it")
        if key == "wall" and c.get("slowdown_wall_is_lower_bound"):
            return "> %.0f×[%d]" % (v, n)
        if v is None:
            return "stopped[%d]" % n
    mark = "" if c["pairs"] >= res["options"]["pairs"] else " (%d)" % c["pairs"]
    return _x(v) + mark


def _no_value(c, key):
    """What a table shows for a cell without c[key]: absent, peer not
    installed, failed, or stopped at the cap.  None when there is a value."""
    if c is None:
        return "–"
    if (c.get("error") or "").startswith("unavailable"):
        return "n/a"
    if c.get("error") or not c.get("pairs"):
        return "FAILED"
    if c.get(key) is None:
        return "stopped"
    return None


def _group_profilers(res, kind):
    profs = [p for p in res["profilers"] if p["kind"] == kind]
    if not profs:
        return []
    return [p for p in res["profilers"] if p["kind"] == "control"] + profs


def _slowdown_table(res, profilers, key, footnotes):
    header = ["workload", "plain s"] + [p["label"] for p in profilers]
    rows = []
    for w in res.get("workloads", []):
        if w.get("error"):
            rows.append([w["workload"], "FAILED: " + w["error"]] + [""] * (len(header) - 2))
            continue
        plain = median(c.get("plain_%s_s" % key) for c in w["cells"].values() if c.get("pairs"))
        rows.append([w["workload"], "%.2f" % plain if plain else "–"]
                    + [_slowdown_cell(res, w, p, key, footnotes) for p in profilers])
    return _table(header, rows)


def _resources_table(res, profilers):
    header = ["workload", "plain peak RSS"] + [p["label"] for p in profilers if p["kind"] != "control"]
    rows = []
    for w in res.get("workloads", []):
        if w.get("error"):
            continue
        plain = median(c.get("plain_peak_rss_kb") for c in w["cells"].values() if c.get("pairs"))
        row = [w["workload"], _bytes(plain * 1024) if plain else "–"]
        for p in profilers:
            if p["kind"] == "control":
                continue
            c = w["cells"].get(p["name"])
            row.append(_no_value(c, "peak_rss_ratio")
                       or "%s · %s" % (_x(c["peak_rss_ratio"]), _bytes(c.get("profile_bytes"))))
        rows.append(row)
    return _table(header, rows)


def _group_section(res, kind, title, footnotes):
    profilers = _group_profilers(res, kind)
    if not profilers:
        return []
    first = len(footnotes)
    lines = ["### %s" % title, ""]
    lines.append("Slowdown, whole process (× plain; median of per-pair ratios):")
    lines.append("")
    lines += _slowdown_table(res, profilers, "wall", footnotes)
    lines.append("")
    lines.append("Slowdown, work loop only (the workload's own timer; no start-up, no profile writing):")
    lines.append("")
    lines += _slowdown_table(res, profilers, "work", footnotes)
    lines.append("")
    lines.append("Peak RSS (× plain, median over pairs) · profile size (bytes written, median over runs):")
    lines.append("")
    lines += _resources_table(res, profilers)
    lines.append("")
    if len(footnotes) > first:
        for i in range(first, len(footnotes)):
            lines.append("%d. %s" % (i + 1, footnotes[i]))
        lines.append("")
    return lines


def _quality_rows(res):
    names = [("pyrometer", "pyrometer torn"), ("py-spy", "py-spy errors"),
             ("py-spy-nb", "py-spy nonblocking errors"), ("austin", "austin errors"),
             ("tachyon", "profiling.sampling errors")]
    present = [(n, label) for n, label in names if _cells(res, n)]
    if len(present) < 2:
        return None
    # Samplers that say how long they sampled: the share of the samples their
    # rate asked for that they took, beside pyrometer's own (its table above).
    taken = [n for n, _ in present if n == "tachyon"]
    rows = []
    for w in res.get("workloads", []):
        row = [w["workload"]]
        for n in taken:
            c = _cell(res, w["workload"], n)
            ratios = [r["extra"]["samples"] / (r["extra"]["duration_s"] * 1000.0) for r in (c or {}).get("runs", [])
                      if r.get("extra", {}).get("samples") and r["extra"].get("duration_s")]
            row.append(_pct(median(ratios), 1) if ratios else "–")
        for n, _ in present:
            c = _cell(res, w["workload"], n)
            if not c:
                row.append("–")
            elif n == "pyrometer":
                t = _taken(c)
                row.append(_pct(t["torn_ratio"], 1) if t else "–")
            else:
                shares = [r["extra"]["errors"] / r["extra"]["samples"] for r in c.get("runs", [])
                          if r.get("extra", {}).get("samples")]
                row.append(_pct(median(shares), 1) if shares else "–")
        rows.append(row)
    return ["profiling.sampling samples taken"] * len(taken) + [label for _, label in present], rows


def _sampler_quality(res):
    lines = []
    for name in ("pyrometer", "pyrometer-cpu"):
        cells = _cells(res, name)
        if not cells:
            continue
        mode = "wall" if name == "pyrometer" else "cpu"
        lines.append("pyrometer %s mode at 1 kHz, per workload (median over its profiled runs):" % mode)
        lines.append("")
        rows = []
        for n, c in cells:
            t = _taken(c)
            if not t:
                rows.append([n, "no profile read", "", "", "", ""])
                continue
            rows.append([n, _pct(t["taken_ratio"], 2), _pct(t["taken_ratio_min"], 2),
                         "%.0f" % t["achieved_hz"] if t["achieved_hz"] else "–",
                         "%g (%s)" % (t["torn"], _pct(t["torn_ratio"], 2)) if t["torn"] is not None else "–",
                         _pct(t["sampler_cpu_share"], 2)])
        lines += _table(["workload", "samples taken / expected", "worst run", "achieved Hz", "torn (share)",
                         "sampler CPU, % of one core"], rows)
        lines.append("")
    q = _quality_rows(res)
    if q:
        lines.append("Stack-reading errors reported by the samplers (median over runs). Samplers that read a "
                     "running program's memory without stopping it can catch a stack mid-change. pyrometer: torn "
                     "samples (not charged, counted) / samples taken; py-spy: errors / samples; austin: invalid / "
                     "total samples; profiling.sampling: its error rate, as each tool prints them.")
        lines.append("")
        lines += _table(["workload"] + q[0], q[1])
        lines.append("")
    cost = res.get("sampler_cost")
    if cost:
        lines.append("Sampler cost at 1 kHz (%g s sampled, median of %d runs):" % (
            cost[0]["seconds"], max(r["repeats"] for r in cost)))
        lines.append("")
        rows = []
        for r in cost:
            if "timer_cpu_share" in r:
                rows.append([r["variant"], r["what"], _pct(r["timer_cpu_share"], 2),
                             "%.1f" % (r["timer_cpu_share"] * 1000), "1000", "–", "–", "–"])
                continue
            if not r.get("runs"):
                rows.append([r["variant"], r["what"], "FAILED: %s" % (r["errors"][0] if r["errors"] else "?"),
                             "", "", "", "", ""])
                continue
            rows.append([r["variant"], r["what"], _pct(r.get("sampler_cpu_share"), 2),
                         "%.1f" % r["sampler_us_per_sample"] if r.get("sampler_us_per_sample") else "–",
                         "%.0f" % r["achieved_hz"] if r.get("achieved_hz") else "–",
                         _pct(r.get("taken_ratio"), 2), "%g" % r["torn"] if r.get("torn") is not None else "–",
                         _pct(r.get("process_cpu_added_share"), 2) if "process_cpu_added_share" in r else "–"])
        lines += _table(["variant", "what", "sampler CPU, % of one core", "µs CPU per sample", "achieved Hz",
                         "taken / expected", "torn", "process CPU added"], rows, left=2)
        lines.append("")
    return lines


def _calls_section(res):
    rows = calls_shares(res)
    if not rows:
        return []
    lines = ["pyrometer calls mode against cProfile: share of cProfile's added overhead, (pyrometer − 1) / "
             "(cProfile − 1), per workload (target ≤ 0.33; not judged where cProfile adds < %d%%):"
             % round(CALLS_MIN_CPROFILE_ADDED * 100), ""]
    table = []
    for r in rows:
        table.append([r["workload"], _x(r["cprofile_work"]), _x(r["pyrometer_work"]),
                      "%.2f" % r["share_work"] if r["share_work"] is not None else "not judged",
                      _x(r["cprofile_wall"]), _x(r["pyrometer_wall"]),
                      "%.2f" % r["share_wall"] if r["share_wall"] is not None else "not judged"])
    lines += _table(["workload", "cProfile (work loop)", "pyrometer calls (work loop)", "share",
                     "cProfile (whole)", "pyrometer calls (whole)", "share (whole)"], table)
    lines.append("")
    return lines


def _demote(markdown_text, top=4):
    """Another report's markdown, its headings shifted so that its highest
    level becomes `top` (under our "###" section)."""
    lines = (markdown_text or "").rstrip().splitlines()
    levels = [len(l) - len(l.lstrip("#")) for l in lines if l.startswith("#")]
    shift = top - min(levels) if levels else 0
    return ["#" * shift + l if l.startswith("#") else l for l in lines]


def _deterministic_section(res):
    """The results of benchmarks/deterministic/ (run.py's measure_deterministic)."""
    det = res.get("deterministic")
    if not det:
        return []
    lines = ["### Deterministic micro-benchmarks (benchmarks/deterministic/)", "",
             "Each measurement a fresh process, the profiler enabled around the work only; %d interleaved "
             "rounds, medians of per-round ratios to plain." % det.get("rounds", 0), ""]
    if det.get("error"):
        lines += ["**Failed**: %s" % det["error"], ""]
    if det.get("markdown"):
        lines += det["markdown"].rstrip().splitlines() + [""]
    return lines


def _accuracy_section(res):
    acc = res.get("accuracy")
    if not acc or acc.get("status") in (None, "absent", "disabled"):
        return []
    lines = ["### Accuracy (benchmarks/accuracy/)", ""]
    if acc.get("status") == "error":
        lines += ["Failed: %s" % acc.get("reason"), ""]
    elif acc.get("markdown"):
        lines += _demote(acc["markdown"]) + [""]
    return lines


def _run_facts(res, report_date):
    info = res["python"]
    lines = []
    pyro = res["pyrometer"]
    src = res.get("source", {})
    src_text = "source sha256:%s" % src.get("source_sha256")
    if src.get("git_commit"):
        src_text += ", commit %s%s" % (src["git_commit"], " + uncommitted changes" if src.get("git_dirty") else "")
    elif src.get("git_dirty") is not None:
        src_text += ", no commit yet"
    o = res["options"]
    when = res.get("date") or report_date
    la0, la1 = res.get("loadavg_start"), res.get("loadavg_end")
    load = ""
    if la0 and la1:
        load = "; load average (1/5/15 min) %s at start, %s at end" % (
            "/".join("%.2f" % x for x in la0), "/".join("%.2f" % x for x in la1))
    mode = "quick run" if o.get("quick") else "full run"
    if o.get("in_place"):
        mode += " in place (no venv, nothing installed or built)"
    lines.append("- %s, %s%s" % (mode, when, load))
    lines.append("- interpreter: `%s` (%s)" % (info["executable"], info.get("build", "")))
    if pyro.get("rebuilt") is False:
        # Not built by this run: the hash is of the working tree, which may
        # have changed since the installed build.
        src_text = "installed earlier, not rebuilt; working tree: " + src_text
    if pyro["status"] == "ok":
        lines.append("- pyrometer %s (%s)" % (pyro["version"], src_text))
    else:
        lines.append("- pyrometer: **unavailable: %s** (%s)" % (pyro["reason"], src_text))
    for p in res["profilers"]:
        if p["kind"] == "control":
            continue
        a = res["availability"][p["name"]]
        if a["status"] == "ok":
            lines.append("- %s %s: `%s`" % (p["label"], a["version"] or "", p["settings"]))
        else:
            lines.append("- %s: **unavailable: %s**" % (p["label"], a["reason"]))
        for note in a.get("notes", []):
            lines.append("  - note: %s" % note)
    lines.append("- %d pairs per cell (fewer where shown in brackets: a cell stops after its %gs budget), "
                 "profiled runs capped at %g× their plain run; workload sizes: %s" % (
                     o["pairs"], o["budget_s"], o.get("cap", 0), ", ".join(
                         "%s=%s" % (w["workload"], w.get("size")) for w in res.get("workloads", []))))
    lines.append("")
    return lines


def python_section(res, report_date=None):
    info = res["python"]
    lines = ["## CPython %s" % info["version"], ""]
    if res.get("error"):
        return lines + ["Not measured: %s" % res["error"], ""]
    lines += _run_facts(res, report_date)

    lines.append("### Targets")
    lines.append("")
    for t in res.get("targets", []):
        lines.append("- **%s** %s: %s" % (t["status"], t["target"], t["measured"]))
    lines.append("")

    footnotes = []
    for kind, title in KINDS:
        lines += _group_section(res, kind, title, footnotes)
        if kind == "sampling":
            lines += _sampler_quality(res)
        elif kind == "deterministic":
            lines += _calls_section(res)
            lines += _deterministic_section(res)
    lines += _accuracy_section(res)
    return lines


def _title(res):
    o = res.get("options", {})
    return "%s (%s)" % (res["python"]["version"], "quick" if o.get("quick") else "full")


def _summary(report):
    """The targets of every Python measured, one column each."""
    results = [r for r in report["results"] if not r.get("error")]
    if not results:
        return []
    keys, names = [], {}
    for r in results:
        for t in r.get("targets", []):
            k = t.get("key", t["target"])
            if k not in names:
                keys.append(k)
                names[k] = t["target"]
    rows = []
    for k in keys:
        row = [names[k]]
        for r in results:
            t = next((t for t in r.get("targets", []) if t.get("key", t["target"]) == k), None)
            if t is None:
                row.append("–")
            else:
                status = "**%s**" % t["status"] if t["status"] in ("MET", "MISSED") else t["status"]
                row.append("%s: %s" % (status, t.get("short", "")) if t.get("short") else status)
        rows.append(row)
    lines = ["## Targets", ""]
    lines += _table(["target"] + ["CPython %s" % _title(r) for r in results], rows, left=1 + len(results))
    lines.append("")
    lines.append("Details (every workload, the A/A noise range) are in each Python's section below.")
    lines.append("")
    return lines


def _versions(report):
    """Versions of everything, one column per Python."""
    results = [r for r in report["results"] if not r.get("error")]
    if not results:
        return []
    names, labels = [], {}
    for r in results:
        for p in r["profilers"]:
            if p["kind"] != "control" and p["name"] not in labels and not p["name"].startswith("pyrometer"):
                names.append(p["name"])
                labels[p["name"]] = p["label"].split()[0]
    rows = [["pyrometer"] + [r["pyrometer"]["version"] if r["pyrometer"]["status"] == "ok"
                             else "unavailable" for r in results]]
    seen = set()
    for n in names:
        if labels[n] in seen:  # py-spy / py-spy nonblocking, scalene twice: one row
            continue
        seen.add(labels[n])
        row = [labels[n]]
        for r in results:
            a = r["availability"].get(n)
            row.append("–" if a is None else (a["version"] or "") if a["status"] == "ok" else "unavailable")
        rows.append(row)
    lines = ["## Versions", ""]
    lines += _table(["tool"] + ["CPython %s" % r["python"]["version"] for r in results], rows, left=1 + len(results))
    lines.append("")
    return lines


def markdown(report):
    m = report["machine"]
    lines = ["# pyrometer benchmark results", ""]
    lines.append("%s, run with `%s`." % (m["date"], "` and `".join(report["commands"])))
    lines.append("")
    lines.append("- machine: %s, %s CPUs (%s usable), %s RAM, %s, %s" % (
        m["cpu_model"], m["nproc"], m["usable_cpus"], m["memory"], m["kernel"], m["os"]))
    lines.append("- harness: Python %s; what each number means: benchmarks/README.md" % report.get("harness_python", "?"))
    if report.get("rss_method"):
        lines.append("- peak RSS: %s" % report["rss_method"])
    lines.append("- %s" % NOISE_NOTE)
    lines.append("- slowdown = median over pairs of (profiled time / plain time of the run just before it); "
                 "whole process = wall time around the subprocess; work loop = the workload's own "
                 "perf_counter() around its work, printed on stderr.")
    lines.append("")
    lines += _summary(report)
    lines += _versions(report)
    for res in report["results"]:
        lines += python_section(res, m["date"])
    return "\n".join(lines).rstrip() + "\n"


def merge(paths):
    """One report from the JSON of several runs (their results in the order
    given; the machine of the first).  A later run of a Python already in
    the report adds the columns of the profilers it measured and the first
    run lacks (a run of the memory profilers alone, say)."""
    merged = None
    for path in paths:
        with open(path) as f:
            r = json.load(f)
        r.setdefault("commands", [r.get("command", "?")])
        for res in r["results"]:
            res.setdefault("date", r["machine"]["date"])
            res.setdefault("loadavg_start", r["machine"].get("loadavg_start"))
            res.setdefault("loadavg_end", r["machine"].get("loadavg_end"))
        if merged is None:
            merged = r
            continue
        merged["commands"] += r["commands"]
        for res in r["results"]:
            same = [m for m in merged["results"] if m["python"].get("version") == res["python"].get("version")
                    and not m.get("error") and not res.get("error")]
            if same:
                _add_columns(same[0], res)
            else:
                merged["results"].append(res)
    for res in merged["results"]:
        if not res.get("error"):
            res["targets"] = targets(res)  # the targets of this version of the report
    return merged


def _add_columns(into, res):
    known = {p["name"] for p in into["profilers"]}
    into["profilers"] += [p for p in res["profilers"] if p["name"] not in known]
    into.setdefault("availability", {}).update(
        {k: v for k, v in res.get("availability", {}).items() if k not in known})
    rows = {w["workload"]: w for w in into["workloads"]}
    for w in res["workloads"]:
        if w["workload"] in rows and not w.get("error"):
            cells = rows[w["workload"]]["cells"]
            cells.update({name: c for name, c in w["cells"].items() if name not in known})
    into.setdefault("column_runs", []).append(
        {"date": res["date"], "profilers": [p["name"] for p in res["profilers"] if p["name"] not in known]})


def strip_for_json(report):
    """The JSON keeps every number; the programs' outputs and any source
    text a profile embeds are dropped."""
    def clean(o):
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items() if k != "reference_stdout" and not k.startswith("source:")}
        if isinstance(o, list):
            return [clean(v) for v in o]
        return o

    return clean(report)


def write_json(report, path):
    with open(path, "w") as f:
        json.dump(strip_for_json(report), f, separators=(",", ":"))
        f.write("\n")
