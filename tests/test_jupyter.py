"""The IPython magics in a real notebook, executed headlessly by nbclient on
an ipykernel kernel: each magic's output holds the viewer and the profile's
functions; the calls-mode counts are cProfile's for the same statements,
run in the same kernel; the viewer in the output starts in a real browser
inside its iframe; a bad option is IPython's one-line UsageError."""
import os
import re
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
nbformat = pytest.importorskip("nbformat", reason="nbformat, nbclient and ipykernel: the test extra (3.9: scripts/test installs them after it)")
nbclient = pytest.importorskip("nbclient", reason="nbformat, nbclient and ipykernel: the test extra (3.9: scripts/test installs them after it)")

DEFS = '''
def hot(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

def cold(n):
    return sum(range(n))
'''

CELLS = [
    "%load_ext pyrometer",
    DEFS,
    "%pyrometer hot(400000); cold(1000)",
    "%%pyrometer --mode calls --top 20\nhot(1000)\nhot(2000)\ncold(10)",
    "import cProfile, pstats\npr = cProfile.Profile()\npr.enable()\nhot(1000)\nhot(2000)\ncold(10)\npr.disable()\n"
    "print({k[2]: v[1] for k, v in pstats.Stats(pr).stats.items() if k[2] in ('hot', 'cold')})",
    "%pyrometer_lines -f hot hot(20000)",
    "%pyrometer --bogus hot(1)",
    "%pyrometer -m cpu --rate 2000 --text hot(300000)",
    "%pyrometer -m memory x = [bytes(1000) for _ in range(20000)]",
    "%pyrometer 1 / 0",
]


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True)
    client.execute()
    return nb


def data_of(cell, mime):
    return [o["data"][mime] for o in cell.outputs if o.get("output_type") in ("display_data", "execute_result")
            and mime in o.get("data", {})]


def errors_of(cell):
    return [o for o in cell.outputs if o.get("output_type") == "error"]


def test_line_magic_shows_viewer_and_functions(executed):
    cell = executed.cells[2]
    assert errors_of(cell) == []
    html = data_of(cell, "text/html")
    text = data_of(cell, "text/plain")
    assert len(html) == 1 and html[0].startswith("<iframe") and "srcdoc=" in html[0]
    assert "pyrometer-data" in html[0] and "hot" in html[0]
    assert "hot" in text[0]
    # The stacks start at the statement, not in IPython's machinery.
    assert "<module>  <pyrometer>:1" in text[0] and "run_cell" not in text[0]


def test_cell_magic_calls_mode_counts_as_cprofile(executed):
    cell, ref = executed.cells[3], executed.cells[4]
    assert errors_of(cell) == [] and errors_of(ref) == []
    text = data_of(cell, "text/plain")[0]
    want = eval("".join(o["text"] for o in ref.outputs if o.get("name") == "stdout"))
    got = {}
    for line in text.splitlines():
        m = re.match(r"\s*(\d+)(?:/\d+)?\s.*\((hot|cold)\)\s*$", line)
        if m:
            got[m.group(2)] = int(m.group(1))
    assert got == want == {"hot": 2, "cold": 1}
    assert data_of(cell, "text/html")


def test_lines_magic_is_lprun(executed):
    cell = executed.cells[5]
    assert errors_of(cell) == []
    text = data_of(cell, "text/plain")[0]
    assert "Line #" in text and "Hits" in text and "s += i * i" in text
    hits = [line.split() for line in text.splitlines() if line.rstrip().endswith("s += i * i")]
    assert hits and int(hits[0][1]) == 20000
    assert data_of(cell, "text/html")


def test_unknown_option_is_a_usage_error(executed):
    cell = executed.cells[6]
    # IPython prints a magic's UsageError as one line on stderr, no traceback.
    err = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr")
    assert err.strip().splitlines() == [
        "UsageError: pyrometer: unknown option '--bogus' (options: --mode --output --rate --text --top -m -o -r -t)"]
    assert data_of(cell, "text/plain") == []


def test_text_only_and_memory_mode(executed):
    cell = executed.cells[7]
    assert errors_of(cell) == [] and data_of(cell, "text/html") == []
    assert "hot" in data_of(cell, "text/plain")[0] and "cpu" in data_of(cell, "text/plain")[0]
    cell = executed.cells[8]
    assert errors_of(cell) == []
    assert "memory" in data_of(cell, "text/plain")[0]


def test_the_statements_exception_is_the_users(executed):
    cell = executed.cells[9]
    errs = errors_of(cell)
    assert len(errs) == 1 and errs[0]["ename"] == "ZeroDivisionError"
    assert data_of(cell, "text/plain")  # the profile is shown all the same


def test_viewer_starts_inside_the_output_iframe(executed, tmp_path):
    sys.path.insert(0, HERE)
    import time

    import _browser

    page = tmp_path / "cell.html"
    page.write_text("<!doctype html><html><body>%s</body></html>" % data_of(executed.cells[2], "text/html")[0])
    d = _browser.make_driver()
    try:
        d.get("file://" + str(page))
        d.switch_to.frame(d.find_element("css selector", "iframe.pyrometer-viewer"))
        for _ in range(250):
            if d.execute_script("return !!(window.pyrometerViewer && window.pyrometerViewer.ready)"):
                break
            time.sleep(0.02)
        assert d.execute_script("return pyrometerViewer.empty") is False
        assert d.execute_script("return pyrometerViewer.errors") == []
        assert _browser.console_errors(d) == []
    finally:
        d.quit()
