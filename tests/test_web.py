"""Per-request profiles for web apps (pyrometer.integrations): real servers
(gunicorn sync and gthread workers with Flask, uvicorn with Starlette), 200
requests of which 10 are slow; exactly the slow ones are kept, each holding
its own handler and no other request's frames, and every response is the
unwrapped app's, byte for byte."""
import concurrent.futures
import http.client
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import pyrometer
from conftest import PROGRAMS

flask = pytest.importorskip("flask")


@pytest.fixture(autouse=True, scope="module")
def _stop_the_shared_sampler():
    """The in-process tests start the process's sampler, which runs for the
    life of a server: stopped after this module, as a server at shutdown."""
    yield
    from pyrometer.integrations import _requests

    _requests.stop()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bin_of(name):
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.skip("%s is not installed beside this Python" % name)
    return str(path)


class Server:
    """A server process on loopback, stopped by its pid."""

    def __init__(self, argv, port, env, tmp):
        self.port = port
        self.log = open(tmp / ("server-%d.log" % port), "wb")
        full = dict(os.environ, PYTHONPATH=str(PROGRAMS), **env)
        self.proc = subprocess.Popen(argv, cwd=str(PROGRAMS), env=full, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("server exited: %s" % Path(self.log.name).read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("server did not listen")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return Path(self.log.name).read_text(errors="replace")


def plan():
    """200 paths: 10 slow (red and blue alternating) spread among 190 fast."""
    paths = []
    slow = 0
    for i in range(200):
        if i % 20 == 7:
            paths.append("/slow/%s/%d" % ("red" if slow % 2 == 0 else "blue", slow))
            slow += 1
        else:
            paths.append("/fast/%d" % i)
    return paths


def fetch(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        headers = sorted((k.lower(), v) for k, v in r.getheaders() if k.lower() not in ("date", "server"))
        return r.status, headers, body
    finally:
        conn.close()


def fire(port, paths, workers=8):
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda p: fetch(port, p), paths))


def go_pprof(args, tmp_path):
    """`go tool pprof ARGS` (the reference reader of pprof files)."""
    import shutil

    go = shutil.which("go")
    if go is None:
        pytest.fail("go is not installed: the test setup (scripts/test, .ci/run) installs golang-go")
    env = dict(os.environ, HOME=str(tmp_path), PPROF_TMPDIR=str(tmp_path))
    # Keep the real build cache: Go 1.24+ builds pprof on first use.
    cache = subprocess.run([go, "env", "GOCACHE"], capture_output=True, text=True).stdout.strip()
    if cache:
        env["GOCACHE"] = cache
    return subprocess.run([go, "tool", "pprof"] + args, capture_output=True, text=True, env=env, timeout=300)


def stacks_functions(profile):
    names = set()
    for per_thread in profile.stacks().values():
        for stack, weight in per_thread.items():
            if weight:
                names.update(frame[0] for frame in stack)
    return names


def served(argv_of, tmp_path, paths, wrapped):
    port = free_port()
    env = {"WEB_PROFILE_DIR": str(tmp_path / "profiles")} if wrapped else {}
    server = Server(argv_of(port), port, env, tmp_path)
    try:
        answers = fire(port, paths)
        extra = [fetch(port, "/stream/50"), fetch(port, "/boom")]
    finally:
        log = server.stop()
    return answers + extra, log


def check_server(argv_of, tmp_path):
    paths = plan()
    plain, _ = served(argv_of, tmp_path, paths, wrapped=False)
    wrapped, log = served(argv_of, tmp_path, paths, wrapped=True)
    assert [a[0] for a in plain[:-1]] == [200] * 201
    assert plain[-1][0] == 500
    # The middleware changes no status, header or byte of any response
    # (streamed and failing ones included).
    assert wrapped == plain
    assert "Traceback" not in log.replace("RuntimeError: boom", "").split("Traceback")[0] or "boom" in log
    files = sorted((tmp_path / "profiles").iterdir())
    kept = {}
    for f in files:
        p = pyrometer.load(str(f))
        kept[p.meta["request.path"]] = p
    slow_paths = sorted(p for p in paths if p.startswith("/slow/"))
    # Exactly the slow requests were kept (the fast ones, the stream and the
    # failing request are under slower_than_ms: 400 ms, the slow ones sleep
    # 600 ms, so a loaded machine does not blur the line).
    assert sorted(kept) == slow_paths, sorted(kept)
    for path, p in kept.items():
        colour = path.split("/")[2]
        other = "blue" if colour == "red" else "red"
        names = stacks_functions(p)
        samples = sum(sum(s.values()) for s in p.stacks().values())
        assert "slow_" + colour in names, (path, samples, dict(p.meta), sorted(names))
        # No frame of a concurrent request: the other colour, a fast one.
        assert "slow_" + other not in names, (path, sorted(names))
        assert "fast_handler" not in names and "fast" not in names, (path, sorted(names))
        assert p.meta["request.status"] == 200
        assert p.meta["request.method"] == "GET"
        assert p.meta["request.duration_ms"] >= 400
    return kept


def gunicorn_argv(worker):
    exe = bin_of("gunicorn")

    def argv(port):
        threads = ["--threads", "4"] if worker == "gthread" else []
        return [exe, "-w", "1", "-k", worker] + threads + ["-b", "127.0.0.1:%d" % port, "web_flask_app:app"]

    return argv


@pytest.mark.heavy
@pytest.mark.parametrize("worker", ["sync", "gthread"])
def test_gunicorn_flask(tmp_path, worker):
    kept = check_server(gunicorn_argv(worker), tmp_path)
    routes = {p.meta["request.route"] for p in kept.values()}
    assert routes == {"/slow/<colour>/<int:n>"}  # Flask's URL rule names the route


@pytest.mark.heavy
def test_uvicorn_starlette(tmp_path):
    pytest.importorskip("starlette")
    exe = bin_of("uvicorn")

    def argv(port):
        return [exe, "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "web_starlette_app:app"]

    kept = check_server(argv, tmp_path)
    routes = {p.meta["request.route"] for p in kept.values()}
    assert routes == {"/slow/{colour}/{n:int}"}


# ---- in-process: the middleware's options, the index, OpenTelemetry ----

from pyrometer.integrations import asgi as pm_asgi  # noqa: E402
from pyrometer.integrations import wsgi as pm_wsgi  # noqa: E402


def burn(ms):
    end = time.perf_counter() + ms / 1000.0
    while time.perf_counter() < end:
        pass


def wsgi_alpha(environ, start_response):
    burn(30)
    start_response("201 Created", [("Content-Type", "text/plain"), ("X-Mark", "alpha")])
    return [b"alpha ", environ["PATH_INFO"].encode()]


def call_wsgi(app, path, query=""):
    got = {}

    def start_response(status, headers, exc_info=None):
        got["status"], got["headers"] = status, headers

    env = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "wsgi.url_scheme": "http"}
    body = app(env, start_response)
    try:
        data = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return got["status"], got["headers"], data


def test_wsgi_sample_every_and_query_viewer(tmp_path):
    kept = []
    app = pm_wsgi.ProfilerMiddleware(wsgi_alpha, profile_dir=tmp_path, sample_every=3,
                                     allow_query=lambda env: env["PATH_INFO"] != "/private",
                                     on_profile=lambda env, p: kept.append(p))
    answers = [call_wsgi(app, "/a/%d" % i) for i in range(9)]
    assert answers == [call_wsgi(wsgi_alpha, "/a/%d" % i) for i in range(9)]
    assert len(kept) == 3 and len(os.listdir(tmp_path)) == 3  # one request in three
    for p in kept:
        assert "wsgi_alpha" in stacks_functions(p) and p.meta["request.status"] == 201
    # ?pyrometer: the viewer page for that request instead of its response.
    status, headers, page = call_wsgi(app, "/a/x", "pyrometer")
    assert status == "200 OK" and dict(headers)["Content-Type"].startswith("text/html")
    assert b"<html" in page.lower() and b"wsgi_alpha" in page
    # Not allowed, or not asked: the app's own response.
    assert call_wsgi(app, "/private", "pyrometer") == call_wsgi(wsgi_alpha, "/private", "pyrometer")
    plain = pm_wsgi.ProfilerMiddleware(wsgi_alpha, profile_dir=tmp_path / "q")
    assert call_wsgi(plain, "/b", "pyrometer") == call_wsgi(wsgi_alpha, "/b", "pyrometer")


def test_wsgi_exception_passes_through(tmp_path):
    def failing(environ, start_response):
        burn(5)
        raise KeyError("missing")

    app = pm_wsgi.ProfilerMiddleware(failing, profile_dir=tmp_path)
    with pytest.raises(KeyError, match="missing"):
        call_wsgi(app, "/f")
    (only,) = tmp_path.iterdir()
    assert pyrometer.load(str(only)).meta["request.status"] == 500


def test_asgi_concurrent_tasks_keep_apart(tmp_path):
    import asyncio

    async def red_steps():
        for _ in range(6):
            burn(8)
            await asyncio.sleep(0.002)

    async def blue_steps():
        for _ in range(6):
            burn(8)
            await asyncio.sleep(0.002)

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await send({"type": "lifespan.startup.complete"})
            return
        await (red_steps() if scope["path"] == "/red" else blue_steps())
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x", b"1")]})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    kept = {}
    wrapped = pm_asgi.ProfilerMiddleware(app, profile_dir=tmp_path,
                                         on_profile=lambda scope, p: kept.setdefault(scope["path"] + str(id(p)), p))

    async def one(target, path):
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await target({"type": "http", "method": "GET", "path": path, "query_string": b""}, receive, send)
        return sent

    async def main(target):
        return await asyncio.gather(*(one(target, p) for p in ["/red", "/blue"] * 4))

    assert asyncio.run(main(wrapped)) == asyncio.run(main(app))
    assert len(kept) == 8
    for key, p in kept.items():
        names = stacks_functions(p)
        mine, other = ("red_steps", "blue_steps") if key.startswith("/red") else ("blue_steps", "red_steps")
        short = {n.rsplit(".", 1)[-1] for n in names}  # qualnames: test_...<locals>.red_steps
        assert mine in short and other not in short, (key, sorted(n for n in short if "steps" in n or "burn" in n))
    # lifespan passes through untouched
    sent = []

    async def lifespan():
        async def receive():
            return {"type": "lifespan.startup"}

        async def send(m):
            sent.append(m)

        await wrapped({"type": "lifespan"}, receive, send)

    asyncio.run(lifespan())
    assert sent == [{"type": "lifespan.startup.complete"}]


def test_asgi_awaited_time_is_the_requests(tmp_path):
    """A request that waits (its awaits) has that time in its own profile,
    at the stack where it waited: its handler, then the awaited coroutine;
    two requests waiting at once each have their own wait, not the other's."""
    import asyncio

    async def nap(seconds):
        await asyncio.sleep(seconds)

    async def waits_long(scope):
        burn(20)
        await nap(0.4)

    async def waits_short(scope):
        burn(20)
        await nap(0.15)

    async def app(scope, receive, send):
        await (waits_long if scope["path"] == "/long" else waits_short)(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    kept = {}
    wrapped = pm_asgi.ProfilerMiddleware(app, profile_dir=tmp_path,
                                         on_profile=lambda scope, p: kept.setdefault(scope["path"], p))

    async def one(path):
        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            pass

        await wrapped({"type": "http", "method": "GET", "path": path, "query_string": b""}, receive, send)

    async def main():
        await asyncio.gather(one("/long"), one("/short"))

    asyncio.run(main())
    assert set(kept) == {"/long", "/short"}
    for path, mine, other, seconds in (("/long", "waits_long", "waits_short", 0.4),
                                       ("/short", "waits_short", "waits_long", 0.15)):
        p = kept[path]
        walls = [(stack, w) for stacks in p.stacks("wall").values() for stack, w in stacks.items()]
        names = [[f[0].rsplit(".", 1)[-1] for f in stack] for stack, _ in walls]
        assert not any(other in n for n in names), path
        # The wait: below the handler, nap, then asyncio.sleep at its await.
        waited = sum(w for (stack, w), n in zip(walls, names) if n[-3:] == [mine, "nap", "sleep"])
        duration = p.meta["request.duration_ms"] / 1000.0
        assert seconds * 0.95 <= waited / 1e9 <= duration, (path, waited, duration)
        # Samples as many as the sampler would have taken in that time (1 kHz).
        samples = sum(w for stacks in p.stacks("samples").values() for stack, w in stacks.items()
                      if [f[0].rsplit(".", 1)[-1] for f in stack][-3:] == [mine, "nap", "sleep"])
        assert abs(samples - waited / 1e6) <= 0.1 * waited / 1e6 + 3, (samples, waited)
        # Nothing of pyrometer's own below the handler (its hook is not in the stacks' leaves).
        assert all(not f[1].endswith("_requests.py") for stack, _ in walls for f in stack)


def test_view_directory_index(tmp_path):
    app = pm_wsgi.ProfilerMiddleware(wsgi_alpha, profile_dir=tmp_path)
    for path in ["/x", "/y", "/x"]:
        call_wsgi(app, path)
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-m", "pyrometer", "view", str(tmp_path)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert sum(1 for line in lines if " GET " in " " + line and "/x" in line and "201" in line) == 2
    assert any(line.split()[:3] == ["GET", "/x", "2"] for line in lines)  # the route aggregate
    html = tmp_path / "one.html"
    out = subprocess.run([sys.executable, "-m", "pyrometer", "view", "--no-browser", "-o", str(html), str(tmp_path),
                          "2"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and b"wsgi_alpha" in html.read_bytes()
    merged_html = tmp_path / "route.html"
    out = subprocess.run([sys.executable, "-m", "pyrometer", "view", "--no-browser", "-o", str(merged_html),
                          str(tmp_path), "--route", "/x"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    out = subprocess.run([sys.executable, "-m", "pyrometer", "view", str(tmp_path), "--route", "/nope"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and out.stderr.startswith("pyrometer:") and "Traceback" not in out.stderr
    # The merged route holds exactly the samples of its requests.
    from pyrometer.integrations import index

    entries = index.read(str(tmp_path))
    merged = pyrometer.ProfileData(index.merged(entries, "/x"))
    parts = [pyrometer.load(e.path) for e in entries if e.route == "/x"]

    def total(p):
        return sum(sum(s.values()) for s in p.stacks().values())

    assert total(merged) == sum(total(p) for p in parts) > 0


def test_otel_not_imported_for_a_program_without_it(tmp_path):
    """A span is active only where OpenTelemetry was imported: a program that
    never did serves its requests without pyrometer importing it."""
    pytest.importorskip("opentelemetry.trace")
    prog = tmp_path / "app.py"
    prog.write_text(textwrap.dedent("""
        import sys
        from pyrometer.integrations import wsgi

        def app(environ, start_response):
            start_response("200 OK", [])
            return [b"ok"]

        mw = wsgi.ProfilerMiddleware(app, profile_dir=sys.argv[1], slower_than_ms=0)
        body = mw({"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "QUERY_STRING": ""}, lambda s, h, e=None: None)
        print(b"".join(body).decode())
        body.close()
        print(sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry"))
    """))
    out = subprocess.run([sys.executable, str(prog), str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["ok", "[]"], out.stdout
    assert len(list(tmp_path.glob("*.pyro"))) == 1  # the request was profiled all the same


def test_otel_span_and_profile_linked(tmp_path):
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    inner = pm_wsgi.ProfilerMiddleware(wsgi_alpha, profile_dir=tmp_path)

    def traced(environ, start_response):  # what an instrumentation does
        with tracer.start_as_current_span("GET /o") as span:
            body = inner(environ, start_response)
            try:
                return b"".join(body), span
            finally:
                body.close()

    got = {}
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": "/o", "QUERY_STRING": ""}
    (body, span) = traced(env, lambda s, h, e=None: got.update(s=s))
    (done,) = exporter.get_finished_spans()
    ctx = done.get_span_context()
    (f,) = tmp_path.iterdir()
    meta = pyrometer.load(str(f)).meta
    assert meta["label.trace_id"] == trace.format_trace_id(ctx.trace_id)
    assert meta["label.span_id"] == trace.format_span_id(ctx.span_id)
    assert meta["label.span_name"] == "GET /o"
    assert done.attributes["pyroscope.profile.id"] == trace.format_span_id(ctx.span_id)
    assert done.attributes["pyrometer.profile"] == str(f)
    # pprof: every sample labelled with the trace (go tool pprof reads them).
    pb = tmp_path / "req.pb.gz"
    pyrometer.load(str(f)).write(str(pb), "pprof")
    r = go_pprof(["-tags", str(pb)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "trace_id" in r.stdout and trace.format_trace_id(ctx.trace_id) in r.stdout
    assert "span_name" in r.stdout and "GET /o" in r.stdout
    span_line = r.stdout.split("span_id", 1)[1].splitlines()[1]
    assert "(  100%)" in span_line and trace.format_span_id(ctx.span_id) in span_line  # on every sample
    # OTLP profiles: every sample links to the span the SDK recorded.
    profiles_pb2 = pytest.importorskip("opentelemetry.proto.profiles.v1development.profiles_pb2")
    if profiles_pb2.Sample.DESCRIPTOR.fields_by_name["values"].number != 4:
        pytest.skip("this opentelemetry-proto has an older draft of the profiles schema")
    from opentelemetry.proto.collector.profiles.v1development import profiles_service_pb2

    req = profiles_service_pb2.ExportProfilesServiceRequest()
    req.ParseFromString(pyrometer.load(str(f)).to_bytes("otlp-profiles"))
    links = req.dictionary.link_table
    assert len(links) == 2 and links[1].trace_id == ctx.trace_id.to_bytes(16, "big")
    assert links[1].span_id == ctx.span_id.to_bytes(8, "big")
    samples = [s for p in req.resource_profiles[0].scope_profiles[0].profiles for s in p.samples]
    assert samples and all(s.link_index == 1 for s in samples)


def test_app_never_notices_pyrometer_trouble(tmp_path, capsys, monkeypatch):
    # The profile directory disappears: responses unchanged, one line on stderr.
    gone = tmp_path / "gone"
    app = pm_wsgi.ProfilerMiddleware(wsgi_alpha, profile_dir=gone)
    gone.rmdir()
    assert [call_wsgi(app, "/g") for _ in range(3)] == [call_wsgi(wsgi_alpha, "/g")] * 3
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("pyrometer: cannot keep a request's profile:")
    # The sampler cannot start (an unsupported interpreter): the app runs unwrapped.
    from pyrometer.integrations import _requests

    def refuse(*args):
        raise RuntimeError("pyrometer does not support this Python: test")

    monkeypatch.setattr(_requests, "shared", refuse)
    app = pm_wsgi.ProfilerMiddleware(wsgi_alpha, profile_dir=tmp_path / "off", allow_query=lambda env: True)
    assert call_wsgi(app, "/h") == call_wsgi(wsgi_alpha, "/h")
    assert call_wsgi(app, "/h", "pyrometer") == call_wsgi(wsgi_alpha, "/h", "pyrometer")
    err = capsys.readouterr().err.splitlines()
    assert err == ["pyrometer: per-request profiles are off: pyrometer does not support this Python: test"]


# ---- pyrometer run --push: Pyroscope's ingest API on a loopback server ----

def test_run_push_to_pyroscope_ingest(tmp_path):
    import gzip
    import http.server
    import threading
    import urllib.parse

    got = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((self.path, self.headers.get("Content-Type"), body))
            # The first push fails: the pusher keeps it and retries.
            self.send_response(503 if len(got) == 1 else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        prog = PROGRAMS / "pushed.py"
        url = "http://127.0.0.1:%d" % server.server_address[1]
        plain = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True, timeout=120)
        r = subprocess.run([sys.executable, "-m", "pyrometer", "run", "--push", url, "--app-name", "web.test",
                            "--push-interval", "0.3", "-o", str(tmp_path / "p.pyro"), str(prog)],
                           capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    assert r.returncode == plain.returncode == 0 and r.stdout == plain.stdout == "done\n", r.stderr
    assert "could not be pushed" not in r.stderr
    assert len(got) >= 3
    first = got[0]
    assert got[1] == first  # the failed push, sent again unchanged
    ok = got[1:]
    for path, ctype, body in ok:
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        assert urllib.parse.urlsplit(path).path == "/ingest"
        assert q["name"] == ["web.test"] and q["format"] == ["pprof"] and q["sampleRate"] == ["1000"]
        assert int(q["until"][0]) >= int(q["from"][0])
        assert gzip.decompress(body)  # gzip'd profile.proto
    # go tool pprof reads every push; merged, they hold the program's function.
    files = []
    for i, (_, _, body) in enumerate(ok):
        f = tmp_path / ("push%d.pb.gz" % i)
        f.write_bytes(body)
        files.append(str(f))
    top = go_pprof(["-top", "-sample_index=samples"] + files, tmp_path)
    assert top.returncode == 0, top.stderr
    assert "pushed_marker" in top.stdout
    # Each interval is what the stacks gained since the last: the pushes add
    # up to the whole run's samples.
    m = __import__("re").search(r"of (\d+) total", top.stdout)
    final = pyrometer.load(str(tmp_path / "p.pyro"))
    total = sum(sum(s.values()) for s in final.stacks().values())
    assert m and abs(int(m.group(1)) - total) <= 0.05 * total, (m and m.group(1), total)


def test_django_routes(tmp_path, monkeypatch):
    pytest.importorskip("django")
    monkeypatch.syspath_prepend(str(PROGRAMS))
    import web_django_app

    app = pm_wsgi.ProfilerMiddleware(web_django_app.application, profile_dir=tmp_path)
    env = {"SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.input": __import__("io").BytesIO(b""),
           "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1"}

    def call(target, path):
        got = {}
        body = target(dict(env, REQUEST_METHOD="GET", PATH_INFO=path, QUERY_STRING=""),
                      lambda s, h, e=None: got.update(s=s, h=h))
        try:
            return got["s"], b"".join(body)
        finally:
            body.close()

    assert call(app, "/items/7/") == call(web_django_app.application, "/items/7/") == ("200 OK", b"item 7\n")
    (f,) = tmp_path.iterdir()
    p = pyrometer.load(str(f))
    assert p.meta["request.route"] == "/items/<int:n>/" and p.meta["request.path"] == "/items/7/"
    assert "django_slow_view" in stacks_functions(p)
