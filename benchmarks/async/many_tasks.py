"""N tasks gathered by main, each sleeping in a loop (the loop thread mostly
waits): the workload of benchmarks/async/cost.py."""
import asyncio
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0


async def sleeper(i):
    loop = asyncio.get_running_loop()
    end = loop.time() + SECONDS
    while loop.time() < end:
        await asyncio.sleep(0.01 + (i % 10) * 0.001)


async def main():
    await asyncio.gather(*(sleeper(i) for i in range(N)))


asyncio.run(main())
