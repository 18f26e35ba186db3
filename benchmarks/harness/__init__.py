"""The benchmark harness behind benchmarks/run.py.

    envs.py      find interpreters, make the per-Python venvs, install
                 pyrometer (from this repository) and the peers (from PyPI)
    peers.py     the profilers compared: a table of command builders,
                 grouped by kind (sampling, deterministic, memory)
    tracemalloc_run.py  a program, not a module: the tracemalloc column's
                 wrapper (runs a script, dumps a snapshot at exit)
    workloads.py discover benchmarks/workloads/*.py
    runner.py    interleaved paired runs, medians, output checks, peak
                 RSS and profile sizes, the per-run time cap
    cost.py      the sampler-cost scenario (benchmarks/scenarios/)
    machine.py   what machine and software the numbers come from
    report.py    the targets, the markdown tables, the JSON

Standard library only: the harness runs on whatever Python starts run.py and
drives the venvs' interpreters as subprocesses.
"""
