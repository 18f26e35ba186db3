"""ASGI middleware: a profile per HTTP request, from the process's one
sampler.

    app = ProfilerMiddleware(app, profile_dir="profiles", slower_than_ms=100)

The request's coroutine is driven one step at a time, the loop's thread
tagged with the request during each step, so each sample is charged to the
task running at that moment: concurrent requests in one event loop keep
apart.  The time between two steps, when the request waits (its awaits: a
sleep, a database's answer), is charged to it too in wall mode, at the
stack where it waits (the loop's stack, then the request's coroutines down
to the awaited one), as its share of samples.  Work the request hands to
other tasks or threads (background tasks, a sync endpoint's thread pool) is
not charged to it, but the wait for it is.  Scopes other than
http (lifespan, websocket) pass through untouched, as do the response
messages and exceptions.  Options as pyrometer.integrations.wsgi's;
allow_query and filename_format callables receive the scope.
"""
import time
from urllib.parse import parse_qs

from . import _requests


class ProfilerMiddleware(_requests.Middleware):
    async def __call__(self, scope, receive, send):
        o = self.options
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)
        viewer = o.allow_query is not None and _asks_viewer(scope.get("query_string", b"")) and o.allow_query(scope)
        req = self._begin(scope.get("method", ""), scope.get("path", "")) if viewer or o.sampled() else None
        if req is None:
            return await self.app(scope, receive, send)
        held = []

        async def watch(message):
            if message.get("type") == "http.response.start":
                req.status = message.get("status")
            if viewer:
                held.append(message)
            else:
                await send(message)

        try:
            await _Stepped(self.app(scope, receive, watch), req)
        except BaseException:
            self._finish(req, scope, 500 if req.status is None else req.status)
            raise
        data = self._finish(req, scope, force=viewer)
        if viewer:
            page = _requests.html_page(data) if data is not None else b"pyrometer: no profile (see the server's log)\n"
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                    (b"content-length", str(len(page)).encode())]})
            await send({"type": "http.response.body", "body": page})

    def _route(self, scope):
        return _starlette_route(scope) or scope.get("pyrometer.route")


class _Stepped:
    """Awaits a coroutine, tagging the thread with the request around each
    of its steps (and putting the previous tag back between them)."""

    __slots__ = ("_awaitable", "_req")

    def __init__(self, awaitable, req):
        self._awaitable = awaitable
        self._req = req

    def __await__(self):
        coro, req = self._awaitable, self._req
        it = coro.__await__()
        send, throw = it.send, it.throw
        rate = req.await_rate
        awaited = req.core.requests.awaited if rate else None
        value, exc, since = None, None, 0
        while True:
            prev = req.tag()
            if since:  # called from here: the stack is the loop's, as in a step
                awaited(req.rid, coro, since, rate)
            try:
                if exc is None:
                    yielded = send(value)
                else:
                    yielded = throw(exc)
            except StopIteration as stop:
                return stop.value
            finally:
                req.untag(prev)
            if awaited is not None:
                since = time.monotonic_ns()
            try:
                value, exc = (yield yielded), None
            except BaseException as e:  # thrown in (cancellation): passed on
                value, exc = None, e


def _starlette_route(scope):
    """The path pattern of the route Starlette matched: scope["route"]
    (newer Starlette), else the route of scope["endpoint"] in the app's
    router."""
    route = scope.get("route")
    if route is None and "endpoint" in scope:
        router = getattr(scope.get("app"), "router", None)
        for r in getattr(router, "routes", ()):
            if getattr(r, "endpoint", None) is scope["endpoint"]:
                route = r
                break
    return getattr(route, "path", None)


def _asks_viewer(query):
    query = query.decode("latin-1") if isinstance(query, bytes) else query
    return "pyrometer" in query and "pyrometer" in parse_qs(query, keep_blank_values=True)
