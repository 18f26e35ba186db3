"""Attaching to a running process: pyrometer attach beside py-spy record
--nonblocking and Austin (when installed: the bench extra), at the same
rate, on the same CPU-bound target.

For each round (interleaved: plain, pyrometer, py-spy, in turn) the target
starts, the profiler attaches, the target is told to go, runs a fixed
amount of pure-Python work and prints how long it took; the profiler stops
when the target exits.  Printed: the target's slowdown against plain runs
(median of the rounds; wall time, and the target's own CPU time, which a
busy machine disturbs less), samples taken against expected (pyrometer and
Austin: rate x time attached; py-spy, which drops samples of idle threads:
rate x the target's working time), and the profiler's own CPU time per second
attached.

    python benchmarks/attach/run.py [--rounds 5] [--rate 100] [--work 2.0] [--shape loop|calls|recursion|waiters]

Shapes: a loop of arithmetic; the same through a one-line call; those
calls with one in 401 made at the bottom of a 400-frame recursion (about
half the time in a stack that changes under most reads from outside: what
the stops cost); the loop beside 8 threads waiting 300 calls deep.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = r"""
import sys, time
def step(total, i):
    return total + i % 7
def down(d, total, i):
    return down(d - 1, total, i) if d else step(total, i)
def work(n):
    total = 0
    if DEEP:
        for i in range(n):
            total = down(400 if i % 401 == 0 else 0, total, i)
    elif CALLS:
        for i in range(n):
            total = step(total, i)
    else:
        for i in range(n):
            total += i % 7
    return total
def run(seconds):
    # calibrate on a small batch, then do a fixed amount of work
    t = time.perf_counter(); work(200000); per = (time.perf_counter() - t) / 200000
    return int(seconds / per)
CALLS = sys.argv[2] == "calls"
DEEP = sys.argv[2] == "recursion"
if sys.argv[2] == "waiters":
    import threading
    gate = threading.Event()
    def wait_deep(depth):
        return wait_deep(depth - 1) if depth else gate.wait()
    for _ in range(8):
        threading.Thread(target=wait_deep, args=(300,), daemon=True).start()
n = run(float(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
t, c = time.perf_counter(), time.process_time()
work(n)
print("%.6f %.6f" % (time.perf_counter() - t, time.process_time() - c), flush=True)
"""


STOPS = []  # pyrometer's runs: (torn, read with the thread stopped), as shares of its samples


def start_target(python, work, shape):
    p = subprocess.Popen([python, "-c", TARGET, str(work), shape], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


def go_and_wait(p):
    p.stdin.write("go\n")
    p.stdin.flush()
    elapsed, cpu = map(float, p.stdout.readline().split())
    p.wait()
    return elapsed, cpu


def wait4(proc):
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = status
    return usage.ru_utime + usage.ru_stime


def tool(name):
    """A peer's executable: on PATH or beside this Python (a venv's bin)."""
    here = os.path.join(os.path.dirname(sys.executable), name)
    return shutil.which(name) or (here if os.access(here, os.X_OK) else None)


def one(kind, python, work, shape, rate, tmp):
    p = start_target(python, work, shape)
    if kind == "plain":
        elapsed, target_cpu = go_and_wait(p)
        return elapsed, None, None, target_cpu
    out = os.path.join(tmp, "out.%s" % ("pyro" if kind == "pyrometer" else "txt"))
    if kind == "pyrometer":
        cmd = [sys.executable, "-m", "pyrometer", "attach", str(p.pid), "--rate", str(rate), "-o", out]
    elif kind == "austin":
        # Austin 3.x (4.x needs glibc 2.38): non-blocking reads, one line per sample.
        cmd = [tool("austin"), "-p", str(p.pid), "-i", "%dus" % (1000000 // rate), "-o", out]
    else:
        cmd = [tool("py-spy"), "record", "--pid", str(p.pid), "--nonblocking", "--rate", str(rate),
               "--format", "raw", "-o", out, "--duration", "600"]  # ends with the target
        # (py-spy 0.4.3 without --duration fails to attach: "Failed to find python version")
    prof = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(1.0)  # attached and sampling before the work starts
    t0 = time.monotonic()
    elapsed, target_cpu = go_and_wait(p)
    cpu = wait4(prof)
    attached = time.monotonic() - t0 + 1.0
    err = prof.stdout.read()
    prof.stdout.close()
    if kind == "pyrometer":
        import pyrometer

        meta = pyrometer.load(out).meta
        ratio = meta["samples_taken"] / meta["samples_expected"]
        attached = meta["duration_s"]
        STOPS.append((meta["samples_torn"] / meta["samples_taken"], meta["samples_stopped"] / meta["samples_taken"]))
    elif kind == "austin":
        # "Error rate : E/N" on stderr: N samples collected over the run.
        m = re.search(r"Error rate : \S*?(\d+)/(\d+)", err)
        if not m:
            raise SystemExit("austin failed: %s" % err.strip().splitlines()[:1])
        ratio = int(m.group(2)) / (rate * attached)
    else:
        m = re.search(r"Samples: (\d+)", err)
        if not m:
            raise SystemExit("py-spy failed: %s" % err.strip().splitlines()[:1])
        # py-spy counts only samples of active threads (no --idle): the
        # target is active while it works, so that is what is expected.
        ratio = int(m.group(1)) / (rate * elapsed)
    return elapsed, ratio, cpu / attached, target_cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--work", type=float, default=2.0)
    ap.add_argument("--python", default=sys.executable, help="the target's interpreter")
    ap.add_argument("--shape", choices=("loop", "calls", "recursion", "waiters"), default="loop",
                    help="the work: one loop (a stack that holds still), a loop calling a tiny function per "
                         "step (a stack that changes every few hundred ns: the reads from outside fail most "
                         "there, and pyrometer stops the thread for some ticks), those calls with one in 401 "
                         "made 400 frames deep (most ticks stopped: what the stops cost), or the loop beside 8 threads "
                         "waiting 300 calls deep (as a server's idle workers)")
    a = ap.parse_args()
    kinds = ["plain", "pyrometer"] + [k for k in ("py-spy", "austin") if tool(k)]
    results = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.rounds):
            for k in kinds:
                results[k].append(one(k, a.python, a.work, a.shape, a.rate, tmp))
    base = statistics.median(r[0] for r in results["plain"])
    base_cpu = statistics.median(r[3] for r in results["plain"])
    print("target: %s, %.1f s of work (%s), rate %d Hz, %d interleaved rounds (medians)" % (
        a.python, a.work, a.shape, a.rate, a.rounds))
    print("%-10s %10s %9s %13s %16s %18s" % ("profiler", "target s", "slowdown", "CPU slowdown", "samples/expected",
                                              "profiler CPU s/s"))
    for k in kinds:
        t = statistics.median(r[0] for r in results[k])
        c = statistics.median(r[3] for r in results[k])
        if k == "plain":
            print("%-10s %10.3f %8.3fx %12.3fx %16s %18s" % (k, t, 1.0, 1.0, "-", "-"))
        else:
            print("%-10s %10.3f %8.3fx %12.3fx %15.1f%% %18.4f" % (
                k, t, t / base, c / base_cpu, 100 * statistics.median(r[1] for r in results[k]),
                statistics.median(r[2] for r in results[k])))

    if STOPS:
        print("pyrometer: torn %.2f%% of samples, %.2f%% read with the thread stopped (medians)" % (
            100 * statistics.median(t for t, _ in STOPS), 100 * statistics.median(x for _, x in STOPS)))


if __name__ == "__main__":
    main()
