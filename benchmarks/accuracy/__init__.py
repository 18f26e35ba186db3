"""Accuracy of pyrometer and its peers against measured ground truth.

    from accuracy import measure, markdown      # with benchmarks/ on sys.path
    res = measure("/path/to/benchmarks/.venv-3.12/bin/python", quick=True)
    print(markdown(res))

measure(python_exe, quick=False, scenarios=None, profilers=None, log=print)
runs every scenario (programs/*.py, registry in scenarios.py) plain and under
every profiler installed in python_exe's venv, and returns a
JSON-serialisable dict; markdown(result) renders it (or {"results": [...]}
of several interpreters).  See README.md.  Standard library only.
"""
from .core import measure as _measure
from .report import markdown

__all__ = ["measure", "markdown", "SMOKE_SCENARIOS", "SMOKE_PROFILERS"]

SMOKE_SCENARIOS = ["bias_50"]
SMOKE_PROFILERS = ["pyrometer", "cProfile"]


def measure(python_exe, quick=False, scenarios=None, profilers=None, log=print, runs=None, use_cache=True,
            smoke=False):
    """python_exe: a benchmark venv's interpreter (its bin/ holds py-spy,
    austin...); scenarios, profilers: names (default: all; quick drops two
    of the five bias points); runs: profiled runs per cell (default 3, quick
    1); use_cache: reuse calibrated parameters from .cache/ when they still
    hit their target; smoke: the smallest run that shows the harness works
    (SMOKE_SCENARIOS under SMOKE_PROFILERS, quick, calibrated afresh).

    The result's "max_error_points" is {profiler: its worst max error per
    region over the scenarios it was scored on, 2x shift included}."""
    if smoke:
        quick, use_cache = True, False
        scenarios = scenarios or SMOKE_SCENARIOS
        profilers = profilers or SMOKE_PROFILERS
    return _measure(python_exe, quick=quick, scenarios=scenarios, profilers=profilers, log=log, runs=runs,
                    use_cache=use_cache)
