"""The start-up self-check: the native stack reader agrees with
sys._getframe() on this Python, frame by frame, and says how deep it looked."""
import sys


def nested(n, fn):
    if n == 0:
        return fn()
    return nested(n - 1, fn)


def my_depth():
    """The number of Python frames of the caller's stack."""
    f = sys._getframe(1)
    n = 0
    while f is not None:
        n += 1
        f = f.f_back
    return n


def test_supported(native):
    ok, reason = native.supported()
    assert ok is True, reason
    assert reason == ""


def test_a_newer_version_runs_only_when_its_layout_is_checked(native):
    """supported(newest) pretends the newest tested minor is the one before
    this one: 3.13+ pass on their _Py_DebugOffsets and the self-check, with a
    warning naming the versions known; older ones have no table to check
    against and are refused, with a reason."""
    minor = sys.version_info[1]
    ok, message = native.supported(minor - 1)
    known = "3.9-3.%d" % (minor - 1)
    if sys.version_info >= (3, 13):
        assert ok is True, message
        assert message.startswith("Python 3.%d is newer than the versions pyrometer is tested on (%s); " % (minor, known))
        assert "_Py_DebugOffsets" in message and "self-check" in message
        assert "\n" not in message
    else:
        assert ok is False
        assert message == (
            "it is newer than the versions pyrometer knows (%s) and its frame layout could not be checked "
            "against the interpreter's _Py_DebugOffsets (there are none)" % known
        )


def test_selfcheck_verifies_the_whole_stack(native):
    here = my_depth()
    assert native.selfcheck() == here


def test_selfcheck_from_a_nested_call(native):
    here = my_depth()
    depth = nested(20, native.selfcheck)
    assert isinstance(depth, int)
    assert depth == here + 21  # nested(20) ... nested(0)


def test_selfcheck_in_a_thread(native):
    import threading

    result = {}

    def body():
        result["expected"] = my_depth()
        result["depth"] = native.selfcheck()

    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert result["depth"] == result["expected"] > 0


def test_sampler_start_runs_the_check(native):
    p = native.Profile()
    s = native.Sampler(p, rate=500.0)
    s.start()
    try:
        assert s.running
    finally:
        s.stop()
    assert not s.running
    s.stop()  # idempotent
