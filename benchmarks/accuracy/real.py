"""The sampler's truth on real programs from PyPI: each function's own time
(self) as pyrometer's sampler reports it, beside py-spy's blocking mode (it
pauses the program for every sample, so its stacks are never torn),
pyinstrument and pyrometer's calls mode, on the programs of
`../deterministic/real` (Jinja2, docutils, pyflakes, Markdown).

    python benchmarks/accuracy/real.py --venv-python .venv-3.12/bin/python [--runs 3] [--busy 1]

The venv needs the `bench` extra (`pip install '.[bench]'`).  Runs are
interleaved (round by round, the profilers in a new order each round); a
function's share is its self time over the time under the program's
`main()`, the median of the runs.  The table lists the functions the
references (py-spy, pyinstrument) put highest, and for each program the worst
gap in points between pyrometer and py-spy on them, beside the gap between
the two references themselves.  Neither reference is the truth: py-spy's
pauses and pyinstrument's per-call hook each slow some code more than other
code.  Where a program can time one of its functions itself without
changing its run (pyflakes' `ast.parse`, a few hundred calls), that share
is measured unprofiled too, in the same rounds.  Also shown: pyrometer's
torn samples, samples taken against expected, and any pseudo-frame in its
profile (a frame that is not a function, e.g. `<unknown>`).  `--busy N`
runs N spinning processes beside it for the whole run: a free core and a
loaded machine hide different defects.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(os.path.dirname(HERE), "deterministic", "real")
PROGRAMS = {"templates": 1200, "docs": 12, "lint": 6, "markdown_html": 20}  # sizes: ~1-2 s of work each
PROFILERS = ("pyrometer", "py-spy", "pyinstrument", "calls")
REFERENCES = ("py-spy", "pyinstrument")
# Names CPython itself gives code objects; any other name in angle brackets is not a function.
CODE_NAMES = {"<module>", "<lambda>", "<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>", "<string>"}

# Run in the venv: self time per (function, file) under the program's main(),
# and the sampler's figures.  Names are the last part of a qualified name, so
# that every tool's names meet (py-spy and pstats give the code's own name).
_PYRO = r"""
import json, os, sys
import pyrometer
p = pyrometer.load(sys.argv[1])
program = sys.argv[2]
metric = "cpu" if p.meta.get("mode") == "cpu" else "wall"
own, total, pseudo = {}, 0, set()
for stacks in p.stacks(metric).values():
    for stack, w in stacks.items():
        for name, file, _line in stack:
            if name.startswith("<") and name not in json.loads(sys.argv[3]):
                pseudo.add(name)
        at = [i for i, f in enumerate(stack) if f[0] == "main" and os.path.basename(f[1]) == program]
        if not at:
            continue
        total += w
        key = stack[-1][0].rsplit(".", 1)[-1] + " " + os.path.basename(stack[-1][1])
        own[key] = own.get(key, 0) + w
meta = {k: p.meta.get(k) for k in ("samples_taken", "samples_expected", "samples_torn")}
print(json.dumps({"own": own, "total": total, "pseudo": sorted(pseudo), "meta": meta}))
"""


# Functions whose share a program can measure of itself, unprofiled: called
# rarely enough (pyflakes parses each file once) that a timing wrapper around
# them costs nothing measurable.  program -> (module, attribute, its key).
TRUTH = {"lint": ("ast", "parse", "parse ast.py")}
_TRUTH = r"""
import contextlib, importlib, importlib.util, json, os, sys, time
path, size, modname, attr = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
spec = importlib.util.spec_from_file_location("program", path)
program = importlib.util.module_from_spec(spec)
spec.loader.exec_module(program)
target = importlib.import_module(modname)
inner, spent = getattr(target, attr), [0.0]
def timed(*a, **k):
    t = time.perf_counter()
    try:
        return inner(*a, **k)
    finally:
        spent[0] += time.perf_counter() - t
setattr(target, attr, timed)
with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
    t = time.perf_counter()
    program.main(size)
    total = time.perf_counter() - t
print(json.dumps(100.0 * spent[0] / total))
"""


def key(name, file):
    return name.rsplit(".", 1)[-1] + " " + os.path.basename(file)


def shares(own, total):
    return {k: 100.0 * v / total for k, v in own.items()} if total else {}


def read_collapsed(path, program):
    """py-spy's raw output: 'frame;frame;... count', each frame
    'name (file:line)'."""
    own, total = {}, 0.0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            frames = []
            for fr in stack.split(";"):
                name, _, rest = fr.partition(" (")
                frames.append((name.strip(), rest.rsplit(":", 1)[0]))
            if not any(n == "main" and os.path.basename(fl) == program for n, fl in frames):
                continue
            w = float(count)
            total += w
            k = key(*frames[-1])
            own[k] = own.get(k, 0.0) + w
    return shares(own, total)


def read_pyisession(path, program):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    own, total = {}, 0.0
    for stack, seconds in data.get("frame_records", []):
        frames = [tuple(fr.split("\x00")[:2]) for fr in stack]
        frames = [(f[0], f[1] if len(f) > 1 else "") for f in frames]
        # Its frames of C functions: their time is their Python caller's own,
        # as the stack samplers (no native frames) and pstats' callers see it.
        while len(frames) > 1 and frames[-1][1].startswith("<built-in"):
            frames.pop()
        if not any(n == "main" and os.path.basename(fl) == program for n, fl in frames):
            continue
        total += seconds
        k = key(*frames[-1])
        own[k] = own.get(k, 0.0) + seconds
    return shares(own, total)


def read_pstats(path, program):
    """Calls mode (it subtracts its own per-call cost): each function's
    tottime over main()'s cumulative time."""
    import pstats

    st = pstats.Stats(path).stats
    main = [v[3] for (fl, _ln, name), v in st.items() if name == "main" and os.path.basename(fl) == program]
    own = {}
    for (fl, _ln, name), (_cc, _nc, tt, _ct, callers) in st.items():
        if fl == "~":  # a C function ('<built-in method ...>'): its time is its callers' own
            for (cfl, _cln, cname), by in callers.items():
                if cfl != "~" and isinstance(by, tuple):
                    own[key(cname, cfl)] = own.get(key(cname, cfl), 0.0) + by[2]
            continue
        own[key(name, fl)] = own.get(key(name, fl), 0.0) + tt
    return shares(own, sum(main))


def run_one(python, profiler, program, size, rate, work, env):
    script = os.path.join(REAL, program + ".py")
    out = os.path.join(work, "%s-%s" % (program, profiler))
    bindir = os.path.dirname(python)
    if profiler == "pyrometer":
        argv = [python, "-m", "pyrometer", "run", "--rate", str(rate), "-o", out + ".pyro", script, str(size)]
    elif profiler == "py-spy":
        argv = [os.path.join(bindir, "py-spy"), "record", "-r", str(rate), "-f", "raw", "-o", out + ".txt", "--",
                python, script, str(size)]
    elif profiler == "pyinstrument":
        argv = [python, "-m", "pyinstrument", "-i", str(1.0 / rate), "-r", "pyisession", "-o",
                out + ".pyisession", script, str(size)]
    elif profiler == "truth":
        module, attr, k = TRUTH[program]
        r = subprocess.run([python, "-c", _TRUTH, script, str(size), module, attr], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=600)
        if r.returncode:
            raise RuntimeError("truth on %s: %s" % (program, r.stderr.decode("utf-8", "replace")[-400:]))
        return {k: json.loads(r.stdout)}, {}
    else:
        argv = [python, "-m", "pyrometer", "run", "--mode", "calls", "-o", out + ".prof", script, str(size)]
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=600)
    if r.returncode:
        raise RuntimeError("%s on %s: %s" % (profiler, program, r.stderr.decode("utf-8", "replace")[-400:]))
    name = program + ".py"
    if profiler == "pyrometer":
        p = subprocess.run([python, "-c", _PYRO, out + ".pyro", name, json.dumps(sorted(CODE_NAMES))],
                           stdout=subprocess.PIPE, env=env, check=True, timeout=300)
        data = json.loads(p.stdout)
        return shares(data["own"], data["total"]), {"meta": data["meta"], "pseudo": data["pseudo"]}
    if profiler == "py-spy":
        return read_collapsed(out + ".txt", name), {}
    if profiler == "pyinstrument":
        return read_pyisession(out + ".pyisession", name), {}
    return read_pstats(out + ".prof", name), {}


def median_shares(runs):
    keys = set().union(*runs) if runs else set()
    return {k: statistics.median(r.get(k, 0.0) for r in runs) for k in keys}


def report(results, top):
    lines = []
    worst_all = []
    for program, per in results.items():
        med = {prof: median_shares(per[prof]["shares"]) for prof in per}
        refs = [p for p in REFERENCES if p in med]
        rank = {}
        for p in refs:
            for k, v in med[p].items():
                rank[k] = max(rank.get(k, 0.0), v)
        keys = sorted(rank, key=rank.get, reverse=True)[:top]
        cols = [p for p in PROFILERS if p in med]
        lines.append("\n### %s\n" % program)
        lines.append("| function (self, % of main) | " + " | ".join(cols) + " |")
        lines.append("|---|" + "---:|" * len(cols))
        for k in keys:
            lines.append("| %s | " % k + " | ".join("%.1f" % med[p].get(k, 0.0) for p in cols) + " |")
        gap = max((abs(med["pyrometer"].get(k, 0.0) - med["py-spy"].get(k, 0.0)) for k in keys), default=0.0)
        ref_gap = max((abs(med["pyinstrument"].get(k, 0.0) - med["py-spy"].get(k, 0.0)) for k in keys),
                      default=0.0) if "pyinstrument" in med else float("nan")
        calls_gap = max((abs(med["pyrometer"].get(k, 0.0) - med["calls"].get(k, 0.0)) for k in keys),
                        default=0.0) if "calls" in med else float("nan")
        metas = per["pyrometer"]["info"]
        torn = sum(m["meta"]["samples_torn"] or 0 for m in metas)
        taken = sum(m["meta"]["samples_taken"] or 0 for m in metas)
        expected = sum(m["meta"]["samples_expected"] or 0 for m in metas)
        pseudo = sorted(set().union(*(m["pseudo"] for m in metas)))
        lines.append("")
        lines.append("worst gap on these functions, pyrometer vs py-spy: **%.1f** points (pyinstrument vs py-spy: "
                     "%.1f; pyrometer vs calls mode: %.1f); pyrometer: torn %d of %d samples (%.2f%%), taken %.1f%% "
                     "of expected, pseudo-frames: %s"
                     % (gap, ref_gap, calls_gap, torn, taken, 100.0 * torn / max(taken, 1),
                        100.0 * taken / max(expected, 1), ", ".join(pseudo) or "none"))
        if per.get("truth", {}).get("shares"):
            k = TRUTH[program][2]
            lines.append("")
            lines.append("measured by the program itself, unprofiled: `%s` %.1f%% of main; profiled: %s"
                         % (k, med["truth"][k], ", ".join("%s %.1f" % (p, med[p].get(k, 0.0)) for p in cols)))
        worst_all.append((program, gap, ref_gap, calls_gap, torn, taken))
    lines.append("\n| program | pyrometer vs py-spy, worst (points) | pyinstrument vs py-spy | pyrometer vs calls mode "
                 "| torn / samples |")
    lines.append("|---|---:|---:|---:|---:|")
    for program, gap, ref_gap, calls_gap, torn, taken in worst_all:
        lines.append("| %s | %.1f | %.1f | %.1f | %d / %d |" % (program, gap, ref_gap, calls_gap, torn, taken))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--venv-python", required=True, help="a venv's python with pyrometer and the bench extra")
    ap.add_argument("--programs", nargs="+", default=list(PROGRAMS), choices=list(PROGRAMS))
    ap.add_argument("--profilers", nargs="+", default=list(PROFILERS), choices=list(PROFILERS))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rate", type=int, default=1000, help="samples a second, every sampler (default 1000)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies each program's size")
    ap.add_argument("--top", type=int, default=8, help="functions shown per program (default 8)")
    ap.add_argument("--busy", type=int, default=0, help="spinning processes beside the runs (default 0)")
    ap.add_argument("--json", help="write the raw shares here")
    a = ap.parse_args(argv)
    if "pyrometer" not in a.profilers or "py-spy" not in a.profilers:
        ap.error("--profilers needs pyrometer and py-spy (the comparison is between them)")
    python = os.path.abspath(a.venv_python)
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONPATH", None)
    busy = [subprocess.Popen([python, "-c", "while True: pass"]) for _ in range(a.busy)]
    results = {p: {prof: {"shares": [], "info": []} for prof in list(a.profilers) + ["truth"]} for p in a.programs}
    try:
        with tempfile.TemporaryDirectory() as work:
            for rnd in range(a.runs):
                for program in a.programs:
                    order = list(a.profilers) + (["truth"] if program in TRUTH else [])
                    random.Random(rnd * 131 + len(program)).shuffle(order)
                    for prof in order:
                        size = max(1, int(PROGRAMS[program] * a.scale))
                        s, info = run_one(python, prof, program, size, a.rate, work, env)
                        results[program][prof]["shares"].append(s)
                        results[program][prof]["info"].append(info)
                print("round %d of %d done" % (rnd + 1, a.runs), file=sys.stderr)
    finally:
        for b in busy:
            b.kill()
            b.wait()
    version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"], stdout=subprocess.PIPE,
                             text=True).stdout.strip()
    print("CPython %s, %d run(s), %d Hz, %d busy process(es) beside; self time as %% of the time under main()"
          % (version, a.runs, a.rate, a.busy))
    print(report(results, a.top))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
