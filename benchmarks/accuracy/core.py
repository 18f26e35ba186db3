"""Running the scenarios: calibration, ground truth, profiled runs, scores.

For one interpreter (a benchmark venv's python) and each scenario:

1. calibrate: plain runs pick the program's parameters so that the split
   measured on the scenario's clock is within 1 point of the target
   (cached per interpreter, scenario, run length and program text);
2. for each run (3, or 1 in quick mode) and each variant of the scenario: one
   plain run (ground truth) and one run under each profiler, the profilers'
   order rotating from run to run;
3. score: the truth is the median over the plain runs (and the calibration's
   last run, which used the same parameters) of each region's share; a
   profiler's share per region is the median over its runs; the error per
   region is |profile share - true share| in percentage points.
"""
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time

from . import profilers as prof_mod
from . import scenarios as scen_mod

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, ".cache", "calibration.json")
TRUTH_RE = re.compile(r"^pyroacc: (\{.*\})\s*$", re.M)
RUN_TIMEOUT = 600
CAL_TOLERANCE = 1.0      # points: the calibration's aim
CAL_MAX_RUNS = 6
MIN_TRUTH = 3           # plain runs per variant, at least
TARGET_POINTS = 2.0      # points: the accuracy target per region


# ---- small helpers -----------------------------------------------------------------


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2.0


def last_line(text, limit=240):
    lines = [l.strip() for l in (text or "").splitlines() if l.strip()]
    if not lines:
        return ""
    return lines[-1] if len(lines[-1]) <= limit else lines[-1][: limit - 3] + "..."


def capture(argv, env=None, timeout=RUN_TIMEOUT, cwd=None):
    """(returncode, stdout, stderr); a missing program or a time-out is a
    non-zero status with the reason in stderr, never an exception."""
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=timeout, cwd=cwd)
    except FileNotFoundError as exc:
        return 127, "", "not found: %s" % exc
    except subprocess.TimeoutExpired:
        return 124, "", "timed out after %ss" % timeout
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def describe_status(rc):
    if rc is not None and rc < 0:
        import signal

        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit status %s" % rc


def shares(values, regions):
    """{region: % of the regions' total}, or None when the total is zero."""
    total = sum(values.get(r, 0.0) for r in regions)
    if total <= 0:
        return None
    return {r: 100.0 * values.get(r, 0.0) / total for r in regions}


def median_shares(samples, regions):
    samples = [s for s in samples if s]
    if not samples:
        return None
    return {r: median([s[r] for s in samples]) for r in regions}


def parse_truth(stderr):
    found = TRUTH_RE.findall(stderr or "")
    return json.loads(found[-1]) if found else None


def checksum_line(stdout):
    m = re.search(r"^checksum \S+$", stdout or "", re.M)
    return m.group(0) if m else None


# ---- plain runs and calibration ----------------------------------------------------------


class PlainRun:
    def __init__(self, truth, checksum, seconds):
        self.truth = truth
        self.checksum = checksum
        self.seconds = seconds


def run_plain(ctx, scenario_path, params):
    t0 = time.perf_counter()
    rc, out, err = capture([ctx.python, scenario_path, json.dumps(params)], env=ctx.env)
    secs = time.perf_counter() - t0
    truth = parse_truth(err)
    if rc or truth is None:
        raise RuntimeError("plain run of %s failed (%s): %s" % (os.path.basename(scenario_path), describe_status(rc),
                                                               last_line(err)))
    return PlainRun(truth, checksum_line(out), secs)


def _cache_key(pyversion, scenario, quick):
    """Interpreter, scenario, mode, the mode's length and rounds, and the
    program's text: parameters calibrated for anything else do not apply."""
    with open(scenario.path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    i = 0 if quick else 1
    return "%s|%s|%s|%gs|%dr|%s" % (pyversion, scenario.name, "quick" if quick else "full", scenario.seconds[i],
                                    scenario.rounds[i], digest)


def _load_cache():
    try:
        with open(CACHE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _save_cache(cache):
    try:
        os.makedirs(os.path.dirname(CACHE), exist_ok=True)
        tmp = CACHE + ".tmp"
        with open(tmp, "w") as f:
            json.dump(cache, f, indent=1, sort_keys=True)
        os.replace(tmp, CACHE)
    except OSError:
        pass  # a cache that cannot be written only costs a calibration next time


def _rescale(scenario, params, times, total_target):
    """New parameters from one run: every region's time is taken to be
    proportional to its count (periodic: the deadline split moves by the
    measured miss)."""
    if scenario.model == "periodic":
        first = scenario.regions[0]
        got = shares(times, scenario.regions)[first]
        new = dict(params)
        aim = scenario.target[first] / 100.0 * params["period_us"]
        a = params["a_us"] + (scenario.target[first] - got) / 100.0 * params["period_us"]
        # Within 5% of the period of the aim: a larger miss means missed deadlines (a loaded
        # machine), which moving the split would not cure.
        new["a_us"] = round(min(max(a, aim - 0.05 * params["period_us"]), aim + 0.05 * params["period_us"]), 1)
        return new
    n = dict(params["n"])
    for r in scenario.regions:
        count = max(1, n.get(r) or scenario.defaults.get(r, 1))
        per_unit = max(times.get(r, 0.0), 1e-6) / count
        n[r] = max(1, int(round(scenario.target[r] / 100.0 * total_target / per_unit)))
    return {"rounds": params["rounds"], "n": n}


def calibrate(ctx, scenario, quick, pyversion, use_cache=True, log=None):
    """Returns (params, info, run): parameters whose measured split on the
    scenario's clock is within CAL_TOLERANCE points of the target (or the
    closest found in CAL_MAX_RUNS runs), what the calibration did, and the
    plain run of the chosen parameters (a ground-truth sample)."""
    total_target = scenario.seconds[0 if quick else 1]
    key = _cache_key(pyversion, scenario, quick)
    cache = _load_cache() if use_cache else {}
    params = cache.get(key, {}).get("params") if use_cache else None
    cached = params is not None
    if params is None:
        params = scenario.initial_params(quick)
    history = []
    best = None
    for _ in range(CAL_MAX_RUNS):
        run = run_plain(ctx, scenario.path, params)
        times = run.truth[scenario.clock]
        got = shares(times, scenario.regions)
        total = sum(times[r] for r in scenario.regions)
        dev = max(abs(got[r] - scenario.target[r]) for r in scenario.regions)
        long_enough = 0.6 * total_target <= total <= 1.6 * total_target
        history.append({"params": params, "shares": got, "seconds": total, "max_dev": dev})
        if best is None or (long_enough, -dev) > (best[3], -best[2]):
            best = (params, run, dev, long_enough)
        if dev <= CAL_TOLERANCE and long_enough:
            break
        params = _rescale(scenario, params, times, total_target)
    params, run, dev, long_enough = best
    within = dev <= CAL_TOLERANCE
    if within and use_cache:
        cache = _load_cache()
        cache[key] = {"params": params, "date": time.strftime("%Y-%m-%d %H:%M:%S")}
        _save_cache(cache)
    if log:
        log("  calibrated %s in %d run(s)%s: %s (max deviation %.2f points%s)" % (
            scenario.name, len(history), " from cache" if cached else "",
            ", ".join("%s %.1f%%" % (r, s) for r, s in shares(run.truth[scenario.clock], scenario.regions).items()),
            dev, "" if within else ", NOT within %g" % CAL_TOLERANCE))
    info = {"params": params, "runs": len(history), "from_cache": cached, "within_tolerance": within,
            "max_deviation": dev, "history": history, "clock": scenario.clock, "tolerance": CAL_TOLERANCE}
    return params, info, run


# ---- profiled runs ------------------------------------------------------------------


def run_profiled(ctx, adapter, scenario, params, regions, expect_checksum, tmpdir, tag):
    """One run under one profiler: {"ok", "values", "info", "truth", ...} or
    {"ok": False, "reason"}."""
    out = os.path.join(tmpdir, "%s-%s%s" % (adapter.name, tag, adapter.ext))
    if os.path.exists(out):
        os.unlink(out)
    argv = adapter.build(ctx, scenario.path, [json.dumps(params)], out)
    t0 = time.perf_counter()
    rc, stdout, stderr = capture(argv, env=ctx.env, cwd=tmpdir)
    secs = time.perf_counter() - t0
    if rc:
        return {"ok": False, "reason": "%s: %s" % (describe_status(rc), last_line(_strip_ansi(stderr or stdout)))}
    got = checksum_line(stdout)
    if expect_checksum and got != expect_checksum:
        return {"ok": False, "reason": "the program's output changed: %r instead of %r" % (got, expect_checksum)}
    if not os.path.exists(out):
        return {"ok": False, "reason": "no profile written (%s)" % last_line(_strip_ansi(stderr))}
    try:
        values, info = adapter.read(ctx, out, regions)
    except Exception as exc:  # a format we cannot read is a failure of that cell, not of the run
        return {"ok": False, "reason": "cannot read the profile: %s: %s" % (type(exc).__name__, exc)}
    finally:
        try:
            os.unlink(out)
        except OSError:
            pass
    return {"ok": True, "values": values, "info": info, "truth": parse_truth(stderr), "seconds": secs}


def _strip_ansi(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text or "")


# ---- overhead compensation of deterministic peers ----------------------------------------


def callcost_program(quick):
    program = scen_mod.Scenario("callcost", "callcost.py", {"region_calls": 100}, "per-call cost")
    params = {"rounds": 5, "n": {"region_calls": 300000 if quick else 1000000}}
    return program, params


def measure_call_costs(ctx, adapters, quick, tmpdir, log=None):
    """Seconds each profiler adds per Python call, on its own clock: the
    inclusive time of a region making N calls of an empty function, minus
    the same region's time in plain runs (median of 3, 5 in full mode, shared
    by the profilers), divided by the calls counted beneath it.  Median of 3
    profiled runs (5 in full mode): the compensation multiplies this by
    millions of calls, so its noise matters."""
    program, params = callcost_program(quick)
    plain = [run_plain(ctx, program.path, params) for _ in range(3 if quick else 5)]
    out = {}
    for adapter in adapters:
        base = median([p.truth[adapter.clock]["region_calls"] for p in plain])
        costs = []
        reasons = []
        for i in range(3 if quick else 5):
            r = run_profiled(ctx, adapter, program, params, ["region_calls"], plain[0].checksum, tmpdir,
                             "cost%d" % i)
            if not r["ok"]:
                reasons.append(r["reason"])
                continue
            calls = r["info"]["calls_beneath"]["region_calls"]
            if calls:
                costs.append((r["values"]["region_calls"] - base) / calls)
        cost = median(costs)
        if log:
            log("  %s: %s per Python call (on its %s clock)" % (
                adapter.name, "%.0f ns" % (cost * 1e9) if cost is not None else "unknown", adapter.clock))
        out[adapter.name] = {"seconds_per_call": cost, "plain_region_s": base, "calls": params["n"]["region_calls"],
                             "runs": len(costs), "all_ns": [round(x * 1e9, 1) for x in costs], "errors": reasons}
    return out


def compensated(values, info, cost):
    if cost is None:
        return values
    beneath = info.get("calls_beneath") or {}
    return {r: max(0.0, v - beneath.get(r, 0) * cost) for r, v in values.items()}


# ---- scoring --------------------------------------------------------------------------


def score(prof_shares, truth_shares, regions):
    errors = {r: abs(prof_shares[r] - truth_shares[r]) for r in regions}
    top_prof = max(regions, key=lambda r: prof_shares[r])
    top_true = max(truth_shares.values())
    # A region within a point of the true top is as much the hot spot (50/50 splits).
    hot = truth_shares[top_prof] >= top_true - 1.0
    return {"errors": errors, "max_error": max(errors.values()), "mean_error": sum(errors.values()) / len(errors),
            "hot_spot_found": hot, "top_region": top_prof}


def _truth_block(samples, regions):
    return {clock: median_shares([shares(s[clock], regions) for s in samples], regions) for clock in ("wall", "cpu")}


# ---- one scenario -------------------------------------------------------------------------


def measure_scenario(ctx, scenario, adapters, avail, quick, runs, pyversion, costs, use_cache, tmpdir, log):
    res = {"name": scenario.name, "description": scenario.description, "regions": scenario.regions,
           "target": scenario.target, "target_clock": scenario.clock, "threads": scenario.threads,
           "cpu_differs": scenario.cpu_differs}
    try:
        params, cal, cal_run = calibrate(ctx, scenario, quick, pyversion, use_cache, log)
    except RuntimeError as exc:
        res["error"] = str(exc)
        log("  %s" % exc)
        return res
    res["calibration"] = cal
    variants = scenario.variants(params)
    res["variants"] = [v for v, _ in variants]
    truth_samples = {v: [] for v, _ in variants}
    checks = {}
    truth_samples[variants[0][0]].append(cal_run.truth)
    checks[variants[0][0]] = cal_run.checksum
    runs_of = {(a.name, v): [] for a in adapters for v, _ in variants}
    todo = [a for a in adapters if avail[a.name]["status"] == "ok" and a.applies(scenario) is None]
    try:
        for i in range(runs):
            order = todo[i % len(todo):] + todo[: i % len(todo)] if todo else []
            for vname, vparams in variants:
                plain = run_plain(ctx, scenario.path, vparams)
                truth_samples[vname].append(plain.truth)
                checks.setdefault(vname, plain.checksum)
                for a in order:
                    tag = "%s%s%d" % (scenario.name, vname, i)
                    r = run_profiled(ctx, a, scenario, vparams, scenario.regions, checks[vname], tmpdir, tag)
                    if not r["ok"]:
                        # Once more: an attaching profiler can miss its start on a busy machine.
                        first = r["reason"]
                        r = run_profiled(ctx, a, scenario, vparams, scenario.regions, checks[vname], tmpdir, tag)
                        r["retried_after"] = first
                    runs_of[(a.name, vname)].append(r)
        # At least MIN_TRUTH plain runs per variant: a median of fewer follows the machine's noise.
        for vname, vparams in variants:
            while len(truth_samples[vname]) < MIN_TRUTH:
                truth_samples[vname].append(run_plain(ctx, scenario.path, vparams).truth)
    except RuntimeError as exc:
        res["error"] = str(exc)
        log("  %s" % exc)
        return res
    res["truth"] = {v: _truth_block(truth_samples[v], scenario.regions) for v, _ in variants}
    res["truth_runs"] = {v: truth_samples[v] for v, _ in variants}
    # How far the plain runs' splits spread (max - min, worst region and clock): the noise floor
    # under every error of that scenario.
    spread = 0.0
    for v, _ in variants:
        for clock in ("wall", "cpu"):
            if clock in scenario.run_truth:
                continue  # scored against each run's own truth: its spread between runs is not a floor
            sh = [shares(t[clock], scenario.regions) for t in truth_samples[v]]
            for r in scenario.regions:
                vals = [x[r] for x in sh if x]
                if vals:
                    spread = max(spread, max(vals) - min(vals))
    res["truth_spread"] = spread
    res["results"] = {}
    for a in adapters:
        res["results"][a.name] = _score_adapter(a, scenario, variants, avail, runs_of, res["truth"], costs)
    if scenario.slowed:
        res["shift"] = _shift(scenario, res)
    return res


def _score_adapter(a, scenario, variants, avail, runs_of, truth, costs):
    if avail[a.name]["status"] != "ok":
        return {"status": "unavailable", "reason": avail[a.name]["reason"]}
    why = a.applies(scenario)
    if why:
        return {"status": "n/a" if why.startswith("n/a") else "skipped", "reason": why}
    regions = scenario.regions
    cost = costs.get(a.name, {}).get("seconds_per_call") if a.compensate else None
    out = {"status": "ok", "clock": a.clock, "variants": {}}
    all_errors = []
    for vname, _ in variants:
        rs = runs_of[(a.name, vname)]
        failed = [r["reason"] for r in rs if not r["ok"]]
        good = [r for r in rs if r["ok"]]
        raw = [shares(r["values"], regions) for r in good]
        comp = [shares(compensated(r["values"], r["info"], cost), regions) for r in good] if a.compensate else raw
        if failed and not good:
            return {"status": "failed", "reason": failed[0]}
        if not any(comp):
            return {"status": "failed", "reason": "no region function found in the profile (%s)" % ", ".join(
                "%s=%s" % kv for kv in sorted(good[0]["info"].items()) if not isinstance(kv[1], dict))}
        in_run = [shares(r["truth"][a.clock], regions) for r in good if r.get("truth")]
        if a.clock in scenario.run_truth and in_run:
            # This split is decided afresh by each run (see Scenario.run_truth): only the run's own counts.
            t, source = median_shares(in_run, regions), "in-run"
        else:
            t, source = truth[vname][a.clock], "plain runs"
        prof = median_shares(comp, regions)
        v = {"shares": prof, "truth": t, "truth_source": source, "runs": len(good), "failed_runs": failed}
        v.update(score(prof, t, regions))
        if a.compensate:
            v["raw_shares"] = median_shares(raw, regions)
            v["raw_max_error"] = max(abs(v["raw_shares"][r] - t[r]) for r in regions) if v["raw_shares"] else None
        # Against the truth the profiled program measured itself (perturbed by the profiler's overhead).
        # Compensated profiles are compared raw here: that truth includes the overhead.
        if in_run and not a.self_compensating:
            tr = median_shares(in_run, regions)
            ref = v.get("raw_shares") or prof
            v["in_run_truth"] = tr
            v["in_run_max_error"] = max(abs(ref[r] - tr[r]) for r in regions)
        v["weights"] = [r["values"] for r in good]
        v["info"] = [r["info"] for r in good]
        v["retries"] = [r["retried_after"] for r in rs if r.get("retried_after")]
        v["seconds"] = [round(r["seconds"], 3) for r in good]
        out["variants"][vname] = v
        all_errors.extend(v["errors"].values())
    vs = out["variants"].values()
    out["max_error"] = max(all_errors)
    out["mean_error"] = sum(all_errors) / len(all_errors)
    out["hot_spot_found"] = all(v["hot_spot_found"] for v in vs)
    if a.compensate:
        raws = [v.get("raw_max_error") for v in vs if v.get("raw_max_error") is not None]
        out["raw_max_error"] = max(raws) if raws else None
        out["cost_per_call_ns"] = cost * 1e9 if cost is not None else None
    return out


def _shift(scenario, res):
    """The 2x check: the slowed region's share s (base truth) must become
    2s / (1 + s); compared with how each profile moved it."""
    r = scenario.slowed
    base = res["truth"]["base"]
    slow = res["truth"]["slow"]
    out = {"region": r, "profilers": {}}
    for clock in ("wall", "cpu"):
        s = base[clock][r] / 100.0
        out["predicted_" + clock] = 100.0 * (2 * s / (1 + s) - s)
        out["truth_shift_" + clock] = slow[clock][r] - base[clock][r]
    for name, pr in res["results"].items():
        if pr.get("status") != "ok":
            continue
        clock = pr["clock"]
        moved = pr["variants"]["slow"]["shares"][r] - pr["variants"]["base"]["shares"][r]
        pred = out["predicted_" + clock]
        out["profilers"][name] = {"shift": moved, "predicted": pred, "error": abs(moved - pred)}
    return out


# ---- everything for one interpreter --------------------------------------------------------


def interpreter(ctx):
    code = "import json, platform, sys; print(json.dumps({'version': platform.python_version(), " \
           "'minor': '%d.%d' % sys.version_info[:2], 'executable': sys.executable}))"
    rc, out, err = capture([ctx.python, "-c", code], env=ctx.env, timeout=60)
    if rc:
        raise RuntimeError("%s does not run: %s" % (ctx.python, last_line(err)))
    return json.loads(out.strip().splitlines()[-1])


def measure(python_exe, quick=False, scenarios=None, profilers=None, log=print, runs=None, use_cache=True):
    """Runs the accuracy scenarios with the profilers installed in the venv
    of python_exe.  Returns a JSON-serialisable dict (see README.md)."""
    ctx = prof_mod.Ctx(python_exe)
    scens = scen_mod.select(scenarios, quick)
    adapters = prof_mod.select(profilers)
    runs = runs or (1 if quick else 3)
    started = time.time()
    info = interpreter(ctx)
    avail = prof_mod.availability(ctx, adapters, capture)
    log("accuracy on CPython %s (%s), %s, %d run(s) per profiler and scenario" % (
        info["version"], python_exe, "quick" if quick else "full", runs))
    for a in adapters:
        s = avail[a.name]
        log("  %-16s %s" % (a.name, (s["version"] or "") if s["status"] == "ok" else "unavailable: " + s["reason"]))
    res = {"python": info, "quick": quick, "runs": runs, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
           "loadavg_start": _loadavg(), "target_points": TARGET_POINTS, "calibration_tolerance": CAL_TOLERANCE,
           "profilers": [{"name": a.name, "label": a.label, "kind": a.kind, "clock": a.clock,
                          "settings": a.settings, "compensated": a.compensate,
                          "main_thread_only": a.main_thread_only, "clock_variant": a.clock_variant,
                          "status": avail[a.name]["status"], "version": avail[a.name]["version"],
                          "reason": avail[a.name]["reason"]} for a in adapters],
           "scenarios": []}
    with tempfile.TemporaryDirectory(prefix="pyroacc-") as tmpdir:
        comp = [a for a in adapters if a.compensate and avail[a.name]["status"] == "ok"]
        if comp:
            log("per-call cost of the deterministic peers (for the compensation)")
        try:
            costs = measure_call_costs(ctx, comp, quick, tmpdir, log) if comp else {}
        except RuntimeError as exc:
            costs = {a.name: {"seconds_per_call": None, "errors": [str(exc)]} for a in comp}
        res["call_costs"] = costs
        for sc in scens:
            log("scenario %s" % sc.name)
            res["scenarios"].append(measure_scenario(ctx, sc, adapters, avail, quick, runs, info["version"], costs,
                                                     use_cache, tmpdir, log))
    res["targets"] = targets(res)
    res["max_error_points"] = max_errors(res)
    res["elapsed_s"] = round(time.time() - started, 1)
    res["loadavg_end"] = _loadavg()
    return res


def _loadavg():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


# ---- targets -----------------------------------------------------------------------------

# Which profilers are held to the target, on which scenarios, and against which truth.
TARGETS = [
    ("pyrometer", "pyrometer sampler, wall mode, against wall-time truth"),
    ("pyrometer-cpu", "pyrometer sampler, CPU mode, against CPU-time truth"),
    ("pyrometer-calls", "pyrometer calls mode (its own overhead subtraction), against wall-time truth"),
    ("cProfile", "cProfile after per-call compensation, against wall-time truth (peer, for comparison)"),
    ("yappi", "yappi CPU clock after per-call compensation, against CPU-time truth (peer, for comparison)"),
    ("yappi-wall", "yappi wall clock after per-call compensation, against wall-time truth (peer, for comparison)"),
]


def _worst_per_scenario(res, name):
    """[(scenario, worst error or None when the profiler failed there)] over
    the scenarios the profiler was scored on; the 2x shift error counts."""
    rows = []
    for sc in res["scenarios"]:
        pr = (sc.get("results") or {}).get(name)
        if not pr or pr["status"] in ("n/a", "skipped", "unavailable"):
            continue
        if pr["status"] != "ok":
            rows.append((sc["name"], None, pr.get("reason")))
            continue
        worst = pr["max_error"]
        shift = (sc.get("shift") or {}).get("profilers", {}).get(name)
        if shift:
            worst = max(worst, shift["error"])
        rows.append((sc["name"], worst, None))
    return rows


def max_errors(res):
    """{profiler: worst max error per region over its scored scenarios}."""
    out = {}
    for p in res["profilers"]:
        vals = [w for _, w, _ in _worst_per_scenario(res, p["name"]) if w is not None]
        if vals:
            out[p["name"]] = max(vals)
    return out


def targets(res):
    """MET / MISSED per held profiler: max error per region <= TARGET_POINTS
    on every scenario it can be scored on (the 2x shift error included)."""
    out = []
    for name, label in TARGETS:
        rows = _worst_per_scenario(res, name)
        if not rows:
            continue
        failed = [r for r in rows if r[1] is None]
        over = [r for r in rows if r[1] is not None and r[1] > TARGET_POINTS]
        scored = [r for r in rows if r[1] is not None]
        worst = max(scored, key=lambda r: r[1]) if scored else None
        out.append({"profiler": name, "label": label, "met": not failed and not over,
                    "scenarios": len(rows), "worst": worst[1] if worst else None,
                    "worst_scenario": worst[0] if worst else None,
                    "missed": [r[0] for r in over], "failed": [r[0] for r in failed]})
    return out
