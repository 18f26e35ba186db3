"""WSGI middleware: a profile per request, from the process's one sampler.

    app.wsgi_app = ProfilerMiddleware(app.wsgi_app, profile_dir="profiles",
                                      slower_than_ms=100)

Each sample is charged to the request its thread serves (the thread is
tagged from the call until the response iterable is closed, so a streamed
body counts), so concurrent requests in threads keep apart.  The response,
its status, headers, body and exceptions pass through unchanged.  Options as
werkzeug's ProfilerMiddleware (profile_dir, filename_format, which may also
be a callable of environ with environ["pyrometer.profiler"] = {"elapsed": ms,
"time": t}) plus:

slower_than_ms  keep only requests at least this slow
sample_every    profile one request in N
format          the written format (default from the file name: .pyro)
rate, mode      the sampler's (the first middleware's hold for the process)
allow_query     callable(environ) -> bool: when it says yes, ``?pyrometer``
                in the query returns the viewer page for that request
                instead of its response
on_profile      callable(environ, profile) for every kept request
"""
from urllib.parse import parse_qs

from . import _requests


class ProfilerMiddleware(_requests.Middleware):
    def __call__(self, environ, start_response):
        o = self.options
        if o.allow_query is not None and _asks_viewer(environ.get("QUERY_STRING", "")) and o.allow_query(environ):
            return self._viewer(environ, start_response)
        req = self._begin(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")) if o.sampled() else None
        if req is None:
            return self.app(environ, start_response)
        prev = req.tag()

        def start(status, headers, exc_info=None):
            req.status = _status_code(status)
            return start_response(status, headers) if exc_info is None else start_response(status, headers, exc_info)

        try:
            body = self.app(environ, start)
        except BaseException:
            req.untag(prev)
            self._finish(req, environ, 500 if req.status is None else req.status)
            raise
        return _Body(body, lambda: (req.untag(prev), self._finish(req, environ)))

    def _route(self, environ):
        return environ.get("pyrometer.route")

    def _viewer(self, environ, start_response):
        """Runs the request to its end, then answers with its profile."""
        req = self._begin(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        if req is None:
            return self.app(environ, start_response)
        prev = req.tag()
        try:
            def start(status, headers, exc_info=None):
                req.status = _status_code(status)
                return lambda data: None

            body = self.app(environ, start)
            try:
                for _ in body:
                    pass
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        finally:
            req.untag(prev)
        data = self._finish(req, environ, force=True)
        page = _requests.html_page(data) if data is not None else b"pyrometer: no profile (see the server's log)\n"
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))])
        return [page]


class _Body:
    """The app's response iterable, unchanged, with the request's end at
    close() (the server calls it after the last byte, or on an error)."""

    __slots__ = ("_body", "_done")

    def __init__(self, body, done):
        self._body = body
        self._done = done

    def __iter__(self):
        return iter(self._body)

    def close(self):
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


def _asks_viewer(query):
    return "pyrometer" in query and "pyrometer" in parse_qs(query, keep_blank_values=True)


def _status_code(status):
    try:
        return int(str(status).split(None, 1)[0])
    except (ValueError, IndexError):
        return None
