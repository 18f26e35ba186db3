"""False regressions of `pyrometer diff --fail-on-regression PCT`: profiles
pairs of runs of one unchanged program (and, as a control, pairs where one
function is made twice slower) and counts the pairs the gate fails, per
mode.

    python benchmarks/diff_false_positives.py [PAIRS] [PCT]
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
from test_diff import PROGRAM  # noqa: E402  (the program the tests use)


def main():
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    pct = sys.argv[2] if len(sys.argv) > 2 else "20"
    d = tempfile.mkdtemp()
    prog = os.path.join(d, "prog.py")
    with open(prog, "w") as f:
        f.write(PROGRAM)

    def run(mode, name, factor):
        out = os.path.join(d, name)
        subprocess.run([sys.executable, "-m", "pyrometer", "run", "--mode", mode, "-o", out, prog, str(factor)],
                       capture_output=True, check=True)
        return out

    def gate(a, b):
        r = subprocess.run([sys.executable, "-m", "pyrometer", "diff", a, b, "--fail-on-regression", pct],
                           capture_output=True, text=True)
        return r.returncode == 3

    print("%-6s %22s %26s" % ("mode", "false regressions", "2x slower function caught"))
    for mode in ("cpu", "wall"):
        false = caught = 0
        for i in range(pairs):
            a = run(mode, "a.pyro", 1)
            false += gate(a, run(mode, "b.pyro", 1))
            caught += gate(a, run(mode, "c.pyro", 2))
        print("%-6s %16d of %-3d %20d of %-3d" % (mode, false, pairs, caught, pairs))


if __name__ == "__main__":
    main()
