"""The profilers scored, one adapter each: how to run a program under it
(writing its profile to a file) and how to read that file back as
{region function: inclusive time or samples}.

Inclusive means: for stack samples, the weight of every stack that contains
the region's frame, counted once per stack; for deterministic profilers, the
function's cumulative time.  Only the region functions are read; shares are
taken over the regions, so start-up, the harness loop in the program and
other threads do not count.

Each adapter also says which ground truth it is scored against (its clock:
"wall" or "cpu") and whether it can see regions outside the main thread.
"""
import json
import os
import pstats

RATE_HZ = 1000


class Ctx:
    """Where the profiled programs run: a venv's interpreter and its bin/."""

    def __init__(self, python):
        # Absolute (runs happen in a temporary directory), not resolved: a
        # venv's python is a symlink whose location makes it the venv's.
        self.python = os.path.abspath(python)
        self.bin = os.path.dirname(self.python)
        env = dict(os.environ)
        # The same start-up for plain and profiled runs, whatever the caller has set.
        for name in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONUNBUFFERED", "PYTHONHOME", "PYTHONINSPECT",
                     "PYTHONTRACEMALLOC", "PYTHONDEVMODE", "PYTHONPROFILEIMPORTTIME", "VIRTUAL_ENV"):
            env.pop(name, None)
        env["PYTHONHASHSEED"] = "0"
        env["PATH"] = self.bin + os.pathsep + env.get("PATH", "")
        self.env = env

    def tool(self, name):
        return os.path.join(self.bin, name)


# ---- readers -------------------------------------------------------------------


def _func_of_paren(frame):
    """'region_calls (/path/x.py:4)' -> 'region_calls' (pyrometer, py-spy,
    viztracer)."""
    return frame.split(" (", 1)[0].strip()


def read_collapsed(ctx, path, regions):
    """Collapsed stacks ('frame;frame;... count' per line): pyrometer's
    .collapsed and py-spy's raw output."""
    values = dict.fromkeys(regions, 0.0)
    total = 0.0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or " " not in line:
                continue
            stack, _, count = line.rpartition(" ")
            try:
                w = float(count)
            except ValueError:
                continue
            total += w
            for name in {_func_of_paren(fr) for fr in stack.split(";")} & values.keys():
                values[name] += w
    return values, {"weight_total": total}


def read_tachyon(ctx, path, regions):
    """CPython 3.15's sampler (--collapsed): 'tid:N;file:function:line;...
    count' per line."""
    values = dict.fromkeys(regions, 0.0)
    total = 0.0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            try:
                w = float(count)
            except ValueError:
                continue
            total += w
            names = {fr.rsplit(":", 2)[1] for fr in stack.split(";") if fr.count(":") >= 2}
            for name in names & values.keys():
                values[name] += w
    return values, {"weight_total": total}


_PYRO_READER = r"""
import json, sys
import pyrometer
path, regions = sys.argv[1], json.loads(sys.argv[2])
p = pyrometer.load(path)
metric = "cpu" if p.meta.get("mode") == "cpu" else "wall"
out = {"metric": metric, "values": dict.fromkeys(regions, 0), "samples": dict.fromkeys(regions, 0)}
for key, into in ((metric, "values"), ("samples", "samples")):
    for stacks in p.stacks(key).values():
        for stack, w in stacks.items():
            for name in {f[0] for f in stack} & set(regions):
                out[into][name] += w
out["meta"] = {k: v for k, v in p.meta.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
print(json.dumps(out))
"""


def read_pyro(ctx, path, regions):
    """pyrometer's .pyro file, read with the venv's own pyrometer (its public
    load() API): inclusive values of the profile's time metric (wall or CPU
    nanoseconds: what pyrometer's own report shows), and sample counts and
    the sampler's figures (samples taken/expected, torn) for reference."""
    import subprocess

    p = subprocess.run([ctx.python, "-c", _PYRO_READER, path, json.dumps(regions)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=ctx.env, timeout=300)
    if p.returncode:
        raise RuntimeError((p.stderr.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1])
    data = json.loads(p.stdout.decode().strip().splitlines()[-1])
    values = {r: float(v) for r, v in data["values"].items()}
    meta = data["meta"]
    return values, {"metric": data["metric"], "samples": data["samples"],
                    "samples_taken": meta.get("samples_taken"), "samples_expected": meta.get("samples_expected"),
                    "samples_torn": meta.get("samples_torn"), "sampler_cpu_s": meta.get("sampler_cpu_s")}


def read_austin(ctx, path, regions):
    """austin's text format: 'P<pid>;T<tid>;file:func:line;... metric' (the
    metric is the time, wall or CPU in µs, since the previous sample)."""
    values = dict.fromkeys(regions, 0.0)
    total = 0.0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("#") or " " not in line:
                continue
            stack, _, metric = line.rstrip("\n").rpartition(" ")
            try:
                w = float(metric.split(",")[0])
            except ValueError:
                continue
            total += w
            names = set()
            for fr in stack.split(";")[2:]:
                parts = fr.rsplit(":", 2)
                if len(parts) == 3:
                    names.add(parts[1])
            for name in names & values.keys():
                values[name] += w
    return values, {"weight_total": total}


def read_pyisession(ctx, path, regions):
    """pyinstrument's session file: frame_records = [[stack, seconds], ...],
    each frame 'function\\0file\\0line...'."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    values = dict.fromkeys(regions, 0.0)
    total = 0.0
    for stack, seconds in data.get("frame_records", []):
        total += seconds
        for name in {fr.split("\x00", 1)[0] for fr in stack} & values.keys():
            values[name] += seconds
    return values, {"weight_total": total, "samples": data.get("sample_count")}


def read_scalene(ctx, path, regions):
    """scalene's JSON profile: stacks = [[frames, {python_time, c_time,
    cpu_samples, ...}], ...], each frame 'file func:line;'.  The weight is
    cpu_samples (python + native time, seconds).  Its stack records hold
    only the main thread; when no region is in them (the regions run in other
    threads), its per-function table is used instead: python + native
    percent, the function's own time, which is its inclusive time only for
    regions that call nothing (true of the threads scenario)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    values = dict.fromkeys(regions, 0.0)
    total = 0.0
    for frames, m in data.get("stacks", []):
        w = float(m.get("cpu_samples", 0.0))
        total += w
        names = {fr.rstrip(";").rsplit(" ", 1)[-1].rsplit(":", 1)[0] for fr in frames}
        for name in names & values.keys():
            values[name] += w
    source = "stacks"
    if not any(values.values()):
        source = "functions"
        for fdata in data.get("files", {}).values():
            for fn in fdata.get("functions", []):
                if fn.get("line") in values:
                    values[fn["line"]] += fn.get("n_cpu_percent_python", 0.0) + fn.get("n_cpu_percent_c", 0.0)
    return values, {"weight_total": total, "source": source}


def read_viztracer(ctx, path, regions):
    """viztracer's Chrome trace: complete events ('ph': 'X') named
    'func (file:line)' with their duration in µs, summed per region."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    values = dict.fromkeys(regions, 0.0)
    for ev in data.get("traceEvents", []):
        if ev.get("ph") == "X":
            name = _func_of_paren(ev.get("name", ""))
            if name in values:
                values[name] += ev.get("dur", 0.0) * 1e-6
    return values, {"overflow": (data.get("viztracer_metadata") or {}).get("overflow")}


def read_pstats(ctx, path, regions):
    """A pstats file (cProfile, yappi, pyrometer calls mode): the regions'
    cumulative time, and for each region the number of Python-function calls
    made beneath it (used for the overhead compensation).  The programs give
    every region its own helpers, so the helpers reachable from a region
    through the call graph are its own."""
    st = pstats.Stats(path).stats
    callees = {}
    for func, (_cc, _nc, _tt, _ct, callers) in st.items():
        for caller in callers:
            callees.setdefault(caller, []).append(func)
    values = dict.fromkeys(regions, 0.0)
    beneath = dict.fromkeys(regions, 0)
    for func, (_cc, _nc, _tt, ct, _callers) in st.items():
        if func[0] == "~" or func[2] not in values:
            continue
        values[func[2]] += ct
        seen = {func}
        todo = list(callees.get(func, ()))
        while todo:
            g = todo.pop()
            if g in seen:
                continue
            seen.add(g)
            if _is_python(g):
                beneath[func[2]] += st[g][1]
            todo.extend(callees.get(g, ()))
    return values, {"calls_beneath": beneath}


def _is_python(func):
    """A pstats key of a Python function (not a builtin: cProfile files
    those under '~', yappi under a pseudo file name)."""
    fname, _line, name = func
    return fname != "~" and not name.startswith("<built-in") and not name.startswith("<method")


# ---- the table -------------------------------------------------------------------


class Adapter:
    """name: column key; label: column title; kind: sampling or deterministic;
    clock: the truth it is scored against; ext: its output file's extension;
    build(ctx, script, args, out_path) -> argv; read(path, regions) ->
    (values, info); needs: ("module", name) or ("tool", name) that must be
    in the venv; dist: the distribution whose version is shown;
    main_thread_only: it cannot see regions run by other threads;
    clock_variant: a second clock of a tool already in the table, run only
    where the two truths differ; compensate: subtract the measured per-call
    cost (deterministic peers); self_compensating: it subtracts its own
    (pyrometer's calls mode), so its profile is not comparable with the
    truth measured inside the profiled run."""

    def __init__(self, name, label, kind, clock, ext, build, read, needs, dist, settings,
                 main_thread_only=False, clock_variant=False, compensate=False, self_compensating=False,
                 default=True):
        self.name = name
        self.label = label
        self.kind = kind
        self.clock = clock
        self.ext = ext
        self.build = build
        self.read = read
        self.needs = needs
        self.dist = dist
        self.settings = settings
        self.main_thread_only = main_thread_only
        self.clock_variant = clock_variant
        self.compensate = compensate
        self.self_compensating = self_compensating
        self.default = default

    def applies(self, scenario):
        """None when it runs on that scenario, else why not."""
        if self.main_thread_only and scenario.threads:
            return "n/a: profiles only the main thread; the regions run in other threads"
        if self.clock_variant and not scenario.cpu_differs:
            return "skipped: CPU and wall truth coincide here (single busy thread)"
        return None


def _pyro(*extra):
    return lambda c, s, a, o: [c.python, "-m", "pyrometer", "run", "--rate", str(RATE_HZ)] + list(extra) + \
        ["-o", o, s] + a


def _attached(tool):
    """A profiler that reads the program from outside, attached by PID
    (attach_run.py starts the program, attaches, then lets it run)."""
    wrapper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attach_run.py")
    return lambda c, s, a, o: [c.python, wrapper, tool, o, str(RATE_HZ), c.python, s] + a


def _pyspy(*extra):
    return lambda c, s, a, o: [c.tool("py-spy"), "record", "-r", str(RATE_HZ), "-f", "raw"] + list(extra) + \
        ["-o", o, "--", c.python, s] + a


ADAPTERS = [
    Adapter("pyrometer", "pyrometer", "sampling", "wall", ".pyro", _pyro(), read_pyro,
            ("module", "pyrometer"), "pyrometer",
            "pyrometer run --rate 1000 -o out.pyro (wall mode; weight: its wall-time metric)"),
    Adapter("pyrometer-cpu", "pyrometer cpu", "sampling", "cpu", ".pyro", _pyro("--mode", "cpu"),
            read_pyro, ("module", "pyrometer"), "pyrometer",
            "pyrometer run --rate 1000 --mode cpu -o out.pyro (weight: its CPU-time metric)"),
    Adapter("pyrometer-calls", "pyrometer calls", "deterministic", "wall", ".prof",
            lambda c, s, a, o: [c.python, "-m", "pyrometer", "run", "--mode", "calls", "-o", o, s] + a,
            read_pstats, ("module", "pyrometer"), "pyrometer",
            "pyrometer run --mode calls -o out.prof (subtracts its own measured per-call cost)",
            self_compensating=True),
    Adapter("cProfile", "cProfile", "deterministic", "wall", ".prof",
            lambda c, s, a, o: [c.python, "-m", "cProfile", "-o", o, s] + a,
            read_pstats, ("module", "cProfile"), None,
            "python -m cProfile -o out.prof; per-call cost compensated here", main_thread_only=True,
            compensate=True),
    Adapter("yappi", "yappi cpu", "deterministic", "cpu", ".prof",
            lambda c, s, a, o: [c.python, "-m", "yappi", "-o", o, "-f", "pstat", s] + a,
            read_pstats, ("module", "yappi"), "yappi",
            "python -m yappi -o out.prof -f pstat (its default CPU clock, all threads); per-call cost "
            "compensated here", compensate=True),
    Adapter("yappi-wall", "yappi wall", "deterministic", "wall", ".prof",
            lambda c, s, a, o: [c.python, "-m", "yappi", "-c", "wall", "-o", o, "-f", "pstat", s] + a,
            read_pstats, ("module", "yappi"), "yappi",
            "python -m yappi -c wall -o out.prof -f pstat; per-call cost compensated here",
            clock_variant=True, compensate=True),
    Adapter("pyinstrument", "pyinstrument", "sampling", "wall", ".pyisession",
            lambda c, s, a, o: [c.python, "-m", "pyinstrument", "-i", "0.001", "-r", "pyisession", "-o", o, s] + a,
            read_pyisession, ("module", "pyinstrument"), "pyinstrument",
            "python -m pyinstrument -i 0.001 -r pyisession -o out.pyisession (main thread)",
            main_thread_only=True),
    Adapter("py-spy", "py-spy", "sampling", "cpu", ".txt", _pyspy(), read_collapsed, ("tool", "py-spy"), "py-spy",
            "py-spy record -r 1000 -f raw (its default: pauses the process per sample, keeps only threads "
            "on the CPU, so scored against CPU truth)"),
    Adapter("py-spy-idle", "py-spy idle", "sampling", "wall", ".txt", _pyspy("--idle"), read_collapsed,
            ("tool", "py-spy"), "py-spy", "py-spy record -r 1000 -f raw --idle (wall time)", clock_variant=True),
    Adapter("py-spy-nb", "py-spy nonblocking", "sampling", "wall", ".txt", _pyspy("--nonblocking", "--idle"),
            read_collapsed, ("tool", "py-spy"), "py-spy",
            "py-spy record -r 1000 -f raw --nonblocking --idle (no pause, wall time, like pyrometer)"),
    Adapter("pyrometer-attach", "pyrometer attach", "sampling", "wall", ".pyro", _attached("pyrometer"),
            read_pyro, ("module", "pyrometer"), "pyrometer",
            "pyrometer attach PID --rate 1000 -o out.pyro (from another process; wall mode)", default=False),
    Adapter("py-spy-attach", "py-spy --pid", "sampling", "wall", ".txt", _attached("py-spy"), read_collapsed,
            ("tool", "py-spy"), "py-spy",
            "py-spy record --pid PID --nonblocking --idle -r 1000 -f raw (from another process, wall time)",
            default=False),
    Adapter("tachyon", "profiling.sampling", "sampling", "wall", ".txt",
            lambda c, s, a, o: [c.python, "-m", "profiling.sampling", "run", "-a", "-r", "1khz", "--collapsed",
                                "-o", o, s] + a,
            read_tachyon, ("module", "profiling.sampling"), None,
            "python -m profiling.sampling run -a -r 1khz --collapsed (3.15+: CPython's own sampler, every "
            "thread, wall time)"),
    Adapter("austin", "austin", "sampling", "wall", ".austin",
            lambda c, s, a, o: [c.tool("austin"), "-i", "1ms", "-o", o, c.python, s] + a,
            read_austin, ("tool", "austin"), "austin-dist", "austin -i 1ms -o out.austin (wall time, "
            "weighted by its time metric)"),
    Adapter("austin-cpu", "austin cpu", "sampling", "cpu", ".austin",
            lambda c, s, a, o: [c.tool("austin"), "-s", "-i", "1ms", "-o", o, c.python, s] + a,
            read_austin, ("tool", "austin"), "austin-dist", "austin -s -i 1ms (sleepless: CPU time)",
            clock_variant=True),
    Adapter("scalene", "scalene", "sampling", "wall", ".json",
            lambda c, s, a, o: [c.python, "-m", "scalene", "run", "--cpu-only", "--cpu-sampling-rate", "0.001",
                                "-o", o, s, "---"] + a,
            read_scalene, ("module", "scalene"), "scalene",
            "scalene run --cpu-only --cpu-sampling-rate 0.001 -o out.json (its default real-time timer: "
            "wall time; weight cpu_samples of its stacks)"),
    Adapter("viztracer", "viztracer", "deterministic", "wall", ".json",
            lambda c, s, a, o: [c.tool("viztracer"), "--quiet", "--min_duration", "20", "-o", o, s] + a,
            read_viztracer, ("tool", "viztracer"), "viztracer",
            "viztracer --quiet --min_duration 20 -o out.json (calls under 20 µs are not kept, so the trace "
            "stays small; no call counts, so not compensated)"),
]

BY_NAME = {a.name: a for a in ADAPTERS}
SMOKE = ["pyrometer", "cProfile"]


def select(names=None):
    if not names:
        return [a for a in ADAPTERS if a.default]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError("unknown profiler(s) %s; known: %s" % (", ".join(unknown), ", ".join(BY_NAME)))
    return [a for a in ADAPTERS if a.name in names]


_PROBE = r"""
import importlib.metadata as md, importlib.util, json, os, sys
out = {}
for name, kind, what, dist in json.loads(sys.argv[1]):
    if kind == "module":
        try:  # a dotted name whose parent is missing raises
            ok = importlib.util.find_spec(what) is not None
        except ImportError:
            ok = False
        why = None if ok else "module %s is not installed in this venv" % what
    else:
        path = os.path.join(os.path.dirname(sys.executable), what)
        ok = os.access(path, os.X_OK)
        why = None if ok else "%s is not installed in this venv" % what
    version = None
    if dist:
        try:
            version = md.version(dist)
        except Exception:
            pass
    if ok and what == "pyrometer":
        try:
            from pyrometer import _native
            sup, reason = _native.supported()
            if not sup:
                ok, why = False, "not supported: %s" % reason
        except Exception as exc:
            ok, why = False, "import failed: %s: %s" % (type(exc).__name__, exc)
    out[name] = {"ok": ok, "reason": why, "version": version if dist else "stdlib"}
print(json.dumps(out))
"""


def availability(ctx, adapters, capture):
    """{name: {"status": "ok"|"unavailable", "reason", "version"}}: what is
    installed in the venv (nothing is installed here)."""
    spec = [[a.name, a.needs[0], a.needs[1], a.dist] for a in adapters]
    rc, out, err = capture([ctx.python, "-c", _PROBE, json.dumps(spec)], env=ctx.env, timeout=120)
    if rc:
        reason = "cannot probe the venv: %s" % (err.strip().splitlines() or ["?"])[-1]
        return {a.name: {"status": "unavailable", "reason": reason, "version": None} for a in adapters}
    found = json.loads(out.strip().splitlines()[-1])
    res = {}
    for a in adapters:
        f = found[a.name]
        res[a.name] = {"status": "ok" if f["ok"] else "unavailable", "reason": f["reason"],
                       "version": f["version"]}
    return res
