#!/usr/bin/env python3
"""What --heap-at-exit adds to a memory-mode run, and objgraph's
show_growth beside it, on a program that leaks N instances of its own class
(tests/programs/heap_leak.py: 1 KB each, other objects made and freed).

    python benchmarks/memory/heap_at_exit.py [--rounds N] [--leaked N]

Whole processes, the child's CPU time (user + system, from wait4), start-up
included; the four commands interleaved, their order shuffled every round
(the machine is noisy: only medians of interleaved runs mean anything).
Prints a markdown table: median seconds and the ratio to the plain run."""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "programs", "heap_leak.py")

# objgraph's own leak hunt around the same program: show_growth() before and
# after (its census of tracked objects, with a gc.collect() each time).
OBJGRAPH = textwrap.dedent("""
    import runpy, sys
    import objgraph
    path = sys.argv[1]
    sys.argv[:] = sys.argv[1:]
    objgraph.show_growth(limit=5, file=open("/dev/null", "w"))
    runpy.run_path(path, run_name="__main__")
    objgraph.show_growth(limit=5, file=sys.stderr)
""")


def cpu_of(cmd):
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(cmd, stdout=null, stderr=null)
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("failed: %s" % " ".join(cmd))
    return usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--leaked", type=int, default=50000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    objgraph_script = os.path.join(tmp, "objgraph_growth.py")
    with open(objgraph_script, "w") as f:
        f.write(OBJGRAPH)
    n = str(a.leaked)
    out = os.path.join(tmp, "out.pyro")
    run = [sys.executable, "-m", "pyrometer", "run", "--mode", "memory", "-o", out]
    cmds = {
        "plain": [sys.executable, PROGRAM, n],
        "memory mode": run + [PROGRAM, n],
        "memory mode --heap-at-exit": run + ["--heap-at-exit", PROGRAM, n],
        "objgraph show_growth around it (no stacks)": [sys.executable, objgraph_script, PROGRAM, n],
    }
    times = {k: [] for k in cmds}
    for _ in range(a.rounds):
        order = list(cmds)
        random.shuffle(order)
        for k in order:
            times[k].append(cpu_of(cmds[k]))
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    print("| %s, %s leaked, %d rounds | CPU s (median) | × plain |" % (
        "CPython %d.%d" % sys.version_info[:2], n, a.rounds))
    print("|---|---|---|")
    for k in cmds:
        print("| %s | %.3f | %.2f× |" % (k, med[k], med[k] / med["plain"]))


if __name__ == "__main__":
    main()
