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
import time
from pathlib import Path

import pytest

import pyrometer
from conftest import PROGRAMS

flask = pytest.importorskip("flask")
requests = pytest.importorskip("requests")


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
    # failing request are under slower_than_ms).
    assert sorted(kept) == slow_paths, sorted(kept)
    for path, p in kept.items():
        colour = path.split("/")[2]
        other = "blue" if colour == "red" else "red"
        names = stacks_functions(p)
        assert "slow_" + colour in names, (path, sorted(names))
        assert "burn" in names
        # No frame of a concurrent request: the other colour, a fast one.
        assert "slow_" + other not in names, (path, sorted(names))
        assert "fast_handler" not in names and "fast" not in names, (path, sorted(names))
        assert p.meta["request.status"] == 200
        assert p.meta["request.method"] == "GET"
        assert p.meta["request.duration_ms"] >= 200
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
