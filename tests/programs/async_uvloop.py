"""gather under uvloop (its loop runs in C: no _run_once frame)."""
import asyncio

import uvloop


async def short():
    await asyncio.sleep(0.1)


async def long():
    await asyncio.sleep(0.3)


async def main():
    for _ in range(4):
        await asyncio.gather(short(), long())
    print("uvloop done")


uvloop.install()
asyncio.run(main())
