"""Per-request profiles: the process's one sampler, each request's samples
cut out of it (the C side: collect/pm_requests.c, model/pm_extract.c), and
what a kept request writes.  Shared by the WSGI and ASGI middleware."""
import itertools
import os
import sys
import threading
import time

from .. import _env, _profile
from . import otel

# Meta keys a per-request profile carries (read back by `pyrometer view DIR`).
REQUEST_KEYS = ("request.method", "request.path", "request.route", "request.status", "request.duration_ms")


class _SharedProfile(_profile.profile):
    """The process-wide profile whose sampler also charges each sample to the
    request its thread serves."""

    def _new_sampler(self, native):
        sampler = _profile.profile._new_sampler(self, native)
        self.requests = native.Requests(sampler)
        return sampler


_lock = threading.Lock()
_shared = None  # (pid, _SharedProfile): a forked worker starts its own
_ids = itertools.count(1)


def shared(rate=1000.0, mode="wall"):
    """The process's sampler, started on first use (in each worker after a
    fork); the first caller's rate and mode hold for the process."""
    s = _shared
    if s is not None and s[0] == os.getpid():
        return s[1]
    with _lock:
        return _start(rate, mode)


def _start(rate, mode):
    global _shared
    if _shared is None or _shared[0] != os.getpid():
        p = _SharedProfile(rate=rate, mode=mode, timeline=0)
        p.start()
        _shared = (os.getpid(), p)
    return _shared[1]


def stop():
    """Stops the process's sampler (an app shutting down; the next request
    starts a new one)."""
    global _shared
    with _lock:
        s, _shared = _shared, None
    if s is not None and s[0] == os.getpid():
        s[1].stop()


class Options:
    """The middleware options both servers' middleware share (werkzeug's
    ProfilerMiddleware conventions for profile_dir and filename_format)."""

    def __init__(self, profile_dir=None, filename_format="{method}.{path}.{elapsed:.0f}ms.{time:.0f}.pyro",
                 slower_than_ms=0, sample_every=1, format=None, rate=1000.0, mode="wall", allow_query=None,
                 on_profile=None):
        self.profile_dir = os.fspath(profile_dir) if profile_dir is not None else None
        self.filename_format = filename_format
        self.slower_than_ms = float(slower_than_ms)
        if int(sample_every) < 1:
            raise ValueError("sample_every is 1 or more")
        self.sample_every = int(sample_every)
        self.format = format
        self.rate = _profile.check_rate(rate)
        self.mode = _profile.check_mode(mode)
        if self.mode == "memory":
            raise ValueError("per-request profiles sample time: mode is wall, cpu or gil")
        if allow_query is not None and not callable(allow_query):
            raise TypeError("allow_query is a callable (request -> bool) or None")
        self.allow_query = allow_query
        self.on_profile = on_profile
        self._count = itertools.count()
        if self.profile_dir:
            os.makedirs(self.profile_dir, exist_ok=True)

    def sampled(self):
        return next(self._count) % self.sample_every == 0


class Middleware:
    """What the WSGI and ASGI middleware share: their options, and a
    request's end (target: the environ or the scope)."""

    def __init__(self, app, profile_dir=None, filename_format="{method}.{path}.{elapsed:.0f}ms.{time:.0f}.pyro",
                 slower_than_ms=0, sample_every=1, format=None, rate=1000.0, mode="wall", allow_query=None,
                 on_profile=None):
        self.app = app
        self.options = Options(profile_dir, filename_format, slower_than_ms, sample_every, format, rate, mode,
                               allow_query, on_profile)
        self._off = False
        self._warned = set()

    def _warn(self, what, exc):
        """One line on stderr, once per kind of trouble: the app never
        notices pyrometer, whatever fails on its side."""
        if what not in self._warned:
            self._warned.add(what)
            sys.stderr.write("pyrometer: %s: %s\n" % (what, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))

    def _begin(self, method, path):
        """A Request, or None when profiling cannot run here (the app then
        runs as if unwrapped)."""
        if self._off:
            return None
        try:
            return Request(self.options, method, path)
        except Exception as exc:
            self._off = True
            self._warn("per-request profiles are off", exc)
            return None

    def _finish(self, req, target, status=None, force=False):
        try:
            return self._keep(req, target, status, force)
        except Exception as exc:
            self._warn("cannot keep a request's profile", exc)
            return None

    def _keep(self, req, target, status, force):
        if status is not None:
            req.status = status
        req.route = self._route(target)
        data, elapsed = req.finish(self.options, force)
        if data is None:
            return None
        target["pyrometer.profiler"] = {"elapsed": elapsed, "time": req.start_unix}
        path = req.save(self.options, data, elapsed, target)
        if path is not None and req.span is not None and req.span.is_recording():
            req.span.set_attribute("pyrometer.profile", path)
        if self.options.on_profile is not None:
            self.options.on_profile(target, data)
        return data


class Request:
    """One profiled request: open from begin() to finish()."""

    __slots__ = ("core", "rid", "t0", "start_unix", "method", "path", "route", "status", "span", "await_rate")

    def __init__(self, opts, method, path):
        self.core = shared(opts.rate, opts.mode)
        # The time a coroutine's request waits counts in wall mode (the
        # process's sampler: the first caller's mode and rate).
        core = self.core._options
        self.await_rate = core["rate"] if core["mode"] == "wall" else 0.0
        self.rid = next(_ids)
        self.core.requests.open(self.rid)
        self.method, self.path, self.route, self.status = method, path, None, None
        self.start_unix = time.time()
        self.t0 = time.perf_counter()
        self.span = otel.current_span()

    def tag(self):
        """The calling thread serves this request now; returns the previous."""
        return self.core.requests.tag(self.rid)

    def untag(self, prev=0):
        self.core.requests.tag(prev)

    def finish(self, opts, force=False):
        """Ends the request; its profile (a ProfileData) when kept: slower
        than slower_than_ms, or forced."""
        elapsed_ms = (time.perf_counter() - self.t0) * 1000.0
        keep = force or elapsed_ms >= opts.slower_than_ms
        native = self.core.requests.take(self.rid, keep)
        if native is None:
            return None, elapsed_ms
        self._describe(native, opts, elapsed_ms)
        data = _profile.ProfileData(native)
        if self.span is not None:
            otel.link(self.span, native)
        return data, elapsed_ms

    def _describe(self, native, opts, elapsed_ms):
        native.set_meta("mode", opts.mode)
        native.set_meta("rate_hz", float(opts.rate))
        native.set_meta("duration_s", elapsed_ms / 1000.0)
        native.set_meta("start_unix", self.start_unix)
        native.set_meta("python", _env.python_version())
        native.set_meta("pyrometer", _env.pyrometer_version())
        native.set_meta("command", "%s %s" % (self.method, self.path))
        native.set_meta("request.method", self.method)
        native.set_meta("request.path", self.path)
        native.set_meta("request.route", self.route or self.path)
        if self.status is not None:
            native.set_meta("request.status", float(self.status))
        native.set_meta("request.duration_ms", elapsed_ms)

    def save(self, opts, data, elapsed_ms, fmt_target):
        """Writes a kept profile into profile_dir; returns its path."""
        if not opts.profile_dir:
            return None
        if callable(opts.filename_format):
            name = opts.filename_format(fmt_target)
        else:
            name = opts.filename_format.format(
                method=self.method, path=self.path.strip("/").replace("/", ".") or "root", elapsed=elapsed_ms,
                time=self.start_unix,
            )
        fmt = _profile.format_for_path(name, opts.format)
        payload = data.to_bytes(fmt)
        return _write_new(os.path.join(opts.profile_dir, name), payload)


_unique = itertools.count(1)


def _write_new(path, payload):
    """Writes payload to path, or, when that name is taken (two requests of
    the same path, second and duration), to path with .PID.N before its
    extension (N counting in this process: one try, not a search)."""
    stem, ext = os.path.splitext(path)
    candidate = path
    for _ in range(100):
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            candidate = "%s.%d.%d%s" % (stem, os.getpid(), next(_unique), ext)
            continue
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        return candidate
    raise OSError("cannot write %s: every name taken" % path)


def html_page(data):
    """The viewer page for a profile."""
    return data.to_bytes("html", source=False)
