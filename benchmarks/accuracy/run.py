#!/usr/bin/env python3
"""pyrometer's accuracy benchmark: how close each profiler's split of time
between known regions comes to the split measured without a profiler.

    python benchmarks/accuracy/run.py [--quick] [--python X.Y ...] [--json out.json] [--markdown out.md]
                                      [--scenarios NAME ...] [--profilers NAME ...] [--venv-python PATH]

Uses the benchmark venvs benchmarks/.venv-X.Y (made by benchmarks/run.py) as
they are: nothing is built or installed unless --install is given.  Prints a
markdown report on stdout, progress on stderr.  See README.md.
"""
import argparse
import json
import os
import shlex
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
sys.path.insert(0, BENCH)

import accuracy  # noqa: E402
from accuracy import profilers, scenarios  # noqa: E402


def log(message):
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="benchmarks/accuracy/run.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs, one run per cell, 3 of the 5 bias points")
    ap.add_argument("--smoke", action="store_true",
                    help="checks that the harness runs and its output parses: %s under %s, quick, nothing timed"
                         % (", ".join(accuracy.SMOKE_SCENARIOS), ", ".join(accuracy.SMOKE_PROFILERS)))
    ap.add_argument("--python", action="append", nargs="+", metavar="X.Y",
                    help="interpreters: X.Y (its venv benchmarks/.venv-X.Y) or a path to a base interpreter; "
                         "default: the one running this script's X.Y")
    ap.add_argument("--venv-python", action="append", metavar="PATH",
                    help="use this interpreter (e.g. a venv's bin/python) as it is, instead of --python")
    ap.add_argument("--scenarios", nargs="+", metavar="NAME", help="known: %s" % ", ".join(scenarios.BY_NAME))
    ap.add_argument("--profilers", nargs="+", metavar="NAME", help="known: %s" % ", ".join(profilers.BY_NAME))
    ap.add_argument("--runs", type=int, help="profiled runs per cell (default 3, quick 1)")
    ap.add_argument("--no-cache", action="store_true", help="calibrate again instead of reusing .cache/")
    ap.add_argument("--install", action="store_true",
                    help="make missing venvs and build pyrometer and the harness's peers into them "
                         "(benchmarks/harness), before measuring")
    ap.add_argument("--json", metavar="PATH", help="write the raw results as JSON")
    ap.add_argument("--markdown", metavar="PATH", help="also write the report to this file")
    a = ap.parse_args(argv)
    a.python = [p for group in (a.python or []) for p in group]
    return a


def venv_interpreters(a):
    """[(label, interpreter path)] for the run: --venv-python as given;
    --python X.Y -> benchmarks/.venv-X.Y/bin/python (harness/envs.py)."""
    out = [(p, p) for p in (a.venv_python or [])]
    specs = a.python or ([] if out else ["%d.%d" % sys.version_info[:2]])
    if not specs:
        return out
    from harness import envs  # read-only use of the overhead harness's venv helpers

    for spec in specs:
        try:
            base = envs.find_python(spec)
            minor = envs.interpreter_info(base)["minor"]
            venv = os.path.join(envs.BENCH_DIR, ".venv-%s" % minor)
            py = envs.venv_python(venv)
            if a.install:
                venv = envs.ensure_venv(base, minor)
                py = envs.venv_python(venv)
                _install(py, venv)
            elif not os.access(py, os.X_OK):
                log("no venv %s: make it with benchmarks/run.py, or pass --install" % venv)
                out.append((spec, None))
                continue
            out.append((spec, py))
        except envs.PythonNotFound as exc:
            log("Python %s: %s" % (spec, exc))
            out.append((spec, None))
    return out


def _install(py, venv):
    from harness import envs, peers

    status = envs.install_pyrometer(py)
    log("pyrometer: %s" % (status["status"] if status["status"] == "ok" else status["reason"]))
    ctx = peers.Ctx(py, venv)
    wanted = [p for p in peers.PROFILERS if p.pip]
    peers.prepare(ctx, wanted, status)


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        scenarios.select(a.scenarios, a.quick)
        profilers.select(a.profilers)
    except ValueError as exc:
        raise SystemExit("accuracy: %s" % exc)
    full = {"command": "python benchmarks/accuracy/run.py " + " ".join(
        shlex.quote(x) for x in (sys.argv[1:] if argv is None else argv)), "results": []}
    status = 0
    for label, py in venv_interpreters(a):
        if py is None:
            full["results"].append({"python": {"version": label}, "error": "no interpreter", "scenarios": [],
                                    "profilers": []})
            status = 1
            continue
        try:
            res = accuracy.measure(py, quick=a.quick, scenarios=a.scenarios, profilers=a.profilers, log=log,
                                   runs=a.runs, use_cache=not a.no_cache, smoke=a.smoke)
        except RuntimeError as exc:
            log("%s: %s" % (label, exc))
            full["results"].append({"python": {"version": label}, "error": str(exc), "scenarios": [],
                                    "profilers": []})
            status = 1
            continue
        full["results"].append(res)
    md = accuracy.markdown(full)
    sys.stdout.write(md)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(md)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(full, f, indent=1, sort_keys=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
