"""A program recursing deeper than its C stack could hold, were every Python
call a C frame (which the frame-evaluation hook makes them on 3.9-3.11),
runs under every mode exactly as it runs alone: same output, same exit.

3.11+ run Python-to-Python calls without C recursion, so the program goes
150,000 deep there and up to its recursion limit.  On 3.9/3.10 every call
takes C stack anyway: 18,000 is what a plain run survives with room."""
import sys

import pytest

from conftest import program, run_plain, run_pyrometer

DEEP = sys.version_info >= (3, 11)
ARGS = ["150000", "limit"] if DEEP else ["18000"]


@pytest.fixture(scope="module")
def plain():
    p = run_plain(program("deep_recursion.py"), *ARGS, timeout=300)
    assert p.returncode == 0, p.stderr.decode("utf-8", "replace")[-2000:]
    assert p.stdout.splitlines()[0] == b"main " + ARGS[0].encode()
    return p


@pytest.mark.parametrize("mode", ["wall", "calls", "lines"])
def test_deep_recursion_runs_as_without_pyrometer(tmp_path, plain, mode):
    out = tmp_path / "deep.pyro"
    prof = run_pyrometer("run", "--mode", mode, "-o", out, program("deep_recursion.py"), *ARGS,
                         timeout=600)
    assert prof.returncode == plain.returncode, prof.stderr.decode("utf-8", "replace")[-2000:]
    assert prof.stdout == plain.stdout
    assert out.stat().st_size > 0


def test_deep_recursion_under_the_profile_class(plain):
    code = (
        "import runpy, sys, pyrometer\n"
        "sys.argv = [sys.argv[1]] + sys.argv[2:]\n"
        "p = pyrometer.Profile(builtins=False)  # the frame-evaluation hook on 3.9-3.11\n"
        "p.enable()\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "p.disable()\n"
        "p.create_stats()\n"
        "assert any(k[2] == 'down' for k in p.stats), list(p.stats)[:5]\n"
    )
    prof = run_plain("-c", code, program("deep_recursion.py"), *ARGS, timeout=600)
    assert prof.returncode == 0, prof.stderr.decode("utf-8", "replace")[-2000:]
    assert prof.stdout == plain.stdout
