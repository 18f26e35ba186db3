#!/usr/bin/env python3
#!/usr/bin/env python3
"""pyrometer's benchmark: overhead side by side with other profilers.

    python benchmarks/run.py [--quick] [--python X.Y ...] [--in-place] [--json out.json] [--markdown out.md]

For each Python (default: the one running this script) it makes or reuses the
venv benchmarks/.venv-X.Y, builds pyrometer from this repository into it,
installs the peers from PyPI (pyinstrument, py-spy, austin, scalene, yappi,
line_profiler, viztracer, memray; cProfile, profile and tracemalloc are in
the standard library), then runs every workload in benchmarks/workloads/
plain and under each profiler in interleaved pairs, the sampler-cost
scenario, and the accuracy package (benchmarks/accuracy/) when it is there.
--in-place uses the interpreter as it is instead: no venv, nothing installed
or built.  Prints a markdown report on stdout (progress goes to stderr); a
full run also writes it to docs/benchmarks.md and the numbers to
benchmarks/results/latest.json.  See benchmarks/README.md for what each
number means.
"""
import argparse
import os
import shlex
import sys

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

from harness import cost, envs, machine, peers, report, runner  # noqa: E402
from harness import workloads as workload_mod  # noqa: E402
from harness.util import last_line, log  # noqa: E402

DEFAULT_MARKDOWN = os.path.join(os.path.dirname(BENCH_DIR), "docs", "benchmarks.md")
DEFAULT_JSON = os.path.join(BENCH_DIR, "results", "latest.json")


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="small sizes (~0.3 s runs), 3 pairs, short scenarios (~9 min per Python)")
    ap.add_argument("--python", action="append", nargs="+", metavar="X.Y",
                    help="interpreters to measure: X.Y (found with pyenv, else pythonX.Y) or a path; "
                         "default: the one running this script")
    ap.add_argument("--in-place", action="store_true",
                    help="run the interpreter(s) as they are: no venv, no pip install, no pyrometer build; "
                         "peers it lacks are unavailable")
    ap.add_argument("--json", metavar="PATH",
                    help="write the raw numbers as JSON (default for a full run: benchmarks/results/latest.json)")
    ap.add_argument("--markdown", metavar="PATH",
                    help="also write the report to this file (default for a full run: docs/benchmarks.md)")
    ap.add_argument("--pairs", type=int, help="plain/profiled pairs per cell (default 5, quick 3)")
    ap.add_argument("--budget", type=float,
                    help="seconds a cell may use before it stops early (default 9, quick 4)")
    ap.add_argument("--cap", type=float, default=12.0,
                    help="a profiled run is stopped after this many times its plain run's time (default 12)")
    ap.add_argument("--profilers", nargs="+", metavar="NAME",
                    help="profilers to run (default: all; known: %s)" % ", ".join(peers.BY_NAME))
    ap.add_argument("--workloads", nargs="+", metavar="NAME", help="workloads to run (default: all)")
    ap.add_argument("--cost-seconds", type=float, help="seconds per sampler-cost run (default 3, quick 1.5)")
    ap.add_argument("--cost-repeats", type=int, help="runs per sampler-cost variant (default 3, quick 1)")
    ap.add_argument("--no-cost", action="store_true", help="skip the sampler-cost scenario")
    ap.add_argument("--no-accuracy", action="store_true", help="skip the accuracy package (benchmarks/accuracy/)")
    ap.add_argument("--no-deterministic", action="store_true",
                    help="skip the calls/lines micro-benchmarks (benchmarks/deterministic/)")
    ap.add_argument("--deterministic-smoke", action="store_true",
                    help="the calls/lines micro-benchmarks at 2%% size, one round (checks that they run)")
    ap.add_argument("--accuracy-smoke", action="store_true",
                    help="run the accuracy package at its smallest (its measure(smoke=True)), when it offers that")
    ap.add_argument("--no-reinstall", action="store_true",
                    help="use the pyrometer already in the venv instead of building it again")
    ap.add_argument("--render", nargs="+", metavar="JSON",
                    help="measure nothing: print one report from the --json files of earlier runs "
                         "(e.g. a full run on one Python and quick runs on others)")
    a = ap.parse_args(argv)
    a.python = [p for group in (a.python or []) for p in group] or [None]
    a.pairs = a.pairs or (3 if a.quick else 5)
    a.budget = a.budget if a.budget is not None else (4.0 if a.quick else 9.0)
    a.min_pairs = min(a.pairs, 2 if a.quick else 3)
    a.cost_seconds = a.cost_seconds or (1.5 if a.quick else 3.0)
    a.cost_repeats = a.cost_repeats or (1 if a.quick else 3)
    # The published report comes from full runs of everything; a quick or
    # partial run prints on stdout only, unless told where to write.
    if not (a.quick or a.profilers or a.workloads or a.render):
        a.markdown = a.markdown or DEFAULT_MARKDOWN
        a.json = a.json or DEFAULT_JSON
    return a


def _options(a):
    return {"quick": a.quick, "in_place": a.in_place, "pairs": a.pairs, "budget_s": a.budget,
            "min_pairs": a.min_pairs, "cap": a.cap}


def _environment(spec, a, res):
    """The interpreter to measure and a Ctx for it: the venv's (made, with
    pyrometer built and the peers installed) or, in place, the interpreter
    itself."""
    base = envs.find_python(spec)
    info = envs.interpreter_info(base)
    res["python"] = dict(info, spec=spec)
    res["source"] = envs.source_fingerprint()
    if a.in_place:
        ctx = peers.Ctx(base, in_place=True)
        log("==== CPython %s (%s, in place) ====" % (info["version"], base))
        res["pyrometer"] = dict(envs.install_pyrometer(base, reinstall=False), rebuilt=False)
        return ctx, info
    venv = envs.ensure_venv(base, info["minor"])
    ctx = peers.Ctx(envs.venv_python(venv), venv)
    log("==== CPython %s (%s) ====" % (info["version"], venv))
    res["pyrometer"] = dict(envs.install_pyrometer(ctx.python, reinstall=not a.no_reinstall),
                            rebuilt=not a.no_reinstall)
    return ctx, info


def measure_accuracy(ctx, a):
    """The accuracy package's measure() and markdown(), when the package is
    there (it is optional: another part of the suite)."""
    if a.no_accuracy:
        return {"status": "disabled"}
    try:
        import accuracy
    except ImportError as exc:
        if getattr(exc, "name", None) not in ("accuracy", None):
            return {"status": "error", "reason": "cannot import accuracy: %s" % exc}
        return {"status": "absent"}
    log("accuracy (benchmarks/accuracy/)")
    try:
        result = accuracy.measure(ctx.python, quick=a.quick, log=log, smoke=a.accuracy_smoke)
        text = accuracy.markdown(result)
    except Exception as exc:  # its failure must not lose the rest of the run
        log("  accuracy failed: %s: %s" % (type(exc).__name__, exc))
        return {"status": "error", "reason": "%s: %s" % (type(exc).__name__, last_line(str(exc)))}
    return {"status": "ok", "result": result, "markdown": text}


def measure_deterministic(ctx, a):
    """benchmarks/deterministic/: calls mode and lines mode against cProfile,
    yappi and line_profiler on small programs, each run in a fresh process."""
    if a.no_deterministic:
        return None
    det_dir = os.path.join(BENCH_DIR, "deterministic")
    if det_dir not in sys.path:  # once, though every Python asked for comes here
        sys.path.insert(0, det_dir)
    import calls_overhead
    import lines_overhead

    rounds, scale = (1, 0.02) if a.deterministic_smoke else (3, 0.5) if a.quick else (5, 1.0)
    out = {"rounds": rounds, "scale": scale}
    try:
        log("deterministic: calls_overhead.py (%d rounds)" % rounds)
        out["calls"] = calls_overhead.measure(ctx.python, rounds, scale, log=log)
        log("deterministic: lines_overhead.py (%d rounds)" % rounds)
        out["lines"] = lines_overhead.measure(ctx.python, rounds, scale, log=log)
    except Exception as exc:  # its failure must not lose the rest of the run
        log("  deterministic benchmarks failed: %s: %s" % (type(exc).__name__, exc))
        out["error"] = "%s: %s" % (type(exc).__name__, last_line(str(exc)))
        return out
    out["markdown"] = (calls_overhead.markdown([out["calls"]]) + "\n" + lines_overhead.markdown([out["lines"]]))
    out["lines_on_target"] = [{"case": r["workload"], "slowdown": r["ratios"].get("cli")}
                              for r in out["lines"]["rows"] if r["hot_is_target"]]
    out["calls_shares"] = [{"case": w, "share": row.get("share pyrometer")}
                           for w, row in out["calls"]["workloads"].items()]
    return out


def measure_python(spec, a, profilers, workloads):
    res = {"python": {"spec": spec, "version": spec or "?", "executable": None},
           "date": machine.describe()["date"], "loadavg_start": machine.loadavg(), "options": _options(a)}
    try:
        ctx, info = _environment(spec, a, res)
    except envs.PythonNotFound as exc:
        res["error"] = str(exc)
        log("Python %s: %s" % (spec, exc))
        return res
    if res["pyrometer"]["status"] != "ok":
        log("pyrometer unavailable on %s: %s" % (info["version"], res["pyrometer"]["reason"]))
    availability = peers.prepare(ctx, profilers, res["pyrometer"])
    res["availability"] = availability
    res["profilers"] = [{"name": p.name, "label": p.label, "kind": p.kind, "settings": p.settings}
                        for p in profilers]
    for p in profilers:
        s = availability[p.name]
        log("  %-16s %s" % (p.name, s["version"] or "" if s["status"] == "ok" else "unavailable: " + s["reason"]))

    res["workloads"] = []
    for w in workloads:
        log("workload %s (size %d)" % (w.name, w.size(a.quick)))
        res["workloads"].append(runner.measure_workload(ctx, w, profilers, availability, a.quick, a.pairs,
                                                        a.budget, a.min_pairs, a.cap))
    if not a.no_cost and res["pyrometer"]["status"] == "ok":
        log("sampler cost (%g s x %d per variant)" % (a.cost_seconds, a.cost_repeats))
        res["sampler_cost"] = cost.measure(ctx, a.cost_seconds, a.cost_repeats)
    if res["pyrometer"]["status"] == "ok":
        res["accuracy"] = measure_accuracy(ctx, a)
    if res["pyrometer"]["status"] == "ok":
        res["deterministic"] = measure_deterministic(ctx, a)
    res["targets"] = report.targets(res)
    res["loadavg_end"] = machine.loadavg()
    return res


def _write(a, full):
    md = report.markdown(full)
    sys.stdout.write(md)
    sys.stdout.flush()
    if a.markdown:
        os.makedirs(os.path.dirname(os.path.abspath(a.markdown)), exist_ok=True)
        with open(a.markdown, "w") as f:
            f.write(md)
        log("wrote %s" % a.markdown)
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        report.write_json(full, a.json)
        log("wrote %s" % a.json)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    a = parse_args(argv)
    if a.render:
        _write(a, report.merge(a.render))
        return 0
    profilers = peers.select(a.profilers)
    workloads = workload_mod.discover()
    if a.workloads:
        known = [w.name for w in workloads]
        unknown = [n for n in a.workloads if n not in known]
        if unknown:
            raise SystemExit("benchmarks: unknown workload(s) %s; known: %s" % (", ".join(unknown), ", ".join(known)))
        workloads = [w for w in workloads if w.name in a.workloads]

    command = ("python benchmarks/run.py " + " ".join(shlex.quote(x) for x in argv)).rstrip()
    full = {
        "command": command,
        "commands": [command],
        "machine": machine.describe(),
        "options": dict(_options(a), cost_seconds=a.cost_seconds, cost_repeats=a.cost_repeats),
        "harness_python": sys.version.split()[0],
        "rss_method": runner.RSS_METHOD,
        "results": [],
    }
    for spec in a.python:
        full["results"].append(measure_python(spec, a, profilers, workloads))
    full["machine"]["loadavg_end"] = machine.loadavg()
    _write(a, full)
    return 0


if __name__ == "__main__":
    sys.exit(main())
