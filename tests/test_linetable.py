"""The sampler decodes line numbers itself, from the bytes of each code
object's line table (co_lnotab on 3.9, co_linetable after), without the GIL.
Check the decoder against the interpreter's own PyCode_Addr2Line for every
code unit of every code object in a large part of the standard library."""
import glob
import os
import sysconfig
import types

from pyrometer import _native


def _codes(co):
    yield co
    for c in co.co_consts:
        if isinstance(c, types.CodeType):
            yield from _codes(c)


def test_line_tables_match_the_interpreter_over_the_stdlib():
    stdlib = sysconfig.get_paths()["stdlib"]
    units = files = 0
    mismatches = []
    for path in sorted(glob.glob(os.path.join(stdlib, "*.py"))):
        try:
            with open(path, encoding="utf-8") as f:
                top = compile(f.read(), path, "exec")
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        files += 1
        for co in _codes(top):
            mine, ref = _native._linetable(co)
            units += len(mine)
            mismatches += [(path, co.co_name, i, a, b) for i, (a, b) in enumerate(zip(mine, ref)) if a != b]
    assert files > 100 and units > 200000
    assert mismatches[:5] == []


def test_line_table_of_unusual_code():
    # Huge line jumps (multi-byte deltas), negative deltas, lines without code.
    src = "def f():\n    x = 1\n" + "\n" * 300 + "    y = (x +\n\n\n 2)\n    return [i for i in\n range(y)]\n"
    ns = {}
    exec(compile(src, "<unusual>", "exec"), ns)
    for co in _codes(ns["f"].__code__):
        mine, ref = _native._linetable(co)
        assert mine == ref
