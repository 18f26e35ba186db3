"""Pushing a running profile (``pyrometer run --push URL``): every interval,
what the stacks gained since the last push (``Profile.delta``, in C) goes to
a Pyroscope server as pprof (``POST URL/ingest?name=NAME&from=&until=
&format=pprof&sampleRate=``, the default) or to an OpenTelemetry collector as
OTLP profiles (``--push-format otlp``: ``POST URL/v1development/profiles``,
an ExportProfilesServiceRequest whose resource's service.name is NAME).  A
background thread does the sending: the program never waits for the
network.  A failed push is kept and retried with exponential backoff (0.5 s
doubling to 60 s); at most max_queue intervals wait, the oldest dropped
first (counted).  Tags (``--tags k=v,...``) go into Pyroscope's name
(``NAME{k=v,...}``) or, for OTLP, become the resource's attributes.

From Python, ``pyrometer.start_continuous(url, app_name, ...)`` samples the
whole process and pushes it the same way until ``stop()`` or exit."""
import atexit
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from .. import _env, _profile

FORMATS = ("pyroscope", "otlp")
OTLP_PROFILES_PATH = "/v1development/profiles"
_TAG_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
_TAG_VALUE = re.compile(r"[^\s,{}=\"]+\Z")


def parse_tags(tags):
    """"k=v,k2=v2" or a mapping -> [(key, value)] in order.  ValueError for a
    malformed one: a key is a name (letters, digits, _ and .), a value has
    no space, comma, brace, quote or '='."""
    if tags is None:
        return []
    if isinstance(tags, str):
        pairs = []
        for item in tags.split(","):
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError("malformed tag %r: give key=value[,key=value...]" % item)
            pairs.append((key.strip(), value.strip()))
    elif hasattr(tags, "items"):
        pairs = [(k, v) for k, v in tags.items()]
    else:
        raise TypeError("tags are \"key=value,...\" or a dict, not %s" % type(tags).__name__)
    for key, value in pairs:
        if not isinstance(key, str) or not _TAG_KEY.match(key):
            raise ValueError("malformed tag key %r: letters, digits, _ and ." % (key,))
        if not isinstance(value, str) or not _TAG_VALUE.match(value):
            raise ValueError("malformed value %r of tag %s: no space, comma, brace, quote or =" % (value, key))
    if len({k for k, _ in pairs}) != len(pairs):
        raise ValueError("a tag is given twice in %r" % (tags,))
    return pairs


def check_app_name(name):
    if not isinstance(name, str) or not name or any(c in name for c in "{}, \n="):
        raise ValueError("invalid app name %r: a name without spaces, commas, braces or '='" % (name,))
    return name


def check_url(url):
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError("invalid push URL %r: give the server's http:// or https:// URL" % (url,))
    return url


class Pusher:
    def __init__(self, native_profile, url, app_name, interval=10.0, rate=1000.0, mode="wall", timeout=5.0,
                 max_queue=20, format="pyroscope", tags=None):
        if format not in FORMATS:
            raise ValueError("unknown push format %r (%s)" % (format, " or ".join(FORMATS)))
        self.native = native_profile
        self.format = format
        self.tags = parse_tags(tags)
        self.url = url.rstrip("/")
        self.app_name = app_name
        self.interval = float(interval)
        self.rate = float(rate)
        self.mode = mode
        self.timeout = timeout
        self.max_queue = max_queue
        self.queue = []  # (from_unix, until_unix, body: pprof or OTLP profiles)
        self.sent = self.failed = self.dropped = 0
        self._state = None
        self._last = time.time()
        self._stop = threading.Event()
        self._retry_at = 0.0
        self._backoff = 0.5
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="pyrometer-push", daemon=True)
        # (frames, thread) for Profile.reroot: each interval's stacks start
        # at the program, as the run's own profile does (cli/run.py).
        self.reroot = None

    def start(self):
        self._last = time.time()
        self._thread.start()
        return self

    def _loop(self):
        while not self._stop.wait(self.interval):
            self._collect()
            self._send_due()

    def _collect(self):
        with self._lock:
            now = time.time()
            prof, self._state = self.native.delta(self._state)
            prof.set_meta("mode", self.mode)
            prof.set_meta("rate_hz", self.rate)
            prof.set_meta("duration_s", max(0.0, now - self._last))
            prof.set_meta("start_unix", self._last)
            prof.set_meta("pyrometer", _env.pyrometer_version())
            if self.app_name:
                prof.set_meta("service_name", self.app_name)
            for key, value in self.tags:
                prof.set_meta("resource." + key, value)  # OTLP: the resource's attributes
            if self.reroot is not None:
                try:
                    prof.reroot(*self.reroot)
                except Exception:  # the interval goes out whole rather than not at all
                    pass
            body = prof.to_bytes("pprof" if self.format == "pyroscope" else "otlp-profiles")
            self.queue.append((self._last, now, body))
            self._last = now
            while len(self.queue) > self.max_queue:
                self.queue.pop(0)
                self.dropped += 1

    def _send_due(self, deadline=None):
        while self.queue and time.monotonic() >= self._retry_at:
            if deadline is not None and time.monotonic() >= deadline:
                return
            t0, t1, body = self.queue[0]
            if self._post(t0, t1, body):
                with self._lock:
                    self.queue.pop(0)
                self.sent += 1
                self._backoff = 0.5
            else:
                self.failed += 1
                self._retry_at = time.monotonic() + self._backoff
                self._backoff = min(60.0, self._backoff * 2)
                return

    def _post(self, t0, t1, body):
        if self.format == "otlp":
            url = self.url if self.url.endswith(OTLP_PROFILES_PATH) else self.url + OTLP_PROFILES_PATH
            req = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/x-protobuf"})
        else:
            name = self.app_name
            if self.tags:
                name += "{%s}" % ",".join("%s=%s" % kv for kv in self.tags)
            query = urllib.parse.urlencode({
                "name": name, "from": int(t0), "until": max(int(t0) + 1, int(t1 + 0.999)),
                "format": "pprof", "sampleRate": int(self.rate), "spyName": "pyrometer",
            })
            req = urllib.request.Request(self.url + "/ingest?" + query, data=body, method="POST",
                                         headers={"Content-Type": "application/octet-stream"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                r.read()
                return 200 <= r.status < 300
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def stop(self, wait=2.0):
        """Stops the thread, then sends the last interval (and any still
        waiting) for at most `wait` seconds more, ignoring the backoff."""
        self._stop.set()
        self._thread.join(wait)
        self._collect()
        self._retry_at = 0.0
        deadline = time.monotonic() + wait
        while self.queue and time.monotonic() < deadline:
            n = len(self.queue)
            self._send_due(deadline)
            if len(self.queue) == n:
                break
        return self


class Continuous:
    """A process sampled and pushed until stop() (or the interpreter's exit);
    sent, failed and dropped count the intervals."""

    def __init__(self, profile, pusher):
        self.profile = profile
        self.pusher = pusher
        self._lock = threading.Lock()
        self._stopped = False
        atexit.register(self.stop)

    sent = property(lambda self: self.pusher.sent)
    failed = property(lambda self: self.pusher.failed)
    dropped = property(lambda self: self.pusher.dropped)

    def stop(self, wait=2.0):
        """Stops sampling and pushes what is left (for at most `wait` s)."""
        with self._lock:
            if self._stopped:
                return self
            self._stopped = True
        atexit.unregister(self.stop)
        try:
            self.pusher.stop(wait)
        finally:
            self.profile.stop()
        return self


def start_continuous(url, app_name, *, tags=None, interval=10.0, format="pyroscope", rate=1000.0, mode="wall"):
    """Samples the whole process (every thread) and pushes what it gained
    every `interval` seconds to a Pyroscope server (format="pyroscope",
    pprof to URL/ingest) or an OpenTelemetry collector (format="otlp", OTLP
    profiles to URL/v1development/profiles), in the background, until
    stop() or exit.  Every argument is checked here: ValueError or TypeError
    before anything starts."""
    check_url(url)
    check_app_name(app_name)
    if format not in FORMATS:
        raise ValueError("unknown push format %r: %s" % (format, " or ".join(FORMATS)))
    pairs = parse_tags(tags)
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 0.05 <= interval <= 3600:
        raise ValueError("interval is seconds from 0.05 to 3600, not %r" % (interval,))
    if mode not in ("wall", "cpu", "gil"):
        raise ValueError("mode is wall, cpu or gil, not %r" % (mode,))
    rate = _profile.check_rate(rate)
    prof = _profile.profile(rate=rate, mode=mode, timeline=0).start()
    prof._p.set_meta("service_name", app_name)
    pusher = Pusher(prof._p, url, app_name, interval, rate=rate, mode=mode, format=format, tags=dict(pairs))
    pusher.start()
    return Continuous(prof, pusher)
