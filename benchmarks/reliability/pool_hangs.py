"""Counts hangs of a multiprocessing Pool under `pyrometer run`, per mode.

The case: ROUNDS rounds of `with ctx.Pool(4) as p: p.map(f, range(10))`
(tests/programs/reliability/pool.py), fork start method by default.  A run
that has not ended after --timeout seconds is a hang (it is killed, with its
process group); a run that ends with a non-zero status or without writing its
profile is a failure.  One line per mode, then the total.

    python benchmarks/reliability/pool_hangs.py --runs 100              # every mode
    python benchmarks/reliability/pool_hangs.py --runs 20 --modes wall calls --method spawn

Use the interpreter of the venv pyrometer is installed in (or --python)."""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
POOL = os.path.join(HERE, "..", "..", "tests", "programs", "reliability", "pool.py")


def one_run(python, mode, method, rounds, timeout, out):
    cmd = [python, "-m", "pyrometer", "run", "--mode", mode, "-o", out, POOL, method, str(rounds)]
    if mode == "plain":
        cmd = [python, POOL, method, str(rounds)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the run's own process group: it and its workers
        proc.communicate()
        return "hang"
    if proc.returncode != 0 or (mode != "plain" and not os.path.exists(out)):
        lines = err.decode("utf-8", "replace").strip().splitlines()
        return "failed: status %d, %s" % (proc.returncode, lines[-1] if lines else "no stderr")
    return "ok"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="runs per mode (default 20)")
    ap.add_argument("--modes", nargs="+", default=["wall", "cpu", "calls", "lines"],
                    help="pyrometer modes; 'plain' runs without pyrometer")
    ap.add_argument("--method", default="fork", choices=["fork", "spawn", "forkserver"])
    ap.add_argument("--rounds", type=int, default=20, help="Pool rounds per run (default 20)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds before a run counts as hung")
    ap.add_argument("--python", default=sys.executable)
    a = ap.parse_args(argv)
    version = subprocess.run([a.python, "-c", "import sys; print(sys.version.split()[0])"],
                             stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    print("python %s, %s pool, %d rounds x 4 workers, %d runs per mode, timeout %gs"
          % (version, a.method, a.rounds, a.runs, a.timeout))
    total_hangs = total_runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        for mode in a.modes:
            counts = {"ok": 0, "hang": 0, "failed": 0}
            first_failure = None
            start = time.monotonic()
            for i in range(a.runs):
                out = os.path.join(tmp, "%s-%d.pyro" % (mode, i))
                result = one_run(a.python, mode, a.method, a.rounds, a.timeout, out)
                if result.startswith("failed"):
                    first_failure = first_failure or result
                    result = "failed"
                counts[result] += 1
            total_hangs += counts["hang"]
            total_runs += a.runs
            print("%-6s hangs %3d/%d  failed %d  (%.0f s)"
                  % (mode, counts["hang"], a.runs, counts["failed"], time.monotonic() - start), flush=True)
            if first_failure:
                print("       first failure: %s" % first_failure, flush=True)
    print("total hangs %d/%d" % (total_hangs, total_runs))
    return 1 if total_hangs else 0


if __name__ == "__main__":
    sys.exit(main())
