"""A Flask app for the per-request profile tests: fast requests, and slow
ones whose handler is named by a colour (each profile must hold its own).
WEB_PROFILE_DIR set: wrapped in pyrometer's middleware."""
import os
import time

from flask import Flask, Response

app = Flask(__name__)


def burn(ms):
    end = time.perf_counter() + ms / 1000.0
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def fast_handler(n):
    return "fast %d %d\n" % (n, sum(range(n)))


def slow_red(n):
    burn(40)
    time.sleep(0.6)
    return "slow red %d\n" % n


def slow_blue(n):
    burn(40)
    time.sleep(0.6)
    return "slow blue %d\n" % n


@app.route("/fast/<int:n>")
def fast(n):
    return fast_handler(n)


@app.route("/slow/<colour>/<int:n>")
def slow(colour, n):
    return {"red": slow_red, "blue": slow_blue}[colour](n)


@app.route("/stream/<int:n>")
def stream(n):
    def chunks():
        for i in range(n):
            yield "chunk %d\n" % i

    return Response(chunks(), mimetype="text/plain")


@app.route("/boom")
def boom():
    raise RuntimeError("boom")


if os.environ.get("WEB_PROFILE_DIR"):
    from pyrometer.integrations.flask import profile_app

    profile_app(app, profile_dir=os.environ["WEB_PROFILE_DIR"], slower_than_ms=400)
