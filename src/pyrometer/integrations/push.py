"""Pushing a running profile to a Pyroscope server (``pyrometer run --push
URL --app-name NAME``): every interval, what the stacks gained since the
last push (``Profile.delta``, in C) goes as pprof to Pyroscope's ingest API
(``POST URL/ingest?name=NAME&from=&until=&format=pprof&sampleRate=``).  A
background thread does the sending: the program never waits for the
network.  A failed push is kept and retried with exponential backoff (0.5 s
doubling to 60 s); at most max_queue intervals wait, the oldest dropped
first (counted)."""
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from .. import _env


class Pusher:
    def __init__(self, native_profile, url, app_name, interval=10.0, rate=1000.0, mode="wall", timeout=5.0,
                 max_queue=20):
        self.native = native_profile
        self.url = url.rstrip("/")
        self.app_name = app_name
        self.interval = float(interval)
        self.rate = float(rate)
        self.mode = mode
        self.timeout = timeout
        self.max_queue = max_queue
        self.queue = []  # (from_unix, until_unix, pprof bytes)
        self.sent = self.failed = self.dropped = 0
        self._state = None
        self._last = time.time()
        self._stop = threading.Event()
        self._retry_at = 0.0
        self._backoff = 0.5
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="pyrometer-push", daemon=True)

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
            self.queue.append((self._last, now, prof.to_bytes("pprof")))
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
        query = urllib.parse.urlencode({
            "name": self.app_name, "from": int(t0), "until": max(int(t0) + 1, int(t1 + 0.999)),
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
