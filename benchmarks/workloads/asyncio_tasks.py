"""An asyncio event loop with many tasks: producers put items on bounded
queues, workers take them, do a little work and hand results on to a
collector; every task yields with asyncio.sleep(0) now and then, so the loop
switches between hundreds of coroutines all the time.  One OS thread; the
Python stack is the event loop plus whichever coroutine runs.

    python asyncio_tasks.py SIZE   # SIZE = items (x100) through the pipeline
"""
import asyncio
import sys
import time

DESCRIPTION = "asyncio: many tasks, queues, sleep(0) switches on one event loop"
FULL_SIZE = 1550
QUICK_SIZE = 470
PRODUCERS = 20
WORKERS = 50


async def producer(index, count, queue):
    value = index + 1
    for i in range(count):
        value = (value * 1103515245 + 12345) & 0x7FFFFFFF
        await queue.put((index, i, value))
        if i % 4 == 0:
            await asyncio.sleep(0)


async def transform(value):
    await asyncio.sleep(0)
    return sum((value >> s) & 0xFF for s in range(0, 32, 8))


async def worker(inbox, outbox):
    while True:
        item = await inbox.get()
        if item is None:
            inbox.task_done()
            return
        index, i, value = item
        result = await transform(value)
        await outbox.put((index, i, result))
        inbox.task_done()


async def collector(outbox, expected, totals):
    for _ in range(expected):
        index, i, result = await outbox.get()
        # A sum, so the total does not depend on the order results arrive in.
        totals[index] = (totals.get(index, 0) + result * (i + 1)) % 1000000007


async def main_async(size):
    per_producer = size * 100 // PRODUCERS
    inbox = asyncio.Queue(maxsize=64)
    outbox = asyncio.Queue(maxsize=64)
    totals = {}
    workers = [asyncio.ensure_future(worker(inbox, outbox)) for _ in range(WORKERS)]
    collect = asyncio.ensure_future(collector(outbox, per_producer * PRODUCERS, totals))
    await asyncio.gather(*(producer(p, per_producer, inbox) for p in range(PRODUCERS)))
    for _ in workers:
        await inbox.put(None)
    await asyncio.gather(*workers)
    await collect
    return sorted(totals.items())


def work(size):
    totals = asyncio.run(main_async(size))
    checksum = 0
    for index, total in totals:
        checksum = (checksum * 33 + total) % 1000000007
    return "asyncio_tasks size=%d checksum=%d" % (size, checksum)


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else FULL_SIZE
    t0 = time.perf_counter()
    result = work(size)
    elapsed = time.perf_counter() - t0
    print(result)
    sys.stderr.write("pyrobench: work_s=%.6f\n" % elapsed)


if __name__ == "__main__":
    main()
