"""An asyncio coroutine chain: outer() awaits middle(), which awaits
inner(), which computes (crunch) between awaits."""
import asyncio
import sys
import time


def crunch():
    acc = 0
    for k in range(3000):
        acc = (acc * 31 + k) % 1000003  # MARK: crunch
    return acc


async def inner(deadline):
    total = 0
    while time.perf_counter() < deadline:
        total += crunch()  # MARK: inner
        await asyncio.sleep(0)
    return total


async def middle(deadline):
    return await inner(deadline)  # MARK: middle


async def outer(seconds):
    deadline = time.perf_counter() + seconds
    a, b = await asyncio.gather(middle(deadline), middle(deadline))  # MARK: outer
    return a + b


if __name__ == "__main__":
    asyncio.run(outer(float(sys.argv[1]) if len(sys.argv) > 1 else 0.8))
    print("done")
