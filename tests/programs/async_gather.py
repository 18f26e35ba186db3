"""Three coroutines gathered by main, sleeping 1:2:3 (a scale factor from argv)."""
import asyncio
import sys

SCALE = float(sys.argv[1]) if len(sys.argv) > 1 else 0.1
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5


async def short():
    await asyncio.sleep(1 * SCALE)


async def medium():
    await asyncio.sleep(2 * SCALE)


async def long():
    await asyncio.sleep(3 * SCALE)


async def main():
    for i in range(ROUNDS):
        await asyncio.gather(short(), medium(), long())
        print("round", i)
    return "done"


print(asyncio.run(main()))
