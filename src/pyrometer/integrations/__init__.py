"""Integrations: pyrometer where programs already run — the pytest plugin
(pytest_plugin.py, entry point ``pytest11``), IPython/Jupyter magics
(jupyter.py, ``%load_ext pyrometer``), per-request profiles of WSGI and ASGI
apps (wsgi.py, asgi.py, flask.py, django.py; shared: _requests.py),
OpenTelemetry links (otel.py) and the push to Pyroscope (push.py).  They start and stop the profiling
sessions of the API; what this module shares is the choice of session."""

MODES = ("wall", "cpu", "gil", "calls", "lines", "memory")


def new_session(mode="wall", rate=None, memory_rate=None, targets=None, idle=True):
    """A profiling session (start/stop, the ProfileData interface) of any mode.
    ValueError for a mode or option that does not exist."""
    if mode not in MODES:
        raise ValueError("unknown mode %r (choose from %s)" % (mode, ", ".join(MODES)))
    if mode == "calls":
        from .._calls import CallsProfile

        return CallsProfile()
    if mode == "lines":
        from .._lines import LinesProfile

        return LinesProfile(targets=list(targets or ()), root=None)
    from .._profile import profile

    if mode == "memory":
        from .._memory import DEFAULT_RATE

        return profile(mode="memory", memory_rate=memory_rate or DEFAULT_RATE)
    return profile(mode=mode, rate=rate or 1000.0, idle=idle)


_UNITS = {"b": 1, "kb": 1024, "kib": 1024, "mb": 1024 ** 2, "mib": 1024 ** 2, "gb": 1024 ** 3, "gib": 1024 ** 3}


def parse_size(text):
    """"24 MB" -> bytes (KB/MB/GB are powers of 1024, as pytest-memray reads
    them; KiB/MiB/GiB too).  ValueError otherwise."""
    s = str(text).strip().lower().replace(" ", "")
    num = s.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = s[len(num):] or "b"
    try:
        value = float(num)
    except ValueError:
        raise ValueError("not a size: %r (e.g. \"24 MB\")" % (text,)) from None
    if unit not in _UNITS or value < 0:
        raise ValueError("not a size: %r (units: B, KB, MB, GB)" % (text,))
    return int(value * _UNITS[unit])


def size_text(n):
    for unit, k in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if abs(n) >= k:
            return "%.1f %s" % (n / k, unit)
    return "%d B" % n
