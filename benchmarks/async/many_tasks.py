"""N tasks gathered by main, each sleeping in a loop (the loop thread mostly
waits, unless each wake-up burns CPU): the workload of benchmarks/async/cost.py."""
import asyncio
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
BURN_MS = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0  # CPU per wake-up: the loop's thread runs


def burn(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def sleeper(i):
    loop = asyncio.get_running_loop()
    end = loop.time() + SECONDS
    done = 0
    while loop.time() < end:
        done += 1
        if BURN_MS:
            burn(BURN_MS / 1000)
        await asyncio.sleep(0.01 + (i % 10) * 0.001)
    return done


async def main():
    print(sum(await asyncio.gather(*(sleeper(i) for i in range(N)))))  # wake-ups: the program's throughput


asyncio.run(main())
