"""`pyrometer heap -o FILE.pyro|FILE.html`: the heap report as a profile.
The .pyro read back with pyrometer.load() must hold what --json of the same
run holds (census rows, tracker timeline, retention chains); the growth
between checkpoints must agree with the class tracker, which counts the
instances by another route (gc referents, not the census); and the HTML
viewer's Heap view, in headless Chromium as in test_viewer.py, must show
all of it."""
import json
import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _browser  # noqa: E402
from conftest import run_plain, run_pyrometer  # noqa: E402

import pyrometer  # noqa: E402

PROGRAM = """\
import sys
import pyrometer.heap as heap

class Leaky:
    def __init__(self, n):
        self.payload = [n] * 50

CACHE = []

def grow(k):
    for i in range(k):
        CACHE.append(Leaky(i))

heap.track_class(Leaky)
grow(100)
heap.checkpoint("first")
grow(300)
del CACHE[:50]
heap.checkpoint("second")
grow(200)
print("done", len(CACHE))
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


def _run(tmp_path, out_name, *args):
    """Runs PROGRAM under `pyrometer heap -o` (args: its exit status, when
    it ends by SystemExit) and gives --json's document of the same run."""
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    r = run_pyrometer("heap", "--track", "Leaky", "--why", "Leaky", "--json", tmp_path / (out_name + ".json"),
                      "-o", tmp_path / out_name, prog, *args, cwd=tmp_path)
    plain = run_plain(prog, *args, cwd=tmp_path)
    assert r.returncode == plain.returncode == (int(args[0]) if args else 0), r.stderr
    assert r.stdout == plain.stdout
    return json.loads((tmp_path / (out_name + ".json")).read_text())


def _chain_graph(why):
    """The --json chains as (node labels, labelled edges), as the .pyro
    graph must hold them: an object on several chains is one node."""
    labels, edges = {}, set()
    for c in why["chains"]:
        steps = c["steps"]
        if c["root_kind"] == "frame":
            labels["root%d" % steps[0]["id"]] = c["root"]
            edges.add(("root%d" % steps[0]["id"], "o%d" % steps[0]["id"], ""))
        for s in steps:
            labels["o%d" % s["id"]] = s["repr"]
        for a, b in zip(steps, steps[1:]):
            edges.add(("o%d" % a["id"], "o%d" % b["id"], a["edge"]))
    return labels, edges


@pytest.fixture(scope="module")
def pyro_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("heapview")
    doc = _run(tmp, "h.pyro", "3")
    return doc, pyrometer.load(str(tmp / "h.pyro"))


def test_pyro_holds_what_json_holds(pyro_run):
    doc, prof = pyro_run
    h = prof.heap
    assert prof.meta["mode"] == "heap"
    # The census at every checkpoint, the one at exit first: the same rows.
    assert h["census"] == [[r["type"], r["module"], r["count"], r["bytes"]] for r in doc["checkpoints"][-1]["census"]]
    assert [c["label"] for c in h["checkpoints"]] == ["start"] + [c["label"] for c in doc["checkpoints"]]
    for mine, theirs in zip(h["checkpoints"][1:], doc["checkpoints"]):
        assert mine["census"] == [[r["type"], r["module"], r["count"], r["bytes"]] for r in theirs["census"]]
    leaky = [r for r in h["census"] if r[0] == "Leaky" and r[1] == "__main__"]
    assert leaky and leaky[0][2] == 550
    # The tracker's timeline, every field.
    assert h["timeline"] == doc["timeline"]
    assert [(e["label"], e["count"], e["created"], e["freed"]) for e in h["timeline"]] == [
        ("track_class", 0, 0, 0), ("first", 100, 100, 0), ("second", 350, 300, 50), ("at exit", 550, 200, 0)]
    # The chains: same nodes, labels and labelled edges.
    labels, edges = _chain_graph(doc["why"])
    g = h["chains"]
    assert {n["id"]: n["label"] for n in g["nodes"]} == labels
    assert {(e["from"], e["to"], e["label"]) for e in g["edges"]} == edges
    assert g["target"] == doc["why"]["target"]["repr"]
    assert [n["kind"] for n in g["nodes"]].count("target") == 1
    assert "['CACHE']" in {e["label"] for e in g["edges"]}


def test_growth_between_checkpoints_agrees_with_the_tracker(pyro_run):
    _, prof = pyro_run
    h = prof.heap
    track = {e["label"]: e for e in h["timeline"]}
    assert "growth" not in h["checkpoints"][0]
    for cp in h["checkpoints"][1:]:
        rows = [g for g in cp["growth"] if g[0] == "Leaky" and g[1] == "__main__"]
        t = track[cp["label"]]
        # type, module, count, delta, bytes, delta_bytes: Leaky instances made
        # minus freed since the checkpoint before, as the tracker counted them.
        assert rows and rows[0][2] == t["count"] and rows[0][3] == t["created"] - t["freed"], (cp["label"], rows)


RACING = """\
import threading, time
import pyrometer.heap as heap

class Churn:
    __slots__ = ("n",)
    def __init__(self, n):
        self.n = n

class Kept:
    def __init__(self, i):
        self.items = [i] * 5

stop = threading.Event()
ring = []

def churn():
    i = 0
    while not stop.is_set():
        ring.append(Churn(i))
        ring.append("s%d" % i)
        if len(ring) > 20000:
            del ring[:10000]
        i += 1

t = threading.Thread(target=churn)
t.start()
KEEP = []
for k in range(6):
    KEEP.extend(Kept(i) for i in range(2000))
    time.sleep(0.01)
    heap.checkpoint("step %d" % k)
stop.set()
t.join()
print("done", len(KEEP))
"""


def test_stored_growth_is_the_difference_of_the_stored_censuses(tmp_path):
    """While a thread keeps allocating and freeing, the growth stored at
    each step equals that step's census minus the census before, type by
    type (count and bytes), with no row for a type that did not change:
    the viewer's growth between two checkpoints, made from the censuses,
    shows the same numbers as the stored growth."""
    prog = tmp_path / "racing.py"
    prog.write_text(RACING)
    r = run_pyrometer("heap", "-o", tmp_path / "r.pyro", prog, cwd=tmp_path)
    plain = run_plain(prog, cwd=tmp_path)
    assert r.returncode == plain.returncode == 0, r.stderr
    assert r.stdout == plain.stdout == b"done 12000\n"
    steps = pyrometer.load(str(tmp_path / "r.pyro")).heap["checkpoints"]
    assert [s["label"] for s in steps] == ["start"] + ["step %d" % k for k in range(6)] + ["at exit"]
    churned = 0
    for a, b in zip(steps, steps[1:]):
        before = {(t, m): (c, n) for t, m, c, n in a["census"]}
        after = {(t, m): (c, n) for t, m, c, n in b["census"]}
        expected = {}
        for key in set(before) | set(after):
            c0, n0 = before.get(key, (0, 0))
            c1, n1 = after.get(key, (0, 0))
            if (c0, n0) != (c1, n1):
                expected[key] = (c1, c1 - c0, n1, n1 - n0)
        stored = {(g[0], g[1]): tuple(g[2:]) for g in b["growth"]}
        assert len(stored) == len(b["growth"]), b["label"]
        assert stored == expected, b["label"]
        if b["label"] != "at exit":
            assert stored[("Kept", "__main__")][1] == 2000, b["label"]
        churned += ("Churn", "__main__") in stored
    # The other thread did allocate between the steps: a growth taken apart
    # from its census had a chance to differ from it.
    assert churned >= 3, steps


def test_other_profiles_have_no_heap_report(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text("print(sum(range(100000)))\n")
    r = run_pyrometer("run", "-o", tmp_path / "p.pyro", prog, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert pyrometer.load(str(tmp_path / "p.pyro")).heap is None


@pytest.mark.parametrize("args, words", [
    (["-o", "h.txt", "prog.py"], "FILE.pyro or FILE.html"),
    (["-o", "h.collapsed", "prog.py"], "FILE.pyro or FILE.html"),
    (["-o"], "-o needs a value"),
    (["-o", "no/such/dir/h.pyro", "prog.py"], "cannot write"),
])
def test_bad_output_is_one_clear_line(tmp_path, args, words):
    (tmp_path / "prog.py").write_text("print('ran')\n")
    r = run_pyrometer("heap", *args, cwd=tmp_path)
    assert r.returncode != 0
    assert r.stdout == b""  # refused before the program runs
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyrometer:") and words in lines[0], lines


# ---- the viewer, in a real browser --------------------------------------------------------------


@pytest.fixture(scope="module")
def driver():
    d = _browser.require_driver(1400, 1200)
    yield d
    d.quit()


def _load(d, path):
    d.get_log("browser")
    d.get("file://" + str(path))
    for _ in range(250):
        if d.execute_script("return !!(window.pyrometerViewer && window.pyrometerViewer.ready)"):
            return
        time.sleep(0.02)
    raise AssertionError("viewer did not start")


def _cells(d, table_id):
    return d.execute_script("""
      var t = document.getElementById(arguments[0]);
      return t ? Array.prototype.map.call(t.tBodies[0].rows, function (r) {
        return Array.prototype.map.call(r.cells, function (c) { return c.textContent; }); }) : null;""", table_id)


def _name(t, m):
    return t if m == "builtins" else "%s.%s" % (m, t)


def test_heap_view_shows_census_growth_tracker_and_chain(driver, tmp_path):
    doc = _run(tmp_path, "h.html")
    d = driver
    _load(d, tmp_path / "h.html")
    assert d.execute_script("return pyrometerViewer.errors") == []
    assert _browser.console_errors(d) == []
    assert _browser.network_requests(d) == []
    # A profile of the heap only opens on its Heap view.
    assert d.execute_script("return pyrometerViewer.view") == "heap"
    census = [r for r in doc["checkpoints"][-1]["census"]]
    rows = _cells(d, "heap-census")
    assert [r[0] for r in rows] == [_name(r["type"], r["module"]) for r in census]  # by bytes, as the JSON
    by_name = {r[0]: r for r in rows}
    assert by_name["__main__.Leaky"][1] == "550"
    big = census[0]
    assert by_name[_name(big["type"], big["module"])][2].endswith(("KiB", "MiB", " B"))
    # Sorting by count puts the most numerous type first.
    d.find_element("css selector", '#heap-census th[data-key="count"]').click()
    rows = _cells(d, "heap-census")
    counts = [int(r[1].replace(",", "")) for r in rows]
    assert counts == sorted(counts, reverse=True) and counts[0] == max(r["count"] for r in census)
    # Growth from "first" to "second": Leaky gained 250 (300 made, 50 freed).
    from selenium.webdriver.support.ui import Select
    Select(d.find_element("id", "heap-from")).select_by_visible_text("first")
    Select(d.find_element("id", "heap-to")).select_by_visible_text("second")
    growth = {r[0]: r for r in _cells(d, "heap-growth")}
    assert growth["__main__.Leaky"][1] == "+250" and growth["__main__.Leaky"][3] == "350"
    # The tracked class: one point per checkpoint, with its live count and deep size.
    pts = d.execute_script("""
      return Array.prototype.map.call(document.querySelectorAll('.heap-track[data-cls="__main__.Leaky"] g.heap-pt'),
        function (g) { return [g.getAttribute('data-label'), +g.getAttribute('data-count'), +g.getAttribute('data-deep')]; });""")
    assert pts == [[e["label"], e["count"], e["deep_bytes"]] for e in doc["timeline"]]
    # The chain: every node's label in a box, every edge's label on its arrow.
    texts = d.execute_script("""
      var q = function (s) { return Array.prototype.map.call(document.querySelectorAll(s), function (e) { return e.textContent; }); };
      return [q('#heap-graph g.heap-node title'), q('#heap-graph g.heap-edge text'), document.querySelectorAll('#heap-graph g.heap-edge line').length];""")
    labels, edges = _chain_graph(doc["why"])
    assert sorted(texts[0]) == sorted(labels.values())
    assert sorted(texts[1]) == sorted(e[2] for e in edges if e[2])
    assert texts[2] == len(edges)
    assert d.find_element("id", "heap-graph").is_displayed()
    assert _browser.console_errors(d) == []


def test_viewer_without_heap_report_has_no_heap_view(driver, tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text("def f():\n    return sum(i * i for i in range(300000))\nfor _ in range(5):\n    f()\n")
    r = run_pyrometer("run", "-o", tmp_path / "p.html", prog, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    _load(driver, tmp_path / "p.html")
    assert driver.execute_script("return pyrometerViewer.view") == "flame"
    assert driver.execute_script("return pyrometerViewer.heap") is None
    tabs = driver.execute_script("return Array.prototype.map.call(document.querySelectorAll('nav button'), "
                                 "function (b) { return b.dataset.view; })")
    assert tabs == ["flame", "sunburst", "tree", "table", "sandwich", "source", "timeline"]
    assert driver.find_elements("id", "v-heap") == []
    assert "heap_report" not in driver.find_element("id", "meta").text


def test_view_command_renders_a_heap_pyro(driver, pyro_run, tmp_path):
    _, prof = pyro_run
    src = tmp_path / "again.pyro"
    prof.write(str(src))
    r = run_pyrometer("view", "--no-browser", "-o", tmp_path / "v.html", src, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    _load(driver, tmp_path / "v.html")
    assert driver.execute_script("return pyrometerViewer.view") == "heap"
    rows = _cells(driver, "heap-census")
    assert [r[0] for r in rows] == [_name(t, m) for t, m, _, _ in prof.heap["census"]]


def test_hostile_type_names_are_inert_in_the_heap_view(driver, tmp_path):
    evil = "<img src=x onerror=alert(1)>"
    prog = tmp_path / "evil.py"
    prog.write_text("import pyrometer.heap as heap\n"
                    "class Bad:\n    pass\n"
                    "Bad.__qualname__ = Bad.__name__ = %r\n"
                    "KEEP = [Bad() for _ in range(7)]\n"
                    "heap.track_class(Bad)\nheap.checkpoint('made')\n" % evil)
    r = run_pyrometer("heap", "--track", "__main__." + evil, "--why", evil, "-o", tmp_path / "e.html", prog,
                      cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    d = driver
    _load(d, tmp_path / "e.html")
    from selenium.common.exceptions import NoAlertPresentException
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text
    assert d.find_elements("css selector", "#heap img") == []
    rows = {r[0]: r for r in _cells(d, "heap-census")}
    assert rows["__main__." + evil][1] == "7"
    assert d.execute_script("return document.querySelector('.heap-track').dataset.cls") == "__main__." + evil
    labels = d.execute_script("return Array.prototype.map.call(document.querySelectorAll('#heap-graph g.heap-node title'),"
                              " function (e) { return e.textContent; })")
    assert any(evil in label for label in labels)
    assert _browser.console_errors(d) == []
