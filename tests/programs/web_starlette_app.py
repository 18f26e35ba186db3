"""A Starlette app for the per-request profile tests (async endpoints):
fast requests, and slow ones whose handler is named by a colour.
WEB_PROFILE_DIR set: wrapped in pyrometer's ASGI middleware."""
import asyncio
import os
import time

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route


def burn(ms):
    end = time.perf_counter() + ms / 1000.0
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def fast_handler(n):
    return "fast %d %d\n" % (n, sum(range(n)))


async def slow_red(n):
    burn(60)
    await asyncio.sleep(0.6)
    burn(10)
    return "slow red %d\n" % n


async def slow_blue(n):
    burn(60)
    await asyncio.sleep(0.6)
    burn(10)
    return "slow blue %d\n" % n


async def fast(request):
    return PlainTextResponse(fast_handler(request.path_params["n"]))


async def slow(request):
    handler = {"red": slow_red, "blue": slow_blue}[request.path_params["colour"]]
    return PlainTextResponse(await handler(request.path_params["n"]))


async def stream(request):
    async def chunks():
        for i in range(request.path_params["n"]):
            yield "chunk %d\n" % i

    return StreamingResponse(chunks(), media_type="text/plain")


async def boom(request):
    raise RuntimeError("boom")


app = Starlette(routes=[
    Route("/fast/{n:int}", fast),
    Route("/slow/{colour}/{n:int}", slow),
    Route("/stream/{n:int}", stream),
    Route("/boom", boom),
])

if os.environ.get("WEB_PROFILE_DIR"):
    from pyrometer.integrations.asgi import ProfilerMiddleware

    app = ProfilerMiddleware(app, profile_dir=os.environ["WEB_PROFILE_DIR"], slower_than_ms=400)
