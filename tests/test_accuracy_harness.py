"""Smoke test of the accuracy harness (benchmarks/accuracy/): it runs and
its output parses.

Nothing here checks a time or the size of an error: the machine's noise must
never fail it.  Runs the smoke selection (one quick scenario, pyrometer and
cProfile) with $PYROACC_PYTHON, else the interpreter running the test if it
has pyrometer, else the benchmark venv of its version
(benchmarks/.venv-X.Y); skipped when there is none.
"""
import importlib.util
import json
import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import accuracy  # noqa: E402


def _interpreter():
    if os.environ.get("PYROACC_PYTHON"):
        return os.environ["PYROACC_PYTHON"]
    if importlib.util.find_spec("pyrometer") is not None:
        return sys.executable
    venv = os.path.join(BENCH, ".venv-%d.%d" % sys.version_info[:2], "bin", "python")
    return venv if os.access(venv, os.X_OK) else None


@pytest.mark.skipif(_interpreter() is None, reason="no interpreter with pyrometer (set PYROACC_PYTHON)")
def test_smoke_runs_and_parses():
    res = accuracy.measure(_interpreter(), smoke=True, log=lambda m: None)
    json.dumps(res)  # JSON-serialisable
    assert set(res["max_error_points"]) <= set(accuracy.SMOKE_PROFILERS)
    (sc,) = res["scenarios"]
    assert "error" not in sc, sc.get("error")
    for name in accuracy.SMOKE_PROFILERS:
        pr = sc["results"][name]
        assert pr["status"] in ("ok", "unavailable"), pr
        if pr["status"] == "ok":
            shares = pr["variants"][""]["shares"]
            assert set(shares) == set(sc["regions"])
            assert abs(sum(shares.values()) - 100.0) < 1e-6
            assert pr["max_error"] >= 0
    md = accuracy.markdown(res)
    assert "bias_50" in md and "| scenario |" in md


def test_readers_on_small_inputs(tmp_path):
    from accuracy import profilers as pm

    col = tmp_path / "x.collapsed"
    col.write_text("MainThread;main (a.py:1);region_a (a.py:3);helper (a.py:9) 3\n"
                   "MainThread;main (a.py:1);region_b (a.py:5) 1\n"
                   "MainThread;region_a (a.py:3);region_a (a.py:3) 2\n")
    vals, _ = pm.read_collapsed(None, str(col), ["region_a", "region_b"])
    assert vals == {"region_a": 5.0, "region_b": 1.0}
    aus = tmp_path / "x.austin"
    aus.write_text("# austin: 3.7.0\n\nP1;T0:1;/a.py:main:1;/a.py:region_a:3 1000\nP1;T0:1;/a.py:region_b:5 500\n")
    vals, _ = pm.read_austin(None, str(aus), ["region_a", "region_b"])
    assert vals == {"region_a": 1000.0, "region_b": 500.0}
