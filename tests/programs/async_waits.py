"""wait_for of a coroutine, and a task that awaits a task it made."""
import asyncio


async def guarded():
    await asyncio.sleep(0.2)


async def leaf():
    await asyncio.sleep(0.1)


async def middle():
    inner = asyncio.ensure_future(leaf())
    await inner


async def main():
    for _ in range(4):
        await asyncio.wait_for(guarded(), timeout=30)
        await asyncio.create_task(middle())
    print("waits done")


asyncio.run(main())
