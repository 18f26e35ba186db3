"""Calls mode against cProfile on the benchmark workloads (benchmarks/workloads/),
or with --real on real programs from PyPI (real/: Jinja2, docutils, pyflakes,
Markdown; the `bench` extra), each as its command line runs it, builtins timed
(both tools' default):

  plain       python W.py SIZE
  cProfile    python -m cProfile -o OUT W.py SIZE
  pyrometer   python -m pyrometer run --mode calls -o OUT.prof W.py SIZE
  yappi       python -m yappi -b -c wall -o OUT W.py SIZE   (--real, when installed)

Each run is a fresh process; the time is the workload's own `pyrobench:
work_s=` (its work loop alone: no start-up, no profile written).  Rounds are
interleaved (one run of every tool per round); a ratio is the median of the
per-round ratios (tool / plain of the same round).  Share = pyrometer's added
overhead over cProfile's, (pyrometer - 1) / (cProfile - 1), target <= 1/3.

Usage: python calls_workloads.py [--rounds N] [--quick] [--real] [WORKLOAD ...]
"""
import argparse
import ast
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = os.path.join(os.path.dirname(HERE), "workloads")
REAL = os.path.join(HERE, "real")
TOOLS = ("plain", "cProfile", "pyrometer")


def _size(path, quick):
    tree = ast.parse(open(path, encoding="utf-8").read())
    want = "QUICK_SIZE" if quick else "FULL_SIZE"
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == want:
            return node.value.value
    raise SystemExit("%s has no %s" % (path, want))


def _run(python, tool, path, size, tmp):
    out = os.path.join(tmp, "out.prof")
    cmd = {
        "plain": [python, path, str(size)],
        "cProfile": [python, "-m", "cProfile", "-o", out, path, str(size)],
        "pyrometer": [python, "-m", "pyrometer", "run", "--mode", "calls", "-o", out, path, str(size)],
        "yappi": [python, "-m", "yappi", "-b", "-c", "wall", "-o", out, path, str(size)],
    }[tool]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=1800)
    m = re.search(r"pyrobench: work_s=([0-9.eE+-]+)", p.stderr)
    if p.returncode != 0 or not m:
        raise SystemExit("%s %s failed: %s" % (tool, path, p.stderr.strip()[-500:]))
    return float(m.group(1))


def measure(python, names, rounds, quick, log=print, where=WORKLOADS, tools=TOOLS):
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path = os.path.join(where, name + ".py")
            size = _size(path, quick)
            ratios = {t: [] for t in tools[1:]}
            for r in range(rounds):
                times = {t: _run(python, t, path, size, tmp) for t in tools}
                for t in tools[1:]:
                    ratios[t].append(times[t] / times["plain"])
            med = {t: statistics.median(v) for t, v in ratios.items()}
            added = med["cProfile"] - 1
            share = (med["pyrometer"] - 1) / added if added > 0.05 else None
            rows[name] = dict(med, share=share)
            log("  %-14s %s  share %s" % (name, "  ".join("%s %.2fx" % (t, med[t]) for t in tools[1:]),
                                          "n/a" if share is None else "%.2f" % share))
    return rows


def markdown(python_version, rows, tools=TOOLS):
    extra = [t for t in tools[1:] if t not in ("cProfile", "pyrometer")]
    lines = ["| python | workload | cProfile | pyrometer --mode calls | %sshare of cProfile's added overhead "
             "(target <= 0.33) |" % "".join("%s | " % t for t in extra), "|---|---|---:|---:|%s---|" % ("---:|" * len(extra))]
    for name, r in rows.items():
        share = "n/a (cProfile adds < 5%)" if r["share"] is None else "%.2f %s" % (
            r["share"], "MET" if r["share"] <= 1 / 3 else "**MISSED**")
        lines.append("| %s | %s | %.2fx | %.2fx | %s%s |" % (python_version, name, r["cProfile"], r["pyrometer"],
                                                         "".join("%.2fx | " % r[t] for t in extra), share))
    return "\n".join(lines) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="QUICK_SIZE instead of FULL_SIZE")
    ap.add_argument("--real", action="store_true", help="the real programs of real/ (the bench extra)")
    ap.add_argument("workloads", nargs="*")
    a = ap.parse_args(argv)
    where = REAL if a.real else WORKLOADS
    tools = TOOLS
    if a.real and subprocess.run([sys.executable, "-c", "import yappi"], stderr=subprocess.DEVNULL).returncode == 0:
        tools = TOOLS + ("yappi",)
    names = a.workloads or sorted(f[:-3] for f in os.listdir(where) if f.endswith(".py"))
    rows = measure(sys.executable, names, a.rounds, a.quick, where=where, tools=tools)
    sys.stdout.write(markdown("%d.%d.%d" % sys.version_info[:3], rows, tools))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
