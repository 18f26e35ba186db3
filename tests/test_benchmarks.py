"""Smoke test of the benchmark program, benchmarks/run.py: one tiny run in
place (this interpreter, its installed pyrometer; no venv, nothing
installed), one pair per cell.  It checks that the program runs, that the
JSON has the expected structure and that the report has its sections; it
never asserts a time (the machine may be loaded)."""
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RUN = BENCH / "run.py"
WORKLOAD = "loop_numeric"  # few calls: short under cProfile too
STATUSES = {"MET", "MISSED", "NOT MEASURED", "NOT EVALUATED"}


def run_bench(tmp_path, *extra):
    out_json, out_md = tmp_path / "bench.json", tmp_path / "bench.md"
    cmd = [sys.executable, str(RUN), "--in-place", "--quick", "--pairs", "1",
           "--profilers", "pyrometer", "cProfile", "--workloads", WORKLOAD, "--no-cost",
           "--json", str(out_json), "--markdown", str(out_md)] + list(extra)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(cmd, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-4000:]
    report = json.loads(out_json.read_text(encoding="utf-8"))
    markdown = out_md.read_text(encoding="utf-8")
    assert proc.stdout.decode("utf-8") == markdown  # the report is printed too
    return report, markdown


def test_in_place_quick_run(tmp_path):
    report, md = run_bench(tmp_path, "--no-accuracy", "--deterministic-smoke")
    det = report["results"][0]["deterministic"]
    assert "error" not in det, det
    assert set(det["calls"]["workloads"]) == {"fib", "method loop", "builtin calls", "call-free loop"}
    for row in det["calls"]["workloads"].values():
        assert row["ratios"]["pyrometer"] > 0 and row["ratios"]["cProfile"] > 0
    assert [r["case"] for r in det["lines_on_target"]] == ["tight", "typical"]
    assert all(r["slowdown"] > 0 for r in det["lines_on_target"])
    assert "### Deterministic micro-benchmarks" in md

    assert report["machine"]["nproc"] >= 1 and report["machine"]["date"]
    assert len(report["results"]) == 1
    res = report["results"][0]
    assert "error" not in res
    assert res["options"]["in_place"] is True and res["options"]["quick"] is True
    assert res["python"]["executable"] == sys.executable
    assert res["pyrometer"]["status"] == "ok", res["pyrometer"]
    assert [p["name"] for p in res["profilers"]] == ["aa", "pyrometer", "cProfile"]
    assert {p["kind"] for p in res["profilers"]} == {"control", "sampling", "deterministic"}
    for name in ("pyrometer", "cProfile"):
        assert res["availability"][name]["status"] == "ok", res["availability"][name]

    [w] = res["workloads"]
    assert w["workload"] == WORKLOAD and "error" not in w
    for name in ("aa", "pyrometer", "cProfile"):
        cell = w["cells"][name]
        assert cell["error"] is None, cell["error"]
        assert cell["pairs"] == 1
        for key in ("slowdown_wall", "slowdown_work", "plain_wall_s", "plain_work_s", "peak_rss_ratio"):
            assert isinstance(cell[key], float) and cell[key] > 0, (name, key, cell[key])
        assert cell["plain_peak_rss_kb"] > 0
    for name in ("pyrometer", "cProfile"):  # each wrote a profile
        assert w["cells"][name]["profile_bytes"] > 0

    metas = w["cells"]["pyrometer"]["extras"]
    assert len(metas) == 1 and "error" not in metas[0], metas
    assert metas[0]["samples_taken"] > 0
    assert metas[0]["samples_expected"] > 0

    targets = {t["key"]: t for t in res["targets"]}
    assert set(targets) == {"slowdown_wall", "slowdown_work", "taken", "sampler_cpu", "calls", "lines", "accuracy",
                            "memory"}
    for t in targets.values():
        assert t["status"] in STATUSES, t
    assert targets["slowdown_wall"]["status"] in ("MET", "MISSED")
    assert targets["taken"]["status"] in ("MET", "MISSED")
    assert targets["sampler_cpu"]["status"] == "NOT MEASURED"  # --no-cost
    assert targets["accuracy"]["status"] == "NOT MEASURED"  # --no-accuracy

    for text in ("# pyrometer benchmark results", "## Targets", "## Versions",
                 "sampling: median slowdown ≤ 1.01× at 1 kHz", "calls mode ≤ 1/3 of cProfile",
                 "lines mode ≤ 2×", "accuracy: ≤ 2 percentage points",
                 "### Sampling profilers", "### Deterministic profilers",
                 "Slowdown, whole process", "Slowdown, work loop only", "Peak RSS",
                 "| workload | plain s | plain (A/A) | pyrometer wall |",
                 "| workload | plain s | plain (A/A) | cProfile |",
                 "| %s |" % WORKLOAD, "samples taken / expected"):
        assert text in md, text
    assert "### Memory profilers" not in md  # none was asked for


def _accuracy_smoke_supported():
    if not (BENCH / "accuracy" / "__init__.py").is_file():
        return False
    sys.path.insert(0, str(BENCH))
    try:
        import accuracy

        return "smoke" in inspect.signature(accuracy.measure).parameters
    except Exception:
        return False
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.skipif(not _accuracy_smoke_supported(),
                    reason="no benchmarks/accuracy package with a smoke option")
def test_in_place_run_with_accuracy_smoke(tmp_path):
    report, md = run_bench(tmp_path, "--accuracy-smoke", "--no-deterministic")
    res = report["results"][0]
    assert res["accuracy"]["status"] == "ok", res["accuracy"]
    assert isinstance(res["accuracy"]["result"], dict)
    assert "### Accuracy" in md
    accuracy = {t["key"]: t for t in res["targets"]}["accuracy"]
    assert accuracy["status"] in STATUSES - {"NOT MEASURED"}


SUMMARY = BENCH / "summary.py"


def run_summary(*args):
    proc = subprocess.run([sys.executable, str(SUMMARY)] + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=120)
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def import_summary():
    sys.path.insert(0, str(BENCH))
    try:
        import summary
    finally:
        sys.path.remove(str(BENCH))
    return summary


def test_readme_tables_are_the_committed_report():
    # The README's benchmark tables are generated from the committed report:
    # a new report without a regenerated README (or a hand edit) fails here.
    code, text, err = run_summary(BENCH / "results" / "latest.json")
    assert code == 0, err
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    summary = import_summary()
    block = readme.split(summary.BEGIN, 1)[1].split(summary.END, 1)[0]
    assert block.strip() == text.strip()
    report = json.loads((BENCH / "results" / "latest.json").read_text(encoding="utf-8"))
    for res in report["results"]:
        assert "CPython %s:" % res["python"]["version"] in text


def test_summary_of_a_smoke_run(tmp_path):
    report, _ = run_bench(tmp_path, "--no-accuracy", "--no-deterministic")
    readme = tmp_path / "README.md"
    summary = import_summary()
    readme.write_text("before\n%s\nold\n%s\nafter\n" % (summary.BEGIN, summary.END), encoding="utf-8")
    code, _, err = run_summary(tmp_path / "bench.json", "--readme", readme)
    assert code == 0, err
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("before\n") and text.endswith("after\n") and "\nold\n" not in text
    row = [l for l in text.splitlines() if l.startswith("| %s |" % WORKLOAD)]
    assert row and row[0].count("×") >= 2, text  # pyrometer's ratio and its A/A
    assert "### Targets" in text and "CPython %s:" % report["results"][0]["python"]["version"] in text
    code, _, err = run_summary(tmp_path / "missing.json")
    assert code != 0 and err.startswith("benchmarks/summary.py: cannot read") and "Traceback" not in err
