#!/usr/bin/env python3
"""What --native costs: each workload run plainly, under `pyrometer run` and
under `pyrometer run --native`, in interleaved rounds (plain, default,
native, plain, ...), so that the machine's drift hits all three alike.

    python benchmarks/native_cost.py [--rounds N] [--rate HZ]

The workload times its own work (start-up excluded) and prints it; the
report gives, per workload, the median of each round's ratio to its plain
run, the sampler's own CPU per sample, and the profile's quality counts
(torn stacks; with --native, stacks charged with C frames, captured stacks
whose C stack could not be unwound, stacks whose eval-loop frames and Python
frames did not pair up, off-CPU stacks named by their blocking call)."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

WORKLOADS = {
    # The GIL holder always runs Python code: one capture per tick either way.
    "python": r"""
import time
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
t = time.perf_counter()
fib(32)
print(time.perf_counter() - t)
""",
    # C code with the GIL released: only --native signals this thread.
    "zlib": r"""
import time, zlib
data = bytes(range(256)) * 8192
t = time.perf_counter()
for _ in range(36):
    zlib.compress(data, 9)
print(time.perf_counter() - t)
""",
    # Three threads hashing without the GIL beside the main one.
    "threads": r"""
import hashlib, threading, time
data = b"x" * (1 << 20)
def work():
    for _ in range(400):
        hashlib.sha256(data).digest()
t = time.perf_counter()
ts = [threading.Thread(target=work) for _ in range(3)]
for th in ts: th.start()
for th in ts: th.join()
print(time.perf_counter() - t)
""",
}

QUALITY = ("samples_taken", "samples_torn", "samples_native", "samples_native_failed",
           "samples_native_mismatch", "samples_native_syscall")


def run(python, script, extra, out):
    if extra is None:
        cmd = [python, script]
    else:
        cmd = [python, "-m", "pyrometer", "run", "-o", out] + extra + [script]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return float(p.stdout.decode().split()[-1])


def meta_of(python, path):
    code = "import json, sys, pyrometer; print(json.dumps(dict(pyrometer.load(sys.argv[1]).meta)))"
    p = subprocess.run([python, "-c", code, path], stdout=subprocess.PIPE, check=True)
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rate", default="1000")
    ap.add_argument("--python", default=sys.executable)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="pm-native-cost-")
    print("python %s, %d interleaved rounds, %s Hz" % (sys.version.split()[0], a.rounds, a.rate))
    print("| workload | default / plain | --native / plain | --native / default | sampler CPU per sample (default, native) | quality (native, summed) |")
    print("|---|---|---|---|---|---|")
    for name, body in WORKLOADS.items():
        script = os.path.join(tmp, "work_" + name + ".py")  # not shadowing the module
        with open(script, "w") as f:
            f.write(body)
        ratios_d, ratios_n, ratios_nd = [], [], []
        cpu = {"default": [], "native": []}
        quality = dict.fromkeys(QUALITY, 0)
        for r in range(a.rounds):
            plain = run(a.python, script, None, None)
            times = {}
            for label, extra in (("default", []), ("native", ["--native"])):
                out = os.path.join(tmp, "%s-%s-%d.pyro" % (name, label, r))
                times[label] = run(a.python, script, ["--rate", a.rate] + extra, out)
                m = meta_of(a.python, out)
                if m.get("samples_taken"):
                    cpu[label].append(m["sampler_cpu_s"] / m["samples_taken"] * 1e6)
                if label == "native":
                    for k in QUALITY:
                        quality[k] += int(m.get(k, 0))
            ratios_d.append(times["default"] / plain)
            ratios_n.append(times["native"] / plain)
            ratios_nd.append(times["native"] / times["default"])
        med = statistics.median
        print("| %s | %.3f | %.3f | %.3f | %.1f µs, %.1f µs | %s |" % (
            name, med(ratios_d), med(ratios_n), med(ratios_nd),
            med(cpu["default"]) if cpu["default"] else float("nan"),
            med(cpu["native"]) if cpu["native"] else float("nan"),
            ", ".join("%s %d" % (k.replace("samples_", ""), v) for k, v in quality.items())))


if __name__ == "__main__":
    main()
