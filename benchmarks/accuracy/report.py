"""The markdown report of one or more accuracy results."""


def _f(x, digits=1):
    return "–" if x is None else ("%.*f" % (digits, x))


def _cell(pr):
    """'max / mean' in points, with a mark when the hot spot was missed."""
    st = pr.get("status")
    if st == "ok":
        text = "%s / %s" % (_f(pr["max_error"]), _f(pr["mean_error"]))
        if not pr.get("hot_spot_found"):
            text += " ✗"
        return text
    if st == "failed":
        return "FAILED"
    if st == "unavailable":
        return "n/a"
    if st == "n/a":
        return "n/a (threads)"
    return "–"


def _in_run_cell(pr):
    if pr.get("status") != "ok":
        return _cell(pr)
    errs = [v.get("in_run_max_error") for v in pr["variants"].values()]
    errs = [e for e in errs if e is not None]
    return _f(max(errs)) if errs else "–"


def _shown(res):
    """Profilers to show: every one asked for, unavailable ones included
    (their reason is listed above the tables)."""
    return [p for p in res["profilers"]]


def markdown(result):
    """Markdown for a measure() result, or for {"results": [...]} of several."""
    results = result["results"] if "results" in result else [result]
    parts = [_one(r) for r in results]
    return "\n".join(parts)


def _one(res):
    out = []
    w = out.append
    py = res.get("python", {})
    w("## Accuracy: CPython %s (%s, %d run%s per cell)\n" % (
        py.get("version", "?"), "quick" if res.get("quick") else "full", res.get("runs", 0),
        "" if res.get("runs") == 1 else "s"))
    if res.get("error"):
        w("**Not measured**: %s\n" % res["error"])
        return "\n".join(out)
    w("Measured %s, %s s, load average %s at the start and %s at the end.\n" % (
        res.get("date", "?"), res.get("elapsed_s", "?"), _load(res.get("loadavg_start")), _load(res.get("loadavg_end"))))
    profs = _shown(res)

    w("### Profilers\n")
    w("| column | kind | scored against | settings | version |")
    w("|---|---|---|---|---|")
    for p in profs:
        ver = p["version"] or "" if p["status"] == "ok" else "**unavailable**: %s" % p["reason"]
        w("| %s | %s | %s truth | %s | %s |" % (p["label"], p["kind"], p["clock"], p["settings"], ver))
    costs = res.get("call_costs") or {}
    if costs:
        w("")
        w("Per-call cost subtracted from the deterministic peers (measured on an empty-function loop): " + "; ".join(
            "%s %s" % (n, "%.0f ns" % (c["seconds_per_call"] * 1e9) if c.get("seconds_per_call") is not None
                       else "unknown (%s)" % "; ".join(c.get("errors") or []))
            for n, c in costs.items()) + ".")
    w("")

    w("### Error per scenario: max / mean over the regions, percentage points\n")
    w("Each region's share of the regions' total time in the profile against its share in the ground truth "
      "(the profiler's clock: wall or CPU). ✗ = the profile's top region is not the true top one. "
      "n/a (threads) = the profiler sees only the main thread; – = not run (a clock variant where "
      "CPU and wall truth coincide). The wall split of `threads` is decided by the scheduler afresh in each "
      "run, so wall-clock columns are scored there against the split their own run measured.\n")
    w("| scenario | " + " | ".join(p["label"] for p in profs) + " |")
    w("|---|" + "---:|" * len(profs))
    for sc in res["scenarios"]:
        if sc.get("error"):
            w("| %s | %s |" % (sc["name"], " | ".join(["ERROR"] * len(profs))))
            continue
        w("| %s | %s |" % (sc["name"], " | ".join(_cell(sc["results"][p["name"]]) for p in profs)))
    w("")
    w("Against the truth the profiled program measured itself during the same run (max over the regions, "
      "points; deterministic peers before compensation): the profiler's reading of the run it was in, "
      "without the distortion its overhead causes or the noise between runs.\n")
    w("| scenario | " + " | ".join(p["label"] for p in profs) + " |")
    w("|---|" + "---:|" * len(profs))
    for sc in res["scenarios"]:
        if sc.get("error"):
            continue
        w("| %s | %s |" % (sc["name"], " | ".join(_in_run_cell(sc["results"][p["name"]]) for p in profs)))
    w("")
    failures = []
    for sc in res["scenarios"]:
        if sc.get("error"):
            failures.append("%s: %s" % (sc["name"], sc["error"]))
        for p in profs:
            pr = (sc.get("results") or {}).get(p["name"], {})
            if pr.get("status") == "failed":
                failures.append("%s under %s: %s" % (sc["name"], p["label"], pr.get("reason")))
    if failures:
        w("Failures:\n")
        for f in failures:
            w("- " + f)
        w("")

    w("### Targets\n")
    w("Max error per region ≤ %g points in every scenario the profiler can be scored on (the 2× shift "
      "error included)." % res.get("target_points", 2.0))
    w("")
    w("| profiler | result | scenarios | worst | over the target |")
    w("|---|---|---:|---|---|")
    for t in res.get("targets", []):
        verdict = "**MET**" if t["met"] else "**MISSED**"
        worst = "%s (%s)" % (_f(t["worst"]), t["worst_scenario"]) if t["worst"] is not None else "–"
        over = ", ".join(t["missed"] + ["%s (failed)" % f for f in t["failed"]]) or "–"
        w("| %s | %s | %d | %s | %s |" % (t["label"], verdict, t["scenarios"], worst, over))
    w("")

    shifts = [sc for sc in res["scenarios"] if sc.get("shift")]
    for sc in shifts:
        sh = sc["shift"]
        w("### 2× check (%s: %s doubled)\n" % (sc["name"], sh["region"]))
        w("Predicted shift of its share from the base truth: %+.1f points (wall), %+.1f (CPU); the truth of the "
          "slowed runs moved %+.1f / %+.1f.\n" % (sh["predicted_wall"], sh["predicted_cpu"], sh["truth_shift_wall"],
                                                  sh["truth_shift_cpu"]))
        w("| profiler | base share | slowed share | shift | predicted | error |")
        w("|---|---:|---:|---:|---:|---:|")
        for p in profs:
            s = sh["profilers"].get(p["name"])
            if not s:
                continue
            pr = sc["results"][p["name"]]
            w("| %s | %s | %s | %+.1f | %+.1f | %s |" % (
                p["label"], _f(pr["variants"]["base"]["shares"][sh["region"]]),
                _f(pr["variants"]["slow"]["shares"][sh["region"]]), s["shift"], s["predicted"], _f(s["error"])))
        w("")

    w("### Shares per region (%)\n")
    w("Truth: median over the plain runs. Profiles: median over the runs; deterministic peers after the "
      "per-call compensation (raw in the JSON).\n")
    w("| scenario | region | truth wall | truth CPU | " + " | ".join(p["label"] for p in profs) + " |")
    w("|---|---|---:|---:|" + "---:|" * len(profs))
    for sc in res["scenarios"]:
        if sc.get("error"):
            continue
        for v in sc["variants"]:
            t = sc["truth"][v]
            name = sc["name"] + (" (%s)" % v if v else "")
            for r in sc["regions"]:
                cells = []
                for p in profs:
                    pr = sc["results"][p["name"]]
                    cells.append(_f(pr["variants"][v]["shares"][r]) if pr.get("status") == "ok" else "")
                w("| %s | %s | %s | %s | %s |" % (name, r, _f(t["wall"][r]), _f(t["cpu"][r]), " | ".join(cells)))
    w("")

    w("### Calibration\n")
    w("Plain runs choose the parameters so that the split on the target clock is within ±%g point of the "
      "target; the split reached is that of the run the parameters were kept from.\n"
      % res.get("calibration_tolerance", 1.0))
    w("*Truth spread*: how far the split moved between the plain runs of the same parameters (max - min "
      "share, worst region): the machine's noise, a floor under the errors above.\n")
    w("| scenario | clock | target | reached | within | runs | truth spread | parameters |")
    w("|---|---|---|---|---|---:|---:|---|")
    for sc in res["scenarios"]:
        cal = sc.get("calibration")
        if not cal:
            continue
        reached = [h for h in cal["history"] if h["params"] == cal["params"]]
        reached = reached[-1]["shares"] if reached else {}
        w("| %s | %s | %s | %s | %s | %d%s | %s | `%s` |" % (
            sc["name"], cal["clock"], "/".join("%g" % sc["target"][r] for r in sc["regions"]),
            "/".join(_f(reached.get(r)) for r in sc["regions"]), "yes" if cal["within_tolerance"] else "**no**",
            cal["runs"], " (cached)" if cal["from_cache"] else "", _f(sc.get("truth_spread")),
            _params(cal["params"], sc["regions"])))
    w("")
    return "\n".join(out)


def _params(p, regions):
    if "n" in p:
        return "rounds %d, %s" % (p["rounds"], ", ".join("%s=%d" % (r, p["n"][r]) for r in regions if r in p["n"]))
    return ", ".join("%s=%s" % (k, p[k]) for k in ("periods", "period_us", "a_us") if k in p)


def _load(la):
    return "/".join("%.1f" % x for x in la) if la else "?"
