"""The sampler's stacks are true: read at one moment, never a pseudo-frame,
and on code of tiny functions the split of time between them is the one the
program really has."""
import json
import pstats
import subprocess
import sys

from conftest import all_stacks, profile_program, run_pyrometer

PSEUDO = ("<changing>", "<unknown>", "<truncated>", "<torn>")


def leaf_split(profile):
    """Samples of leaf_a and leaf_b as leaves called from mid()."""
    a = b = 0
    for _, stack, weight in all_stacks(profile):
        ns = [f[0].rsplit(".", 1)[-1] for f in stack]
        if len(ns) >= 2 and ns[-2] == "mid":
            a += weight * (ns[-1] == "leaf_a")
            b += weight * (ns[-1] == "leaf_b")
    return a, b


# The target: within 2 points of the program's own measure (see
# tiny_calls.py for how it is taken, in the calling pattern and with the
# arguments of the profiled loop: timed alone, the leaves came out 2-4 points
# off py-spy's blocking reads and ours alike, one way on 3.10, the other on
# 3.12).
TINY_SPLIT_POINTS = 2


def test_tiny_functions_split_like_the_truth_and_no_pseudo_frame(tmp_path):
    # Two threads of functions a microsecond or so long: a read from outside
    # catches such stacks mid-change in a sixth to a half of the ticks.  CPU mode: time a thread spends waiting for the GIL is wall
    # time of wherever it let the GIL go, which no unprofiled truth gives.
    # The split is a statistic of ~8000 samples against a truth measured on
    # a shared machine: a run off by more than 2 points is run again, up to
    # three times; torn stacks and pseudo-frames must be absent from each.
    seen = []
    for attempt in range(3):
        proc, p = profile_program(tmp_path, "tiny_calls.py", "3", options=["--rate", "4000", "--mode", "cpu"],
                                  output="out%d.pyro" % attempt)
        taken = p.meta["samples_taken"]
        assert p.meta["samples_torn"] <= 0.001 * taken, (p.meta["samples_torn"], taken)
        for _, stack, _ in all_stacks(p):
            assert not any(f[0] in PSEUDO for f in stack), stack
        spent_a, spent_b = map(float, proc.stdout.split())
        truth = 100 * spent_a / (spent_a + spent_b)
        a, b = leaf_split(p)
        assert a + b > 2000, (a, b)
        share = 100 * a / (a + b)
        seen.append((round(share, 1), round(truth, 1)))
        if abs(share - truth) <= TINY_SPLIT_POINTS:
            break
    else:
        raise AssertionError("leaf_a's share of the leaves (sampled, truth) %r" % seen)


def test_no_pseudo_frame_in_any_output(tmp_path):
    _, p = profile_program(tmp_path, "tiny_calls.py", "0.6", options=["--rate", "2000"])
    src = tmp_path / "out.pyro"
    texts = {}
    for fmt, name in (("collapsed", "o.collapsed"), ("speedscope", "o.speedscope.json"), ("html", "o.html"),
                      ("chrome", "o.trace.json"), ("gecko", "o.gecko.json"), ("text", "o.txt")):
        out = tmp_path / name
        r = run_pyrometer("convert", src, out, "--format", fmt)
        assert r.returncode == 0, r.stderr
        texts[fmt] = out.read_text("utf-8")
    json.loads(texts["speedscope"])
    out = tmp_path / "o.prof"
    r = run_pyrometer("convert", src, out, "--format", "pstats")
    assert r.returncode == 0, r.stderr
    stats = pstats.Stats(str(out))
    texts["pstats"] = "\n".join(str(k) for k in stats.stats)
    for fmt, text in texts.items():
        for pseudo in PSEUDO:
            assert pseudo not in text, (fmt, pseudo)
    assert "leaf_b" in texts["collapsed"]


def test_a_program_that_takes_every_free_realtime_signal_is_still_sampled(tmp_path):
    # The capture signal is a real-time signal nobody handles; a program
    # that handles them all leaves none, and the sampler reads every thread
    # from outside, as before (the program's handlers stay its own).  A
    # capture request already on its way at the moment the program takes
    # the signal over reaches the program's handler (the sampler checks the
    # handler before each request, but the two do not happen at one
    # instant): at most one, against 400 had it gone on sending.
    prog = tmp_path / "rt.py"
    prog.write_text(
        "import signal, time\n"
        "seen = []\n"
        "for s in range(signal.SIGRTMIN, signal.SIGRTMAX + 1):\n"
        "    signal.signal(s, lambda *a: seen.append(1))\n"
        "def spin(n):\n"
        "    return sum(i * i for i in range(n))\n"
        "end = time.perf_counter() + 0.4\n"
        "while time.perf_counter() < end:\n"
        "    spin(1000)\n"
        "print('handlers', len(seen), signal.getsignal(signal.SIGRTMAX).__name__)\n"
    )
    out = tmp_path / "rt.pyro"
    plain = subprocess.run([sys.executable, str(prog)], capture_output=True, timeout=60)
    r = run_pyrometer("run", "-o", out, prog)
    assert r.returncode == 0, r.stderr
    assert plain.stdout == b"handlers 0 <lambda>\n"
    assert r.stdout in (b"handlers 0 <lambda>\n", b"handlers 1 <lambda>\n"), r.stdout
    import pyrometer

    p = pyrometer.load(out)
    assert any(f[0].endswith("spin") for _, stack, _ in all_stacks(p) for f in stack)


def _split(profile):
    out = {"python": 0, "zlib": 0}
    for _, stack, weight in all_stacks(profile):
        ns = [f[0] for f in stack]
        if "python_work" in ns:
            out["python"] += weight
        elif "compress_work" in ns:
            out["zlib"] += weight
    total = sum(out.values())
    assert total > 200, out
    return {k: 100.0 * v / total for k, v in out.items()}


def test_gil_mode_counts_only_the_thread_holding_the_gil(tmp_path):
    # zlib compresses without the GIL: on the CPU as much as the Python
    # thread beside it (CPU mode), but in GIL mode nearly absent.
    _, cpu = profile_program(tmp_path, "gil_split.py", "1.2", options=["--mode", "cpu"], output="cpu.pyro")
    _, gil = profile_program(tmp_path, "gil_split.py", "1.2", options=["--mode", "gil"], output="gil.pyro")
    assert gil.meta["mode"] == "gil"
    by_cpu, by_gil = _split(cpu), _split(gil)
    assert by_cpu["zlib"] > 20, by_cpu
    assert by_gil["zlib"] < 5, by_gil
    assert by_gil["python"] > 90, by_gil


def test_samples_taken_while_the_collector_runs_are_marked(tmp_path):
    # Half the time in gc.collect() over a large object graph, half in
    # plain Python: the "gc" figure is about half of the GIL-holding
    # samples, and it falls under the function that collects.
    prog = tmp_path / "gc_half.py"
    prog.write_text(
        "import gc, time\n"
        "keep = [[{} for _ in range(10)] for _ in range(20000)]\n"
        "def collecting(end):\n"
        "    while time.perf_counter() < end:\n"
        "        gc.collect()\n"
        "def computing(end):\n"
        "    x = 0\n"
        "    while time.perf_counter() < end:\n"
        "        x = (x * 31 + 7) & 0xFFFF\n"
        "for _ in range(4):\n"
        "    collecting(time.perf_counter() + 0.15)\n"
        "    computing(time.perf_counter() + 0.15)\n"
    )
    out = tmp_path / "gc.pyro"
    r = run_pyrometer("run", "-o", out, prog)
    assert r.returncode == 0, r.stderr
    import pyrometer

    p = pyrometer.load(out)
    gc_in = {"collecting": 0, "computing": 0}
    for _, stack, weight in all_stacks(p, "gc"):
        for name in gc_in:
            if any(f[0] == name for f in stack):
                gc_in[name] += weight
    held = sum(w for _, _, w in all_stacks(p, "gil"))
    share = 100.0 * sum(gc_in.values()) / held
    assert 25 <= share <= 75, (share, gc_in, held)
    assert gc_in["computing"] <= 0.02 * held, gc_in
    r = run_pyrometer("convert", out, tmp_path / "gc.txt", "--format", "text")
    assert r.returncode == 0, r.stderr
    assert "GIL held " in (tmp_path / "gc.txt").read_text() and ", in GC " in (tmp_path / "gc.txt").read_text()


def test_gil_waiting_told_from_released(tmp_path):
    # Two pure-Python threads take turns with the GIL: each holds it about
    # half of the time and waits for it most of the rest (blocked on the
    # GIL's own futex, which the sampler's probe recognises); a thread
    # blocked on an Event released it and never waits for it.
    proc, p = profile_program(tmp_path, "gil_wait.py", "1.5")
    assert proc.returncode == 0, proc.stderr
    assert p.meta["gil_wait_probes"] > 50
    share = {}
    for t in p.threads:
        samples = sum(p.stacks("samples").get(t, {}).values())
        if samples:
            held = sum(p.stacks("gil").get(t, {}).values())
            wait = min(sum(p.stacks("gil_wait").get(t, {}).values()), samples - held)
            share[t.name] = (100.0 * held / samples, 100.0 * wait / samples)
    for name in ("spin-0", "spin-1"):
        held, wait = share[name]
        assert 25 < held < 75 and wait > 15 and held + wait > 60, share
    assert share["blocked"][1] < 5, share
    # The waiting is charged to the stack that waits: the spinners' loop.
    waits = {stack[-1][0] for _, stack, w in all_stacks(p, "gil_wait") if w and stack}
    assert "spin" in waits, waits
    # The report gives each thread's three shares.
    r = run_pyrometer("convert", tmp_path / "out.pyro", tmp_path / "out.txt")
    assert r.returncode == 0, r.stderr
    heads = [line for line in (tmp_path / "out.txt").read_text().splitlines() if line.startswith("Thread spin-")]
    assert len(heads) == 2 and all(", waiting " in h and ", released " in h for h in heads), heads
