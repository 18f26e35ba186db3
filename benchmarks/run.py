#!/usr/bin/env python3
"""pyrometer's benchmark: overhead side by side with other profilers.

    python benchmarks/run.py [--quick] [--python X.Y ...] [--json out.json] [--markdown out.md]

For each Python (default: the one running this script) it makes or reuses the
venv benchmarks/.venv-X.Y, builds pyrometer from this repository into it,
installs the peers from PyPI (pyinstrument, py-spy, yappi, austin; cProfile
is in the standard library), then runs every workload in
benchmarks/workloads/ plain and under each profiler in interleaved pairs, and
the sampler-cost scenario.  Prints a markdown report on stdout (progress goes
to stderr).  See benchmarks/README.md for what each number means.
"""
import argparse
import os
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import cost, envs, machine, peers, report, runner  # noqa: E402
from harness import workloads as workload_mod  # noqa: E402
from harness.util import log  # noqa: E402


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, 3 pairs, short scenarios (~2 min per Python)")
    ap.add_argument("--python", action="append", nargs="+", metavar="X.Y",
                    help="interpreters to measure: X.Y (found with pyenv, else pythonX.Y) or a path; "
                         "default: the one running this script")
    ap.add_argument("--json", metavar="PATH", help="write the raw numbers as JSON")
    ap.add_argument("--markdown", metavar="PATH", help="also write the report to this file")
    ap.add_argument("--pairs", type=int, help="plain/profiled pairs per cell (default 7, quick 3)")
    ap.add_argument("--budget", type=float,
                    help="seconds a cell may use before it stops early (default 60, quick 4)")
    ap.add_argument("--profilers", nargs="+", metavar="NAME",
                    help="profilers to run (default: all defaults; known: %s)" % ", ".join(peers.BY_NAME))
    ap.add_argument("--workloads", nargs="+", metavar="NAME", help="workloads to run (default: all)")
    ap.add_argument("--cost-seconds", type=float, help="seconds per sampler-cost run (default 5, quick 1.5)")
    ap.add_argument("--cost-repeats", type=int, help="runs per sampler-cost variant (default 3, quick 1)")
    ap.add_argument("--no-cost", action="store_true", help="skip the sampler-cost scenario")
    ap.add_argument("--no-reinstall", action="store_true",
                    help="use the pyrometer already in the venv instead of building it again")
    ap.add_argument("--render", nargs="+", metavar="JSON",
                    help="measure nothing: print one report from the --json files of earlier runs "
                         "(e.g. a full run on one Python and quick runs on others)")
    a = ap.parse_args(argv)
    a.python = [p for group in (a.python or []) for p in group] or [None]
    a.pairs = a.pairs or (3 if a.quick else 7)
    a.budget = a.budget if a.budget is not None else (4.0 if a.quick else 60.0)
    a.min_pairs = min(a.pairs, 2 if a.quick else 3)
    a.cost_seconds = a.cost_seconds or (1.5 if a.quick else 5.0)
    a.cost_repeats = a.cost_repeats or (1 if a.quick else 3)
    return a


def measure_python(spec, a, profilers, workloads):
    res = {"python": {"spec": spec, "version": spec or "?", "executable": None},
           "date": machine.describe()["date"], "loadavg_start": machine.loadavg()}
    res["options"] = {"quick": a.quick, "pairs": a.pairs, "budget_s": a.budget, "min_pairs": a.min_pairs}
    try:
        base = envs.find_python(spec)
        info = envs.interpreter_info(base)
        res["python"] = dict(info, spec=spec)
        venv = envs.ensure_venv(base, info["minor"])
    except envs.PythonNotFound as exc:
        res["error"] = str(exc)
        log("Python %s: %s" % (spec, exc))
        return res
    py = envs.venv_python(venv)
    ctx = peers.Ctx(py, venv)
    log("==== CPython %s (%s) ====" % (info["version"], venv))
    res["source"] = envs.source_fingerprint()
    res["pyrometer"] = envs.install_pyrometer(py, reinstall=not a.no_reinstall)
    if res["pyrometer"]["status"] != "ok":
        log("pyrometer unavailable on %s: %s" % (info["version"], res["pyrometer"]["reason"]))
    availability = peers.prepare(ctx, profilers, res["pyrometer"])
    res["availability"] = availability
    res["profilers"] = [{"name": p.name, "label": p.label, "kind": p.kind, "settings": p.settings}
                        for p in profilers]
    for p in profilers:
        s = availability[p.name]
        log("  %-14s %s" % (p.name, s["version"] or "" if s["status"] == "ok" else "unavailable: " + s["reason"]))

    res["workloads"] = []
    for w in workloads:
        log("workload %s (size %d)" % (w.name, w.size(a.quick)))
        res["workloads"].append(runner.measure_workload(ctx, w, profilers, availability, a.quick, a.pairs,
                                                        a.budget, a.min_pairs))
    if not a.no_cost and res["pyrometer"]["status"] == "ok":
        log("sampler cost (%g s x %d per variant)" % (a.cost_seconds, a.cost_repeats))
        res["sampler_cost"] = cost.measure(ctx, a.cost_seconds, a.cost_repeats)
    res["targets"] = report.targets(res)
    res["loadavg_end"] = machine.loadavg()
    return res


def render(a):
    full = report.merge(a.render)
    md = report.markdown(full)
    sys.stdout.write(md)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(md)
    if a.json:
        report.write_json(full, a.json)
    return 0


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.render:
        return render(a)
    profilers = peers.select(a.profilers)
    workloads = workload_mod.discover()
    if a.workloads:
        known = {w.name for w in workloads}
        unknown = [n for n in a.workloads if n not in known]
        if unknown:
            raise SystemExit("benchmarks: unknown workload(s) %s; known: %s" % (", ".join(unknown), ", ".join(known)))
        workloads = [w for w in workloads if w.name in a.workloads]

    full = {
        "command": "python benchmarks/run.py " + " ".join(shlex.quote(x) for x in (sys.argv[1:] if argv is None else argv)),
        "machine": machine.describe(),
        "options": {"quick": a.quick, "pairs": a.pairs, "budget_s": a.budget, "min_pairs": a.min_pairs,
                    "cost_seconds": a.cost_seconds, "cost_repeats": a.cost_repeats},
        "harness_python": sys.version.split()[0],
        "results": [],
    }
    full["command"] = full["command"].rstrip()
    full["commands"] = [full["command"]]
    for spec in a.python:
        full["results"].append(measure_python(spec, a, profilers, workloads))
    full["machine"]["loadavg_end"] = machine.loadavg()

    md = report.markdown(full)
    sys.stdout.write(md)
    sys.stdout.flush()
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(md)
    if a.json:
        report.write_json(full, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
