#!/usr/bin/env python3
"""What `pyrometer run --subprocesses` costs, beside py-spy's --subprocesses:
each workload run plainly, under `pyrometer run --subprocesses` and under
`py-spy record --subprocesses` (when py-spy is installed and may trace), in
interleaved rounds (plain, pyrometer, py-spy, plain, ...), so that the
machine's drift hits all alike.

    python benchmarks/subprocesses_cost.py [--rounds N] [--rate HZ]

Times are the whole command's wall time (start-up, every child, writing and
merging the profile included).  The report gives per workload the median of
each round's ratio to its plain run, and how many processes each profile
shows (pyrometer: the processes merged, its "processes" metadata; py-spy:
the "process N" frames of its collapsed output, a child's under its
parent's).  A child that ends between two of its samples shows in neither."""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

WORKLOADS = {
    # Four workers, CPU-bound, each start method in turn.
    "pool": r"""
import multiprocessing as mp
def burn(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
if __name__ == "__main__":
    for method in ("fork", "spawn", "forkserver"):
        with mp.get_context(method).Pool(4) as pool:
            pool.map(burn, [300000] * 16)
""",
    # Twenty short interpreters one after the other: the start-up cost.
    "subprocess": r"""
import subprocess, sys
for _ in range(20):
    subprocess.run([sys.executable, "-c", "sum(range(100000))"], check=True)
""",
}


def timed(cmd, cwd):
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def processes_in_pyro(path):
    import pyrometer

    return int(pyrometer.load(path).meta.get("processes", 0))


def processes_in_collapsed(path):
    with open(path) as f:
        return len(set(re.findall(r"process (\d+):", f.read())))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rate", type=int, default=100)
    a = ap.parse_args()
    pyspy = shutil.which("py-spy") or shutil.which("py-spy", path=os.path.dirname(sys.executable))
    tmp = tempfile.mkdtemp(prefix="subprocesses-bench-")
    print("python %s, %d rounds, %d Hz" % (sys.version.split()[0], a.rounds, a.rate))
    print("%-11s %9s %12s %10s %14s %10s" % ("workload", "plain s", "pyrometer x", "processes", "py-spy x",
                                             "processes"))
    for name, source in WORKLOADS.items():
        script = os.path.join(tmp, "work_%s.py" % name)
        with open(script, "w") as f:
            f.write(source)
        pyro = os.path.join(tmp, name + ".pyro")
        coll = os.path.join(tmp, name + ".collapsed")
        runs = {
            "plain": [sys.executable, script],
            "pyrometer": [sys.executable, "-m", "pyrometer", "run", "--subprocesses", "--rate", str(a.rate),
                          "-o", pyro, script],
        }
        if pyspy:
            runs["py-spy"] = [pyspy, "record", "--subprocesses", "-r", str(a.rate), "-f", "raw", "-o", coll,
                              "--", sys.executable, script]
        ratios = {k: [] for k in runs if k != "plain"}
        plain = []
        for _ in range(a.rounds):
            base = timed(runs["plain"], tmp)
            plain.append(base)
            for k in ratios:
                try:
                    ratios[k].append(timed(runs[k], tmp) / base)
                except subprocess.CalledProcessError:
                    ratios[k].append(float("nan"))
        seen_pyro = processes_in_pyro(pyro)
        spy = ratios.get("py-spy")
        seen_spy = processes_in_collapsed(coll) if spy and os.path.exists(coll) else 0
        print("%-11s %9.2f %12.2f %10d %14s %10s" % (
            name, statistics.median(plain), statistics.median(ratios["pyrometer"]), seen_pyro,
            "%.2f" % statistics.median(spy) if spy else "-", seen_spy if spy else "-"))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
