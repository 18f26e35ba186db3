"""Import time, three ways, side by side: `python -X importtime` (the
interpreter's own timing), `pyrometer imports` (which reads it from a child
run), and an import hook (importlib._bootstrap._find_and_load wrapped in
Python, timing each module's find + load).  Runs are interleaved; per module
of at least 10 ms cumulative the medians and their ratios to plain
-X importtime are printed, with the share of modules within 10%.

    python benchmarks/imports_agreement.py [RUNS] [CODE]
"""
import os
import statistics
import subprocess
import sys
import tempfile

CODE = "import jsonschema, tornado.web, selenium.webdriver\n"
HOOK = r'''
import importlib._bootstrap as b, time, sys
_orig, _t = b._find_and_load, {}
def _find_and_load(name, import_):
    t0 = time.perf_counter_ns()
    try:
        return _orig(name, import_)
    finally:
        _t[name] = _t.get(name, 0) + time.perf_counter_ns() - t0
b._find_and_load = _find_and_load
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), {"__name__": "__main__"})
b._find_and_load = _orig
sys.stderr.write("".join("hook: %d %s\n" % (v, k) for k, v in _t.items()))
'''


def parse_importtime(text):
    """{module: cumulative ns} (a module imported twice: summed)."""
    out = {}
    for line in text.splitlines():
        if line.startswith("import time:") and "|" in line:
            parts = line[len("import time:"):].split("|")
            try:
                cum = int(parts[1])
            except ValueError:
                continue
            name = parts[2].strip()
            out[name] = out.get(name, 0) + cum * 1000
    return out


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    code = sys.argv[2] if len(sys.argv) > 2 else CODE
    d = tempfile.mkdtemp()
    prog = os.path.join(d, "prog.py")
    with open(prog, "w") as f:
        f.write(code)
    hook = os.path.join(d, "hook.py")
    with open(hook, "w") as f:
        f.write(HOOK)
    plain, pyro, hooked = [], [], []
    for i in range(runs):
        r = subprocess.run([sys.executable, "-X", "importtime", prog], capture_output=True, text=True)
        plain.append(parse_importtime(r.stderr))
        out = os.path.join(d, "p.importtime")
        subprocess.run([sys.executable, "-m", "pyrometer", "imports", "-o", out, prog], capture_output=True)
        with open(out) as f:
            pyro.append(parse_importtime(f.read()))
        r = subprocess.run([sys.executable, hook, prog], capture_output=True, text=True)
        hooked.append(dict((l.split()[2], int(l.split()[1])) for l in r.stderr.splitlines() if l.startswith("hook:")))
    med = lambda side, m: statistics.median(run.get(m, 0) for run in side)
    mods = sorted((m for m in plain[0] if med(plain, m) >= 10e6), key=lambda m: -med(plain, m))
    print("%-28s %12s %12s %7s %12s %7s" % ("module (>= 10 ms)", "importtime", "pyrometer", "ratio", "hook", "ratio"))
    within = {"pyrometer": 0, "hook": 0}
    for m in mods:
        p, y, h = med(plain, m), med(pyro, m), med(hooked, m)
        within["pyrometer"] += abs(y / p - 1) <= 0.10
        within["hook"] += abs(h / p - 1) <= 0.10
        print("%-28s %10.1fms %10.1fms %7.3f %10.1fms %7.3f" % (m, p / 1e6, y / 1e6, y / p, h / 1e6, h / p))
    print("within 10%% of -X importtime (medians of %d interleaved runs): pyrometer %d/%d, hook %d/%d"
          % (runs, within["pyrometer"], len(mods), within["hook"], len(mods)))
    ratios = lambda side: statistics.median(med(side, m) / med(plain, m) for m in mods)
    print("median ratio to -X importtime over these modules: pyrometer %.3f, hook %.3f"
          % (ratios(pyro), ratios(hooked)))
    print("modules seen in the first run: -X importtime %d, pyrometer %d, hook %d (the hook misses what was "
          "imported before it was installed)" % (len(plain[0]), len(pyro[0]), len(hooked[0])))


if __name__ == "__main__":
    main()
