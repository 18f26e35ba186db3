"""Names of the threads seen while profiling.

The sampler (C) knows every thread by its ident but not by its Python name:
names live on ``threading.Thread`` objects.  Threads still alive when the
profile stops are named from ``threading.enumerate()``.  Threads that *ended*
during profiling are gone by then, so while at least one profile runs,
``threading._active`` (the dict threading keeps of running threads, keyed by
ident) is swapped for a dict subclass that notes a thread's name at the moment
threading removes it.  Nothing is wrapped, no hook is called per event and the
program's own threads see no difference; the swap is undone when the last
profile stops.

Limitation: CPython reuses the ident of an ended thread for a later one, and
the profile knows threads by ident; when several names shared one ident the
profile's thread is named after all of them ("a, b, c (+N more)").
Threads started with ``_thread.start_new_thread`` that never touch
``threading`` have no name at all.
"""
import threading

_MAX_NAMES = 4  # names kept per ident; more are only counted

_sessions = []  # Recorder instances of the running profiles


class _ActiveDict(dict):
    """Stand-in for ``threading._active`` that reports removals."""

    __slots__ = ()

    def __delitem__(self, ident):
        thread = dict.get(self, ident)
        if thread is not None:
            _note(ident, thread)
        dict.__delitem__(self, ident)

    def pop(self, ident, *default):
        thread = dict.get(self, ident)
        if thread is not None:
            _note(ident, thread)
        return dict.pop(self, ident, *default)


def _note(ident, thread):
    try:
        name = thread.name
    except Exception:  # a half-constructed or odd Thread subclass
        return
    for rec in _sessions:
        rec.add(ident, name)


# Profile.reroot's kind for code of pyrometer's that the program's own
# threads run (model/pm_reroot.c: PM_REROOT_FOLD).
_FOLD = 7


def hook_frames():
    """{(file, first line): kind} of the code above that runs on the
    program's threads (threading calls the dict's methods): a sample taken
    there is the caller's, as a plain dict's work would be, and no stack
    shows pyrometer's own frames."""
    codes = (_ActiveDict.__delitem__.__code__, _ActiveDict.pop.__code__, _note.__code__)
    return {(c.co_filename, c.co_firstlineno): _FOLD for c in codes}


def _lock():
    return getattr(threading, "_active_limbo_lock", None)


class Recorder:
    """Collects ident -> names for one profile, from start to stop."""

    def __init__(self):
        self._names = {}  # ident -> [names], insertion ordered, unique
        self._extra = {}  # ident -> count of names beyond _MAX_NAMES
        self._installed = False

    def add(self, ident, name):
        if ident is None or not isinstance(name, str):
            return
        names = self._names.setdefault(ident, [])
        if name in names:
            return
        if len(names) < _MAX_NAMES:
            names.append(name)
        else:
            self._extra[ident] = self._extra.get(ident, 0) + 1

    def start(self):
        for t in threading.enumerate():
            self.add(t.ident, t.name)
        lock = _lock()
        if lock is None or not isinstance(getattr(threading, "_active", None), dict):
            return  # an unusual threading module: live names only
        with lock:
            if not _sessions and type(threading._active) is dict:
                threading._active = _ActiveDict(threading._active)
            _sessions.append(self)
            self._installed = True

    def stop(self):
        if self._installed:
            lock = _lock()
            with lock:
                self._installed = False
                if self in _sessions:
                    _sessions.remove(self)
                active = threading._active
                if not _sessions and type(active) is _ActiveDict:
                    threading._active = dict(active)
        # Live threads last: their current name is the most useful one.
        for t in threading.enumerate():
            self.add(t.ident, t.name)

    def name_of(self, ident):
        """The display name for ident, or None when no name is known."""
        names = self._names.get(ident)
        if not names:
            return None
        text = ", ".join(names)
        extra = self._extra.get(ident, 0)
        if extra:
            text += " (+%d more)" % extra
        return text

    def idents(self):
        return list(self._names)
