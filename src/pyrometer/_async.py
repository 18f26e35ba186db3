"""``--async``: the live objects the sampler calibrates asyncio's task layout
with (Modules/_asynciomodule.c's Task and Future are in no header, and differ
per version), and where the tasks are.  Imported only when asked for."""

import asyncio
import asyncio.base_events
import asyncio.runners
import asyncio.tasks
import sys


class AsyncUnsupported(Exception):
    pass


def _task_sets():
    if sys.version_info >= (3, 14):
        return []  # its C tasks are in lists headed in thread states (pm_layout_async.c)
    t = asyncio.tasks
    sets = []
    if getattr(t, "_scheduled_tasks", None) is not None:  # 3.12+
        sets.append((t._scheduled_tasks.data, True))
        sets.append((t._eager_tasks, False))
    elif getattr(t, "_all_tasks", None) is not None:  # 3.9-3.11
        sets.append((t._all_tasks.data, True))
    else:
        raise AsyncUnsupported("this asyncio keeps no set of its tasks")
    return sets


def calibration():
    """A dict of objects for Sampler.set_async, and what keeps them alive
    until it has read them (the caller drops it afterwards)."""
    Task, Future = asyncio.tasks.Task, asyncio.Future
    if Task.__module__ != "_asyncio" or Future.__module__ != "_asyncio":
        raise AsyncUnsupported("asyncio runs without its C module")
    loop = asyncio.new_event_loop()
    try:
        fut = loop.create_future()

        async def probe():
            await fut

        coro = probe()
        name = "pyrometer-probe-%x" % id(loop)
        # Named at creation: an unnamed task would take a number from the
        # counter the program's own tasks are named by (Task-1, ...).
        task = loop.create_task(coro, name=name)
        _turn(loop)  # the task starts and waits on fut
        wakeup = fut._callbacks[0][0]
        pending, cancelled, finished = loop.create_future(), loop.create_future(), loop.create_future()
        cancelled.cancel()
        finished.set_result(None)

        def cb(f):
            pass

        def cb2(f):
            pass

        one_cb, two_cb = loop.create_future(), loop.create_future()
        one_cb.add_done_callback(cb)
        two_cb.add_done_callback(cb)
        two_cb.add_done_callback(cb2)
        runner_codes = [asyncio.runners.run.__code__]
        if hasattr(asyncio.runners, "Runner"):
            runner_codes.append(asyncio.runners.Runner.run.__code__)
        info = dict(
            sets=_task_sets(),
            task_type=Task,
            future_type=Future,
            gathering_type=asyncio.tasks._GatheringFuture,
            task=task,
            coro=coro,
            awaited=coro.cr_await,
            fut=fut,
            loop=loop,
            name=task.get_name(),
            pending=pending,
            cancelled=cancelled,
            finished=finished,
            one_cb=one_cb,
            two_cb=two_cb,
            cb=cb,
            wakeup=wakeup,
            run_once_code=asyncio.base_events.BaseEventLoop._run_once.__code__,
            runner_codes=runner_codes,
        )
    except Exception:
        loop.close()
        raise
    return info, loop


def finish(info, loop):
    """Ends the probe task and closes the loop, leaving no trace."""
    info["task"].cancel()
    try:
        _turn(loop)
    finally:
        loop.close()


def _turn(loop):
    # One turn of the loop, with no task of its own (run_until_complete
    # would make one, and take a number from the task name counter).
    loop.call_soon(loop.stop)
    loop.run_forever()
