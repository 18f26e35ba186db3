"""Runs a program with tracemalloc on and writes a snapshot when it ends: the
"tracemalloc" column of the benchmarks (tracemalloc itself has no command
line that saves anything).

    python -X tracemalloc=1 tracemalloc_run.py OUT.snapshot prog.py [args ...]

`-X tracemalloc=1` traces every allocation (1 frame each) from interpreter
start, as `PYTHONTRACEMALLOC=1` would; this wrapper only runs prog.py as
__main__ (argv, sys.path[0] as plain `python prog.py` sets them) and dumps
tracemalloc.take_snapshot() to OUT.snapshot afterwards, also when the
program exits with SystemExit.  Standard library only.
"""
import os
import runpy
import sys
import tracemalloc


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    out, script = sys.argv[1], sys.argv[2]
    if not tracemalloc.is_tracing():
        tracemalloc.start()  # run without -X tracemalloc: trace from here on
    sys.argv = sys.argv[2:]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        sys.stdout.flush()
        tracemalloc.take_snapshot().dump(out)


if __name__ == "__main__":
    main()
