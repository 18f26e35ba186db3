"""Claims sys.monitoring tool ids of its own (3.12+) and counts the calls of
a function with them; before 3.12, counts them with sys.setprofile and
sys.settrace.  Prints the counts: the same under any profiler."""
import sys


def work(n):
    return n if n < 2 else work(n - 1) + work(n - 2)


if sys.version_info >= (3, 12):
    mon = sys.monitoring
    ids = [int(a) for a in sys.argv[1:]] or list(range(6))
    counts = {}
    for tool in ids:
        mon.use_tool_id(tool, "mine-%d" % tool)
        counts[tool] = 0

        def on_start(code, offset, tool=tool):
            if code is work.__code__:
                counts[tool] += 1

        mon.register_callback(tool, mon.events.PY_START, on_start)
        mon.set_events(tool, mon.events.PY_START)
    work(12)
    for tool in ids:
        mon.set_events(tool, 0)
        mon.register_callback(tool, mon.events.PY_START, None)
        mon.free_tool_id(tool)
    print(sorted(counts.items()))
else:
    calls = []
    lines = []

    def prof(frame, event, arg):
        if event == "call" and frame.f_code is work.__code__:
            calls.append(1)

    def trace(frame, event, arg):
        if frame.f_code is work.__code__:
            return local
        return None

    def local(frame, event, arg):
        if event == "line":
            lines.append(frame.f_lineno)
        return local

    sys.setprofile(prof)
    sys.settrace(trace)
    work(12)
    sys.settrace(None)
    sys.setprofile(None)
    print(len(calls), len(lines), sorted(set(lines)))
