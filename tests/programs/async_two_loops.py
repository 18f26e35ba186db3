"""Two event loops in two threads, each gathering two naps (1:2); eager
tasks (3.12+) in the second."""
import asyncio
import threading


async def nap(t):
    await asyncio.sleep(t)


async def main(t, eager):
    if eager and hasattr(asyncio, "eager_task_factory"):
        asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    for _ in range(3):
        await asyncio.gather(nap(t), nap(2 * t))


thread = threading.Thread(target=lambda: asyncio.run(main(0.05, True)), name="other-loop")
thread.start()
asyncio.run(main(0.1, False))
thread.join()
print("two loops done")
