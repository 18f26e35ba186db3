"""The report: markdown tables, the targets (MET / MISSED with the measured
number), and the raw numbers as JSON."""
import json

from .util import median

TARGET_SLOWDOWN = 1.02
TARGET_TAKEN = 0.99
TARGET_SAMPLER_CPU = 0.05

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


# ---- targets ---------------------------------------------------------------------

def _pyro_cells(res):
    out = []
    for w in res.get("workloads", []):
        c = w.get("cells", {}).get("pyrometer")
        if c and not c.get("error") and c.get("pairs"):
            out.append((w["workload"], c))
    return out


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
        "torn": median(m.get("samples_torn") for m in metas),
        "torn_ratio": median(m.get("torn_ratio") for m in metas),
        "sampler_cpu_share": median(m.get("sampler_cpu_share") for m in metas),
        "duration_s": median(m.get("duration_s") for m in metas),
        "runs": len(metas),
    }


def targets(res):
    out = []
    cells = _pyro_cells(res)
    aa = [w["cells"]["aa"] for w in res.get("workloads", []) if w.get("cells", {}).get("aa", {}).get("pairs")]
    for key, what in (("wall", "whole process"), ("work", "work loop")):
        vals = [(n, c["slowdown_" + key]) for n, c in cells if c.get("slowdown_" + key) is not None]
        name = "median slowdown ≤ %.2f× at 1 kHz (%s)" % (TARGET_SLOWDOWN, what)
        if not vals:
            out.append({"target": name, "status": "NOT MEASURED", "measured": "pyrometer did not run"})
            continue
        worst_n, worst = max(vals, key=lambda t: t[1])
        noise = [c["slowdown_" + key] for c in aa if c.get("slowdown_" + key) is not None]
        text = "worst %s (%s), median over workloads %s; per workload: %s" % (
            _x3(worst), worst_n, _x3(median(v for _, v in vals)), ", ".join("%s %s" % (n, _x3(v)) for n, v in vals))
        if noise:
            text += "; A/A control: %s to %s" % (_x3(min(noise)), _x3(max(noise)))
        out.append({"target": name, "status": "MET" if worst <= TARGET_SLOWDOWN else "MISSED", "measured": text,
                    "value": worst})

    rates = []
    for n, c in cells:
        t = _taken(c)
        if t and t["taken_ratio"] is not None:
            rates.append((n, t["taken_ratio"], t["taken_ratio_min"]))
    for row in res.get("sampler_cost", []):
        if row.get("taken_ratio") is not None:
            rates.append(("sampler cost: " + row["variant"], row["taken_ratio"], None))
    name = "≥ %d%% of expected samples taken" % round(TARGET_TAKEN * 100)
    if not rates:
        out.append({"target": name, "status": "NOT MEASURED", "measured": "no pyrometer runs"})
    else:
        worst_n, worst, _ = min(rates, key=lambda t: t[1])
        worst_run = min((r[2] for r in rates if r[2] is not None), default=None)
        text = "lowest median %s (%s); per case: %s" % (
            _pct(worst, 2), worst_n, ", ".join("%s %s" % (n, _pct(v, 2)) for n, v, _ in rates))
        if worst_run is not None:
            text += "; worst single workload run %s" % _pct(worst_run, 2)
        out.append({"target": name, "status": "MET" if worst >= TARGET_TAKEN else "MISSED", "measured": text,
                    "value": worst})

    name = "sampler < %d%% of one core with 10 threads of 50-frame stacks" % round(TARGET_SAMPLER_CPU * 100)
    rows = [r for r in res.get("sampler_cost", []) if r.get("threads") == 10 and r.get("sampler_cpu_share") is not None]
    if not rows:
        out.append({"target": name, "status": "NOT MEASURED", "measured": "the sampler-cost scenario did not run"})
    else:
        worst = max(rows, key=lambda r: r["sampler_cpu_share"])
        floor = [r for r in res.get("sampler_cost", []) if r["variant"] == "floor" and r.get("sampler_cpu_share")]
        text = "worst %s (%s); %s" % (_pct(worst["sampler_cpu_share"], 2), worst["variant"], ", ".join(
            "%s %s" % (r["variant"], _pct(r["sampler_cpu_share"], 2)) for r in rows))
        if floor:
            text += "; floor (wake-ups alone) %s" % _pct(floor[0]["sampler_cpu_share"], 2)
        out.append({"target": name, "status": "MET" if worst["sampler_cpu_share"] < TARGET_SAMPLER_CPU else "MISSED",
                    "measured": text, "value": worst["sampler_cpu_share"]})
    return out


# ---- markdown --------------------------------------------------------------------------

def _table(header, rows, left=1):
    """A markdown table; the first `left` columns are text, the rest numbers."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i < left else "---:" for i in range(len(header))) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return lines


def _slowdown_table(res, profilers, key, footnotes):
    header = ["workload", "plain s"] + [p["label"] for p in profilers]
    rows = []
    for w in res.get("workloads", []):
        if w.get("error"):
            rows.append([w["workload"], "FAILED: " + w["error"]] + [""] * len(profilers))
            continue
        cells = w["cells"]
        plain = median(c.get("plain_%s_s" % key) for c in cells.values() if c.get("pairs"))
        row = [w["workload"], "%.2f" % plain if plain else "–"]
        for p in profilers:
            c = cells.get(p["name"])
            if c is None:
                row.append("–")
            elif c.get("error") and c["error"].startswith("unavailable"):
                row.append("n/a")
            elif c.get("error"):
                note = "%s under %s failed: %s" % (w["workload"], p["label"], c["error"])
                if note not in footnotes:
                    footnotes.append(note)
                row.append("FAILED[%d]" % (footnotes.index(note) + 1))
            else:
                v = c.get("slowdown_" + key)
                mark = "" if c["pairs"] >= res["options"]["pairs"] else " (%d)" % c["pairs"]
                row.append(_x(v) + mark)
        rows.append(row)
    return _table(header, rows)


def _quality_rows(res):
    names = [("pyrometer", "pyrometer torn"), ("py-spy", "py-spy errors"),
             ("py-spy-nb", "py-spy nonblocking errors"), ("austin", "austin errors")]
    present = [(n, label) for n, label in names if any(
        w.get("cells", {}).get(n, {}).get("pairs") for w in res.get("workloads", []))]
    if len(present) < 2:
        return None
    rows = []
    for w in res.get("workloads", []):
        row = [w["workload"]]
        for n, _ in present:
            c = w.get("cells", {}).get(n)
            if not c or not c.get("pairs"):
                row.append("–")
            elif n == "pyrometer":
                t = _taken(c)
                row.append(_pct(t["torn_ratio"], 1) if t else "–")
            else:
                shares = [r["extra"]["errors"] / r["extra"]["samples"] for r in c.get("runs", [])
                          if r.get("extra", {}).get("samples")]
                row.append(_pct(median(shares), 1) if shares else "–")
        rows.append(row)
    return [label for _, label in present], rows


def python_section(res, report_date=None):
    lines = []
    info = res["python"]
    lines.append("## CPython %s" % info["version"])
    lines.append("")
    if res.get("error"):
        lines.append("Not measured: %s" % res["error"])
        lines.append("")
        return lines
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
    lines.append("- %s run, %s%s" % ("quick" if o.get("quick") else "full", when, load))
    lines.append("- interpreter: `%s` (%s)" % (info["executable"], info.get("build", "")))
    if pyro["status"] == "ok":
        lines.append("- pyrometer %s (%s)" % (pyro["version"], src_text))
    else:
        lines.append("- pyrometer: **unavailable: %s** (%s)" % (pyro["reason"], src_text))
    profilers = res["profilers"]
    for p in profilers:
        if p["kind"] == "control" or p["name"] == "pyrometer":
            continue
        a = res["availability"][p["name"]]
        if a["status"] == "ok":
            lines.append("- %s %s: `%s`" % (p["label"], a["version"] or "", p["settings"]))
        else:
            lines.append("- %s: **unavailable: %s**" % (p["label"], a["reason"]))
        for note in a.get("notes", []):
            lines.append("  - note: %s" % note)
    lines.append("- %d pairs per cell (fewer where shown in brackets: slow cells stop after their %ds budget), "
                 "workload sizes: %s" % (o["pairs"], o["budget_s"], ", ".join(
                     "%s=%s" % (w["workload"], w.get("size")) for w in res.get("workloads", []))))
    lines.append("")

    footnotes = []
    lines.append("### Slowdown, whole process (× plain; median of per-pair ratios)")
    lines.append("")
    lines += _slowdown_table(res, profilers, "wall", footnotes)
    lines.append("")
    lines.append("### Slowdown, work loop only (the workload's own timer; no start-up, no profile writing)")
    lines.append("")
    lines += _slowdown_table(res, profilers, "work", footnotes)
    lines.append("")
    if footnotes:
        for i, f in enumerate(footnotes, 1):
            lines.append("%d. %s" % (i, f))
        lines.append("")

    cells = _pyro_cells(res)
    if cells:
        lines.append("### pyrometer at 1 kHz, per workload (median over its profiled runs)")
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
        lines.append("### Stack-reading errors reported by the samplers (median over runs)")
        lines.append("")
        lines.append("Samplers that read a running program's memory without stopping it can catch a stack "
                     "mid-change. pyrometer: torn samples (dropped and counted) / samples taken; py-spy: "
                     "errors / samples; austin: invalid / total samples, as each tool prints them.")
        lines.append("")
        lines += _table(["workload"] + q[0], q[1])
        lines.append("")

    cost = res.get("sampler_cost")
    if cost:
        lines.append("### Sampler cost at 1 kHz (%g s sampled, median of %d runs)" % (
            cost[0]["seconds"], max(r["repeats"] for r in cost)))
        lines.append("")
        rows = []
        for r in cost:
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

    lines.append("### Targets")
    lines.append("")
    for t in res.get("targets", []):
        lines.append("- **%s** %s: %s" % (t["status"], t["target"], t["measured"]))
    lines.append("")
    return lines


def markdown(report):
    m = report["machine"]
    lines = ["# pyrometer benchmark results", ""]
    lines.append("%s, run with `%s`." % (m["date"], "` and `".join(report["commands"])))
    lines.append("")
    lines.append("- machine: %s, %s CPUs (%s usable), %s RAM, %s, %s" % (
        m["cpu_model"], m["nproc"], m["usable_cpus"], m["memory"], m["kernel"], m["os"]))
    lines.append("- %s" % NOISE_NOTE)
    lines.append("- slowdown = median over pairs of (profiled time / plain time of the run just before it); "
                 "whole process = wall time around the subprocess; work loop = the workload's own "
                 "perf_counter() around its work, printed on stderr.")
    lines.append("")
    for res in report["results"]:
        lines += python_section(res, m["date"])
    return "\n".join(lines).rstrip() + "\n"


def merge(paths):
    """One report from the JSON of several runs (their results in the order
    given; the machine of the first)."""
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
        else:
            merged["results"] += r["results"]
            merged["commands"] += r["commands"]
    return merged


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
