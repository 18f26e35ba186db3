"""Requests per second of the benchmark's Flask app served by gunicorn (one
worker process, gthread, 4 threads) over loopback HTTP, driven by a load
client in another process (CONC keep-alive connections, each a thread, as
wrk does): plain, and under each per-request profiler -- pyrometer's WSGI
middleware (none kept, slower_than_ms high, at 1 kHz and at 100 Hz; and
every request kept; and its process-wide sampler alone, no middleware),
werkzeug's ProfilerMiddleware (cProfile, a file per request) and
pyinstrument's per-request recipe (a text file per request).  Rounds
interleave the variants (a fresh server each, each round starting at the
next variant); medians, and each variant's ratio to plain as the median of
its rounds' ratios to their own plain run.

    python benchmarks/web/load.py [--seconds 3] [--rounds 5] [--conc 4] [--size 40] [VARIANT ...]
"""
import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = ["plain", "pyrometer-sampler-only", "pyrometer-none-kept", "pyrometer-none-kept-100hz",
            "pyrometer-all-kept", "werkzeug", "pyinstrument"]


def client(port, seconds, conc, size):
    """Runs in the client process: requests until the time is up, the first
    0.5 s not counted; prints the counts of 200 responses and of others
    (an error answer, or a connection the server dropped)."""
    ok, bad = [0] * conc, [0] * conc
    start = time.monotonic()
    t0, t1 = start + 0.5, start + 0.5 + seconds

    def one(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            now = time.monotonic()
            if now >= t1:
                break
            try:
                conn.request("GET", "/items/%d" % size)
                r = conn.getresponse()
                r.read()
                good = r.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                good = False
            if now >= t0:
                (ok if good else bad)[i] += 1
        conn.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sum(ok), sum(bad))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(variant, out_dir):
    port = free_port()
    env = dict(os.environ, PYROMETER_WEB_VARIANT=variant, PYROMETER_WEB_DIR=out_dir)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "4",
                               "-b", "127.0.0.1:%d" % port, "--chdir", HERE, "--log-level", "warning",
                               "served:application"], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            if server.poll() is not None:
                raise SystemExit("gunicorn exited (%s)" % variant)
            time.sleep(0.05)
    server.kill()
    raise SystemExit("gunicorn did not listen (%s)" % variant)


def cpu_s(pid):
    """CPU seconds (user + system) of a process and its descendants, from
    /proc; 0 for any that has gone."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for tid in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, tid)) as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, IndexError, ValueError):
            pass
    return total


def one_round(variant, a, tmp):
    out_dir = tempfile.mkdtemp(dir=tmp)
    server, port = serve(variant, out_dir)
    try:
        cpu0 = cpu_s(server.pid)
        r = subprocess.run([sys.executable, __file__, "--client", str(port), "--seconds", str(a.seconds),
                            "--conc", str(a.conc), "--size", str(a.size)], capture_output=True, text=True,
                           timeout=a.seconds * 10 + 60)
        if r.returncode:
            raise SystemExit("client failed (%s): %s" % (variant, r.stderr.strip()[-300:]))
        n, errors = (int(x) for x in r.stdout.split()[-2:])
        cpu = cpu_s(server.pid) - cpu0
    finally:
        server.terminate()
        server.wait(30)
    files = sum(len(fs) for _, _, fs in os.walk(out_dir))
    shutil.rmtree(out_dir, ignore_errors=True)
    return n / a.seconds, files, errors, cpu * 1e6 / max(n, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--conc", type=int, default=4)
    ap.add_argument("--size", type=int, default=40)
    ap.add_argument("--client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    ap.add_argument("variants", nargs="*", default=VARIANTS)
    a = ap.parse_args()
    if a.client:
        client(a.client, a.seconds, a.conc, a.size)
        return
    for v in a.variants:
        if v not in VARIANTS:
            raise SystemExit("unknown variant %r (one of %s)" % (v, ", ".join(VARIANTS)))
    if "plain" not in a.variants:
        a.variants.insert(0, "plain")
    tmp = tempfile.mkdtemp(prefix="pyrometer-web-load-")
    try:
        rates = {v: [] for v in a.variants}
        files = {v: [] for v in a.variants}
        errors = {v: [] for v in a.variants}
        cpus = {v: [] for v in a.variants}
        for r in range(a.rounds):
            # Each round starts at another variant: none always runs first
            # (on a fresh page cache) or last.
            k = r % len(a.variants)
            for v in a.variants[k:] + a.variants[:k]:
                rps, nf, ne, us = one_round(v, a, tmp)
                rates[v].append(rps)
                cpus[v].append(us)
                files[v].append(nf)
                errors[v].append(ne)
        print("python %d.%d, gunicorn gthread 1x4, %d connections, %g s x %d rounds, /items/%d" % (
            sys.version_info[:2] + (a.conc, a.seconds, a.rounds, a.size)))
        print("(req/s: answers 200 per second; server CPU: the server's processes' CPU time per answer;")
        print(" ratios: the median over rounds of each round's ratio to that round's plain run, so the")
        print(" machine's drift from round to round cancels; errors: other answers or dropped connections")
        print(" per round)")
        print("%-26s %8s %7s %14s %12s %8s %12s" % ("variant", "req/s", "ratio", "ratio range", "CPU us/req",
                                                   "ratio", "files/round") + "  errors")
        for v in a.variants:
            ratios = [x / p for x, p in zip(rates[v], rates["plain"])]
            cpu_ratios = [x / p for x, p in zip(cpus[v], cpus["plain"])]
            print("%-26s %8.0f %7.3f %6.3f-%-7.3f %12.0f %8.3f %12.0f  %d" % (
                v, statistics.median(rates[v]), statistics.median(ratios), min(ratios), max(ratios),
                statistics.median(cpus[v]), statistics.median(cpu_ratios), statistics.median(files[v]),
                statistics.median(errors[v])))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
