"""Calls-mode overhead, side by side in one run.

Each measurement is a fresh process (`--child TOOL WORK`) that times the
workload under one profiler, enabled around the work only (no start-up, no
writing), so every tool starts from the same clean interpreter:

  plain                 no profiler
  cProfile              cProfile.Profile(builtins=False)
  pyrometer             pyrometer.Profile(builtins=False) (what --mode calls runs)
  cProfile +builtins    cProfile.Profile() (its default: C functions timed too)
  pyrometer +builtins   pyrometer.Profile(builtins=True)
  yappi                 yappi.start(builtins=False), its default CPU clock, when installed

Workloads: recursive fib, a method-call-heavy loop, a loop of builtin
calls (methods and functions), a call-free loop.
Rounds are interleaved (one run of every tool per round); a ratio is the
median of per-round ratios (tool / plain of the same round).  The share is
pyrometer's added overhead over cProfile's: (pyrometer - 1) / (cProfile - 1),
target <= 1/3.

Usage: python calls_overhead.py [--rounds N] [--scale X] [--json PATH]
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.abspath(__file__)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Counter:
    def __init__(self):
        self.v = 0

    def add(self, x):
        self.v += x
        return self.v


def method_loop(n):
    c = Counter()
    for i in range(n):
        c.add(i)
    return c.v


def builtin_calls(n):
    """What real code does between its own calls: builtin methods (list.append,
    dict.get) and functions (len, isinstance), timed on their own with
    +builtins."""
    out, seen = [], {}
    for i in range(n):
        out.append(i)
        seen.get(i)
        if isinstance(i, int) and len(out) > 1000:
            out.clear()
    return len(out)


def call_free_loop(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


# name: (function, argument at scale 1); ~0.3-0.5 s plain on 3.12 here
WORK = {
    "fib": (fib, 30),
    "method loop": (method_loop, 3_000_000),
    "builtin calls": (builtin_calls, 1_500_000),
    "call-free loop": (call_free_loop, 6_000_000),
}
TOOLS = ["plain", "cProfile", "pyrometer", "cProfile +builtins", "pyrometer +builtins", "yappi"]


def _size(work, scale):
    fn, arg = WORK[work]
    if fn is fib:  # fib's cost grows by ~1.618 per step: scale the argument by log
        import math

        return max(5, arg + int(round(math.log(scale) / math.log(1.618))))
    return max(1, int(arg * scale))


def child(tool, work, scale):
    fn = WORK[work][0]
    arg = _size(work, scale)
    if tool == "plain":
        start, stop = (lambda: None), (lambda: None)
    elif tool.startswith("cProfile"):
        import cProfile

        pr = cProfile.Profile(builtins=tool.endswith("+builtins"))
        start, stop = pr.enable, pr.disable
    elif tool.startswith("pyrometer"):
        import pyrometer

        pr = pyrometer.Profile(builtins=tool.endswith("+builtins"))
        start, stop = pr.enable, pr.disable
    elif tool == "yappi":
        import yappi

        start, stop = (lambda: yappi.start(builtins=False)), yappi.stop
    else:
        raise SystemExit("unknown tool %s" % tool)
    t0 = time.perf_counter()
    start()
    fn(arg)
    stop()
    print(json.dumps({"s": time.perf_counter() - t0}))


def run_child(python, tool, work, scale):
    p = subprocess.run([python, HERE, "--child", tool, work, str(scale)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=900)
    if p.returncode != 0:
        return None, (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]
    return json.loads(p.stdout.strip().splitlines()[-1])["s"], None


def available(python, tool):
    mod = {"cProfile": "cProfile", "pyrometer": "pyrometer", "yappi": "yappi"}.get(tool.split()[0])
    if not mod:
        return None
    p = subprocess.run([python, "-c", "import %s" % mod], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    return None if p.returncode == 0 else "not installed (%s)" % (p.stderr.strip().splitlines() or ["?"])[-1]


def measure(python=sys.executable, rounds=5, scale=1.0, log=lambda *a: None):
    """Runs every workload under every tool in `python`; returns a dict."""
    info = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                          stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    tools, unavailable = [], {}
    for t in TOOLS:
        why = available(python, t)
        if why:
            unavailable[t] = why
        else:
            tools.append(t)
    out = {"python": info, "machine": platform.machine(), "rounds": rounds, "scale": scale,
           "unavailable": unavailable, "workloads": {}}
    for work in WORK:
        times = {t: [] for t in tools}
        errors = {}
        for rnd in range(rounds):
            order = tools[rnd % len(tools):] + tools[:rnd % len(tools)]
            for t in order:
                if t in errors:
                    continue
                s, err = run_child(python, t, work, scale)
                if err:
                    errors[t] = err
                else:
                    times[t].append((rnd, s))
        plain = dict(times["plain"])
        row = {"plain_s": statistics.median(plain.values()) if plain else None, "ratios": {}, "errors": errors}
        for t in tools:
            if t == "plain" or t in errors:
                continue
            r = [s / plain[i] for i, s in times[t] if i in plain]
            row["ratios"][t] = statistics.median(r) if r else None
        for pyro, cp in (("pyrometer", "cProfile"), ("pyrometer +builtins", "cProfile +builtins")):
            a, b = row["ratios"].get(pyro), row["ratios"].get(cp)
            row["share " + pyro] = (a - 1) / (b - 1) if a and b and b > 1.05 else None
        out["workloads"][work] = row
        log("  %s %s" % (work, " ".join("%s %.2fx" % (t, r) for t, r in row["ratios"].items() if r)))
    return out


def markdown(results):
    """One table for a list of measure() results (one per Python)."""
    lines = ["| python | workload | plain s | " + " | ".join(TOOLS[1:]) + " | pyrometer's share of cProfile's "
             "added overhead (target <= 0.33) |", "|---|---|---:|" + "---:|" * len(TOOLS[1:]) + "---|"]
    for res in results:
        for work, row in res["workloads"].items():
            cells = []
            for t in TOOLS[1:]:
                r = row["ratios"].get(t)
                cells.append("%.2fx" % r if r else ("failed" if t in row["errors"] else "n/a"))
            shares = []
            v = row.get("share pyrometer")
            shares.append("n/a (cProfile adds < 5%)" if v is None else
                          "%.2f %s" % (v, "MET" if v <= 1 / 3 else "**MISSED**"))
            v = row.get("share pyrometer +builtins")
            if v is not None:  # no target: builtins need the slower profile hook before 3.12
                shares.append("(+builtins: %.2f)" % v)
            lines.append("| %s | %s | %.3f | %s | %s |" % (res["python"], work, row["plain_s"] or 0, " | ".join(cells),
                                                           "; ".join(shares)))
    return "\n".join(lines) + "\n"


def main(argv):
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2], float(argv[3]))
        return 0
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    res = measure(sys.executable, a.rounds, a.scale, log=lambda m: print(m, file=sys.stderr))
    for t, why in res["unavailable"].items():
        print("%s: unavailable: %s" % (t, why))
    sys.stdout.write(markdown([res]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
