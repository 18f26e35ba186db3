"""The accuracy scenarios: which program, which regions, which target split.

Each scenario runs one program of programs/ whose regions are top-level
functions named region_*.  The program times every region call itself
(wall clock and the running thread's CPU clock) and prints the totals on
stderr as one line `pyroacc: {json}`.  Calibration (calibrate.py) chooses the
program's parameters so that the split measured on `clock` hits `target`.
"""
import os

PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")


class Scenario:
    """name: the row key; program: file in programs/; target: {region: share
    in %} on the calibration clock; seconds: (quick, full) total region time
    to calibrate for; rounds: (quick, full) rounds the regions are interleaved
    over; clock: the truth the calibration aims at ("wall" or "cpu");
    threads: regions run outside the main thread; cpu_differs: the CPU-time
    truth differs from the wall-time one, so a profiler's clock matters;
    model: "counts" (each region's time is proportional to its count) or
    "periodic"; slowed: the region whose work is doubled in a second variant
    (the 2x scenario); in_quick: part of the quick run; run_truth: clocks
    whose split is not a property of the program but decided afresh in every
    run (threads contending for the GIL: the OS scheduler decides who waits),
    so profiles on that clock are scored against the truth their own run
    measured."""

    def __init__(self, name, program, target, description, seconds=(0.3, 1.5), rounds=(30, 100), clock="wall",
                 threads=False, cpu_differs=False, model="counts", defaults=None, slowed=None, in_quick=True,
                 fixed=None, run_truth=()):
        self.name = name
        self.program = program
        self.target = dict(target)
        self.regions = list(target)
        self.description = description
        self.seconds = seconds
        self.rounds = rounds
        self.clock = clock
        self.threads = threads
        self.cpu_differs = cpu_differs
        self.model = model
        self.defaults = defaults or {}
        self.slowed = slowed
        self.in_quick = in_quick
        self.fixed = fixed or {}
        self.run_truth = tuple(run_truth)

    @property
    def path(self):
        return os.path.join(PROGRAMS, self.program)

    def initial_params(self, quick):
        """Parameters to start calibrating from (plain program defaults,
        scaled to the run length)."""
        if self.model == "periodic":
            secs = self.seconds[0 if quick else 1]
            period_us = self.fixed.get("period_us", 1000)
            a = self.target[self.regions[0]] / 100.0 * period_us
            return {"periods": int(round(secs / (period_us * 1e-6))), "period_us": period_us, "a_us": round(a, 1)}
        return {"rounds": self.rounds[0 if quick else 1], "n": dict(self.defaults)}

    def variants(self, params):
        """(variant name, params) pairs to run: one, or the base and the
        slowed variant for the 2x scenario."""
        if not self.slowed:
            return [("", params)]
        slow = {"rounds": params["rounds"], "n": dict(params["n"])}
        slow["n"][self.slowed] = 2 * params["n"][self.slowed]
        return [("base", params), ("slow", slow)]


def _bias(share):
    return Scenario(
        "bias_%02d" % share, "bias.py", {"region_calls": share, "region_inline": 100 - share},
        "function bias: the same arithmetic as one tiny call per step (region_calls, %d%%) and inline "
        "(region_inline)" % share,
        defaults={"region_calls": 800000, "region_inline": 1800000},
        in_quick=share in (5, 50, 95))


SCENARIOS = [_bias(s) for s in (5, 25, 50, 75, 95)] + [
    Scenario("call_mix", "call_mix.py", {"region_call_heavy": 70, "region_call_free": 30},
             "70/30 between a call-heavy region (methods, constructors, closures) and a call-free loop",
             defaults={"region_call_heavy": 80000, "region_call_free": 1200000}),
    Scenario("constructor", "constructor.py", {"region_construct": 60, "region_inline": 40},
             "a loop that spends most of its time in a tiny constructor called per item (60%), and the same "
             "work inline (40%)",
             defaults={"region_construct": 400000, "region_inline": 900000}),
    Scenario("recursion", "recursion.py", {"region_deep": 60, "region_shallow": 40},
             "calls of the same small function as a 400-frame recursion (60%) and one frame deep (40%)",
             defaults={"region_deep": 200, "region_shallow": 200}),
    Scenario("c_code", "c_code.py", {"region_python": 34, "region_c_nogil": 33, "region_c_gil": 33},
             "pure Python, C code that releases the GIL (sha256 of 256 KiB), C code that holds it (sorting "
             "20,000 floats)",
             defaults={"region_python": 400000, "region_c_nogil": 200, "region_c_gil": 100}),
    Scenario("sleep_io", "sleep_io.py", {"region_cpu": 40, "region_sleep": 30, "region_io": 30},
             "CPU loop, 2 ms sleeps, socket request/replies answered after 1 ms (wall 40/30/30; CPU almost "
             "all region_cpu)",
             cpu_differs=True, defaults={"region_cpu": 600000, "region_sleep": 160, "region_io": 160}),
    Scenario("threads", "threads.py", {"region_t1": 50, "region_t2": 30, "region_t3": 20},
             "three threads sharing the GIL in rounds, CPU split 50/30/20 (the wall split follows from it, "
             "run by run)",
             clock="cpu", threads=True, cpu_differs=True, rounds=(4, 10), run_truth=("wall",),
             defaults={"region_t1": 600000, "region_t2": 360000, "region_t3": 240000}),
    Scenario("periodic", "periodic.py", {"region_a": 30, "region_b": 70},
             "a 1 ms period (the sampling interval) split 0.3/0.7 ms between two regions on wall-clock "
             "deadlines: aliasing bait", model="periodic", fixed={"period_us": 1000}),
    Scenario("slowdown_2x", "slowdown.py", {"region_calls": 30, "region_loop": 40, "region_mixed": 30},
             "30/40/30, then region_calls' work doubled: its share must move to 2s/(1+s) (46.2%)",
             defaults={"region_calls": 600000, "region_loop": 1200000, "region_mixed": 400000},
             slowed="region_calls"),
]

BY_NAME = {s.name: s for s in SCENARIOS}

# The compensation calibration program (not scored): see profilers.py.
CALLCOST_PROGRAM = os.path.join(PROGRAMS, "callcost.py")


def select(names=None, quick=False):
    if not names:
        return [s for s in SCENARIOS if s.in_quick or not quick]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError("unknown scenario(s) %s; known: %s" % (", ".join(unknown), ", ".join(BY_NAME)))
    return [s for s in SCENARIOS if s.name in names]
