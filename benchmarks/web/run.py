"""Requests per second of a Flask app: plain, under pyrometer's WSGI
ProfilerMiddleware (every request profiled and written; and profiled but none
kept, slower_than_ms high), and under werkzeug's ProfilerMiddleware (cProfile,
every request written).  In-process (werkzeug's test client: no sockets, so
the figures are the middleware's cost, not the network's), rounds
interleaved, medians; prints the ratios to the plain app.

    python benchmarks/web/run.py [--requests 400] [--rounds 5] [--size 40]
    python benchmarks/web/run.py --per-request [--rounds 5]

--per-request: what the middleware itself adds to a request (profiled, none
kept, the sampler at 1 kHz): microseconds per call of an app that does
nothing, wrapped and not, one thread, the fastest of the rounds.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def variants(tmp):
    from werkzeug.middleware.profiler import ProfilerMiddleware as WerkzeugProfiler

    from pyrometer.integrations.wsgi import ProfilerMiddleware

    import app as bench_app

    plain = bench_app.app.wsgi_app
    return [
        ("plain", plain),
        ("pyrometer, all kept", ProfilerMiddleware(plain, profile_dir=os.path.join(tmp, "pm"))),
        ("pyrometer, none kept", ProfilerMiddleware(plain, profile_dir=os.path.join(tmp, "pm0"),
                                                     slower_than_ms=60000)),
        ("werkzeug cProfile", WerkzeugProfiler(plain, stream=None, profile_dir=os.path.join(tmp, "wz"))),
    ]


def rate(client, n, size):
    start = time.perf_counter()
    for i in range(n):
        r = client.get("/items/%d" % size)
        assert r.status_code == 200
        r.close()
    return n / (time.perf_counter() - start)


def per_request(rounds, n=20000):
    from pyrometer.integrations import _requests
    from pyrometer.integrations.wsgi import ProfilerMiddleware

    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    def call(wsgi):
        start = time.thread_time()
        for _ in range(n):
            body = wsgi({"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "QUERY_STRING": ""}, lambda s, h, e=None: None)
            for _ in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()
        return (time.thread_time() - start) / n * 1e6

    wrapped = ProfilerMiddleware(app, slower_than_ms=60000, rate=1000)
    _requests.shared(1000.0, "wall")  # the sampler runs in both
    plain, profiled = [], []
    for _ in range(rounds):
        plain.append(call(app))
        profiled.append(call(wrapped))
    print("python %d.%d, %d calls x %d rounds: unwrapped %.2f us a call, through the middleware %.2f us "
          "(the fastest rounds)" % (sys.version_info[:2] + (n, rounds, min(plain), min(profiled))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--size", type=int, default=40)
    ap.add_argument("--per-request", action="store_true")
    a = ap.parse_args()
    if a.per_request:
        per_request(a.rounds)
        return
    from flask import Flask
    from werkzeug.test import Client

    import app as bench_app

    tmp = tempfile.mkdtemp(prefix="pyrometer-web-bench-")
    try:
        os.makedirs(os.path.join(tmp, "wz"))  # werkzeug writes into an existing directory
        vs = variants(tmp)
        results = {name: [] for name, _ in vs}
        for _ in range(a.rounds):
            for name, wsgi in vs:
                bench_app.app.wsgi_app = wsgi
                client = Client(bench_app.app)
                rate(client, 20, a.size)  # warm up
                results[name].append(rate(client, a.requests, a.size))
        assert isinstance(bench_app.app, Flask)
        base = statistics.median(results["plain"])
        print("python %d.%d, %d requests x %d rounds, /items/%d" % (sys.version_info[:2] + (a.requests, a.rounds,
                                                                                          a.size)))
        print("%-22s %10s %8s" % ("variant", "req/s", "ratio"))
        for name, _ in vs:
            med = statistics.median(results[name])
            print("%-22s %10.0f %8.3f" % (name, med, med / base))
        kept = len(os.listdir(os.path.join(tmp, "pm")))
        # werkzeug's names collide within a second (same path and ms): fewer files.
        print("pyrometer files written: %d; werkzeug files: %d" % (kept, len(os.listdir(os.path.join(tmp, "wz")))))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
