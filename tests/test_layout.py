"""The frame layout against the interpreter's own _Py_DebugOffsets (3.13+):
the offsets taken from the headers agree with the ones the running binary
publishes, a field the interpreter puts elsewhere (a patch release) is taken
from it, and a table that is not what the headers declare is not used."""
import sys

import pytest

HAS_DEBUG_OFFSETS = sys.version_info >= (3, 13)


def test_headers_and_running_interpreter_agree(native):
    info = native._layout()
    if HAS_DEBUG_OFFSETS:
        assert info["debug_offsets"] == "agree", info["debug_offsets_note"]
        # thread states, frames, code objects, str/bytes and the GIL
        assert info["debug_offsets_fields"] >= 27
        assert info["debug_offsets_adopted"] == 0
        assert info["debug_offsets_note"] == ""
    else:
        assert info["debug_offsets"] == "none"
        assert info["debug_offsets_fields"] == 0


@pytest.mark.skipif(not HAS_DEBUG_OFFSETS, reason="_Py_DebugOffsets exist on 3.13+")
def test_a_field_published_elsewhere_is_taken_from_the_interpreter(native):
    here = native._layout()
    moved = native._layout(1)  # PyThreadState.current_frame published 8 bytes later
    assert moved["debug_offsets"] == "adopted"
    assert moved["debug_offsets_adopted"] == 1
    assert moved["ts_frame"] == here["ts_frame"] + 8
    assert moved["ts_read"] >= moved["ts_frame"] + 8  # the copied part still covers it
    assert moved["debug_offsets_note"] == "PyThreadState.current_frame: headers say offset %d, the interpreter %d" % (
        here["ts_frame"],
        here["ts_frame"] + 8,
    )


@pytest.mark.skipif(not HAS_DEBUG_OFFSETS, reason="_Py_DebugOffsets exist on 3.13+")
@pytest.mark.parametrize(
    "alter, note",
    [
        (2, "no _Py_DebugOffsets cookie in _PyRuntime"),
        (3, "_Py_DebugOffsets: frame owner at "),
    ],
)
def test_a_table_that_is_not_what_the_headers_declare_is_not_used(native, alter, note):
    here = native._layout()
    broken = native._layout(alter)
    assert broken["debug_offsets"] == "unusable"
    assert broken["debug_offsets_note"].startswith(note)
    assert broken["debug_offsets_adopted"] == 0
    for key in ("ts_frame", "fr_owner", "fr_read", "ts_read"):
        assert broken[key] == here[key]
