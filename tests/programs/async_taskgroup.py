"""A TaskGroup (3.11+) whose two tasks sleep 1:3; one is named."""
import asyncio


async def quick():
    await asyncio.sleep(0.1)


async def slow():
    await asyncio.sleep(0.3)


async def main():
    for _ in range(4):
        async with asyncio.TaskGroup() as group:
            group.create_task(quick())
            group.create_task(slow(), name="slow-one")
    print("group done")


asyncio.run(main())
