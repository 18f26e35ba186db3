"""An asyncio program that forks workers, cancels a task, times one out,
names its tasks, and ends with an exception: run plainly and under
--async, everything it shows must be the same."""
import asyncio
import concurrent.futures
import multiprocessing


def square(x):
    return x * x


async def forever():
    await asyncio.sleep(3600)


async def main():
    loop = asyncio.get_running_loop()
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as pool:
        print(sorted(await asyncio.gather(*(loop.run_in_executor(pool, square, i) for i in range(4)))))
    t = asyncio.ensure_future(forever())
    await asyncio.sleep(0.05)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("cancelled", t.get_name())
    try:
        await asyncio.wait_for(forever(), 0.05)
    except asyncio.TimeoutError:
        print("timed out")
    print(asyncio.current_task().get_name(), len(asyncio.all_tasks()))
    raise ValueError("the end")


asyncio.run(main())
