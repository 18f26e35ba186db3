"""One task burns CPU most of the time (the loop's thread runs) while
another sleeps 1 s."""
import asyncio
import time


def burn(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def sleeper():
    await asyncio.sleep(1.0)


async def worker():
    for _ in range(10):
        burn(0.06)
        await asyncio.sleep(0.04)


async def main():
    await asyncio.gather(sleeper(), worker())
    print("busy done")


asyncio.run(main())
