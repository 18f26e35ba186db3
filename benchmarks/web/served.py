"""The WSGI app gunicorn serves in benchmarks/web/load.py: the benchmark's
Flask app, plain or under one per-request profiler, chosen by the
environment variable PYROMETER_WEB_VARIANT (and PYROMETER_WEB_DIR for the
files the profilers write)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import app as bench_app  # noqa: E402

VARIANT = os.environ.get("PYROMETER_WEB_VARIANT", "plain")
DIR = os.environ.get("PYROMETER_WEB_DIR", ".")


def pyinstrument_per_request(inner, out_dir):
    """pyinstrument's per-request recipe: a Profiler around each request,
    its session written as text."""
    from pyinstrument import Profiler

    counter = [0]

    def wsgi(environ, start_response):
        profiler = Profiler(interval=0.001)
        profiler.start()
        try:
            return list(inner(environ, start_response))
        finally:
            profiler.stop()
            counter[0] += 1
            path = os.path.join(out_dir, "%d-%d.txt" % (os.getpid(), counter[0]))
            with open(path, "w") as f:
                f.write(profiler.output_text())

    return wsgi


def build(variant, out_dir):
    plain = bench_app.app.wsgi_app
    if variant == "plain":
        return plain
    if variant == "pyrometer-sampler-only":
        # The process's sampler alone, no middleware: what sampling costs
        # the server, apart from the per-request work.
        import pyrometer

        global _sampler
        _sampler = pyrometer.profile(rate=1000, timeline=0)  # kept: dropped, it would stop
        _sampler.start()
        return plain
    if variant.startswith("pyrometer"):
        from pyrometer.integrations.wsgi import ProfilerMiddleware

        slower = 0 if variant == "pyrometer-all-kept" else 60000
        rate = 100 if variant == "pyrometer-none-kept-100hz" else 1000
        return ProfilerMiddleware(plain, profile_dir=out_dir, slower_than_ms=slower, rate=rate)
    if variant == "werkzeug":
        from werkzeug.middleware.profiler import ProfilerMiddleware as WerkzeugProfiler

        return WerkzeugProfiler(plain, stream=None, profile_dir=out_dir)
    if variant == "pyinstrument":
        return pyinstrument_per_request(plain, out_dir)
    raise SystemExit("unknown variant %r" % variant)


application = build(VARIANT, DIR)
