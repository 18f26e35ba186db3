"""The HTML viewer, tested in a real browser: headless Chromium (Debian's
`chromium` + `chromedriver`, installed by scripts/test and .ci/run) driven
by Selenium.  Screenshots of every view go to artifacts/viewer/."""
import os
import subprocess
import sys
import time
import xml.dom.minidom

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROGRAMS = os.path.join(HERE, "programs")
ARTIFACTS = os.path.join(ROOT, "artifacts", "viewer")
sys.path.insert(0, HERE)
import _browser  # noqa: E402
from conftest import phase_bounds  # noqa: E402

VIEWS = ["flame", "sunburst", "tree", "table", "sandwich", "source", "timeline"]
EVIL = "<img src=x onerror=alert(1)>"


def run_pyrometer(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pyrometer"] + list(args), cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def driver():
    d = _browser.require_driver()
    yield d
    d.quit()


@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("viewer") / "work.html")
    r = run_pyrometer("run", "-o", out, os.path.join(PROGRAMS, "viewer_work.py"))
    assert r.returncode == 0, r.stderr
    return out


def load(d, path, fragment=""):
    d.get_log("browser")
    d.get_log("performance")
    d.get("file://" + path + fragment)
    for _ in range(250):
        if d.execute_script("return !!(window.pyrometerViewer && window.pyrometerViewer.ready)"):
            return
        time.sleep(0.02)
    raise AssertionError("viewer did not start: %r" % d.execute_script("return window.pyrometerViewer"))


def assert_clean(d):
    assert _browser.console_errors(d) == []
    assert _browser.network_requests(d) == []
    assert d.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert d.execute_script("return pyrometerViewer.errors") == []


def canvas_painted(d, cid):
    """Number of distinct colours in the canvas (a blank one has 1)."""
    return d.execute_script("""
      var c = document.getElementById(arguments[0]), g = c.getContext('2d');
      var px = g.getImageData(0, 0, c.width, c.height).data, seen = {}, n = 0;
      for (var i = 0; i < px.length; i += 4 * 7) { var k = px[i] + ',' + px[i+1] + ',' + px[i+2]; if (!seen[k]) { seen[k] = 1; n++; } }
      return n;""", cid)


def shot(d, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    d.save_screenshot(os.path.join(ARTIFACTS, name + ".png"))


def click_tab(d, view):
    d.find_element("css selector", 'nav button[data-view="%s"]' % view).click()
    assert d.execute_script("return pyrometerViewer.view") == view


def test_every_view_renders_a_sampled_profile(driver, sampled):
    d = driver
    load(d, sampled)
    assert d.execute_script("return pyrometerViewer.empty") is False
    for v in VIEWS:
        click_tab(d, v)
        assert d.execute_script("return pyrometerViewer.empty") is False, v
        shot(d, v)
    click_tab(d, "flame")
    assert canvas_painted(d, "flame") > 5
    click_tab(d, "sunburst")
    assert canvas_painted(d, "sunburst") > 5
    click_tab(d, "timeline")
    assert canvas_painted(d, "timeline") > 5 and canvas_painted(d, "minimap") > 2
    assert d.execute_script("return pyrometerViewer.timelineBars") > 5
    click_tab(d, "tree")
    names = d.execute_script("return Array.from(document.querySelectorAll('#tree .nm')).map(e => e.textContent)")
    assert "middle" in names and "leaf_hot" in names
    click_tab(d, "table")
    rows = d.execute_script("return Array.from(document.querySelectorAll('#table tbody tr td:first-child')).map(e => e.textContent)")
    assert "leaf_hot" in rows and "worker" in rows
    click_tab(d, "sandwich")
    assert canvas_painted(d, "callers") > 2 and canvas_painted(d, "callees") > 2
    click_tab(d, "source")
    # The program's own source was embedded at profile time, with heat on its hot lines.
    text = d.find_element("id", "source").text
    assert "def leaf_hot(n):" in text
    assert d.execute_script("return pyrometerViewer.sourceLinesHot") > 0
    assert "viewer_work.py" in d.find_element("id", "src-file").get_attribute("value")
    header = d.find_element("id", "meta").text
    assert "samples" in header and "rate" in header and "torn" in header
    assert_clean(d)
    # A candidate for the README's screenshot (docs/viewer.png is a copy).
    click_tab(d, "flame")
    shot(d, "readme")


def test_header_gives_each_threads_gil_and_gc_shares(driver, tmp_path):
    # A pure-Python thread beside one compressing with zlib (which releases
    # the GIL): the header gives each thread's share of samples holding the
    # GIL, the figures the model's "gil" and "samples" metrics hold.
    import pyrometer
    pyro, out = str(tmp_path / "gil.pyro"), str(tmp_path / "gil.html")
    r = run_pyrometer("run", "--mode", "cpu", "-o", pyro, os.path.join(PROGRAMS, "gil_split.py"), "0.8")
    assert r.returncode == 0, r.stderr
    assert run_pyrometer("view", "--no-browser", "-o", out, pyro).returncode == 0
    prof = pyrometer.load(pyro)
    want = {}
    for t in prof.threads:
        samples = sum(prof.stacks("samples")[t].values())
        if samples:
            want[t.name] = 100.0 * sum(prof.stacks("gil")[t].values()) / samples
    assert len(want) == 2, want
    load(driver, out)
    spans = driver.execute_script(
        "return Array.from(document.querySelectorAll('#meta span')).map(e => e.textContent)")
    gil = [s for s in spans if s.startswith("GIL held ")]
    assert len(gil) == 1, spans
    shown = {name: float(v) for name, v in (part.rsplit(" ", 1) for part in gil[0][len("GIL held "):].rstrip("%").split("%, "))}
    assert shown.keys() == want.keys(), (shown, want)
    for name in want:
        assert abs(shown[name] - want[name]) < 0.1, (shown, want)
    assert_clean(driver)


def test_header_gives_each_threads_gil_waiting_share(driver, tmp_path):
    # Wall mode: two pure-Python threads taking turns with the GIL and one
    # blocked on an Event; the header's "GIL waiting" gives each thread's
    # estimated share of samples waiting for the GIL, as the profile holds
    # it (metric "gil_wait", at most the samples without the GIL).
    import pyrometer
    pyro, out = str(tmp_path / "wait.pyro"), str(tmp_path / "wait.html")
    r = run_pyrometer("run", "-o", pyro, os.path.join(PROGRAMS, "gil_wait.py"), "0.8")
    assert r.returncode == 0, r.stderr
    assert run_pyrometer("view", "--no-browser", "-o", out, pyro).returncode == 0
    prof = pyrometer.load(pyro)
    want = {}
    for t in prof.threads:
        samples = sum(prof.stacks("samples").get(t, {}).values())
        if samples:
            held = sum(prof.stacks("gil").get(t, {}).values())
            wait = min(sum(prof.stacks("gil_wait").get(t, {}).values()), samples - held)
            want[t.name] = 100.0 * wait / samples
    load(driver, out)
    spans = driver.execute_script(
        "return Array.from(document.querySelectorAll('#meta span')).map(e => e.textContent)")
    wait = [s for s in spans if s.startswith("GIL waiting ")]
    assert len(wait) == 1, spans
    shown = {name: float(v) for name, v in
             (part.rsplit(" ", 1) for part in wait[0][len("GIL waiting "):].rstrip("%").split("%, "))}
    assert shown.keys() == want.keys(), (shown, want)
    for name in want:
        assert abs(shown[name] - want[name]) < 0.1, (shown, want)
    assert want["spin-0"] > 10 and want["spin-1"] > 10, want
    assert_clean(driver)


def test_memory_profile_views_and_heap_timeline(driver, tmp_path):
    # A memory profile opens on the peak view, switches between peak / live
    # at end / allocated / leaks (each flame graph totalling the profile's
    # own metric), gives its figures in bytes in the header, and its
    # timeline view draws the heap and RSS over the run.
    import pyrometer
    pyro, out = str(tmp_path / "mem.pyro"), str(tmp_path / "mem.html")
    # every allocation (exact): the figures below are not a sampling estimate
    r = run_pyrometer("run", "--mode", "memory", "--memory-rate", "1", "-o", pyro,
                      os.path.join(PROGRAMS, "memory_views.py"))
    assert r.returncode == 0, r.stderr
    assert run_pyrometer("view", "--no-browser", "-o", out, pyro).returncode == 0
    prof = pyrometer.load(pyro)
    d = driver
    load(d, out)
    options = d.execute_script(
        "return Array.from(document.querySelectorAll('#metric option')).map(o => [o.value, o.textContent])")
    selected = d.execute_script("var s = document.getElementById('metric'); return s.options[s.selectedIndex].textContent")
    assert selected.startswith("peak: bytes"), (selected, options)
    by_label = {label.split(":")[0]: value for value, label in options if "bytes" in label}
    assert set(by_label) == {"peak", "live at end", "allocated", "leaks"}, options
    metric_of = {"peak": "peak_space", "live at end": "inuse_space", "allocated": "alloc_space", "leaks": "leak_space"}
    for label, value in by_label.items():
        d.execute_script("var s = document.getElementById('metric'); s.value = arguments[0]; s.onchange();", value)
        want = sum(v for stacks in prof.stacks(metric_of[label]).values() for v in stacks.values())
        got = d.execute_script("return pyrometerViewer.total()")
        assert want > 0 and abs(got - want) <= 1e-6 * want, (label, got, want)
        assert canvas_painted(d, "flame") > 5
    # the spike is in the peak and allocated views, the kept list in all four
    assert prof.meta["memory_peak_bytes"] > prof.meta["memory_live_bytes"] > 20e6
    spans = d.execute_script("return Array.from(document.querySelectorAll('#meta span')).map(e => e.textContent)")
    peak = [s for s in spans if s.startswith("peak ") and not s.startswith("peak RSS")]
    assert len(peak) == 1 and "MiB" in peak[0], spans
    assert abs(float(peak[0].split()[1]) - prof.meta["memory_peak_bytes"] / 2 ** 20) < 0.1, (peak, prof.meta)
    assert not any("memory_timeline" in s for s in spans), spans
    click_tab(d, "timeline")
    points = len([p for p in prof.meta["memory_timeline"].split(";") if p])
    assert points >= 3 and d.execute_script("return pyrometerViewer.memoryPoints") == points
    assert d.execute_script("return pyrometerViewer.empty") is False
    assert canvas_painted(d, "timeline") > 3
    shot(d, "memory-timeline")
    assert_clean(d)


def drag_memory_range(d, t0, t1):
    """A real mouse drag across the heap chart from time t0 to t1 (s)."""
    from selenium.webdriver.common.action_chains import ActionChains
    cv = d.find_element("id", "timeline")
    w = d.execute_script("return arguments[0].clientWidth", cv)
    h = d.execute_script("return arguments[0].clientHeight", cv)
    x0, x1 = (d.execute_script("return pyrometerViewer.memoryX(arguments[0])", t) for t in (t0, t1))
    ActionChains(d).move_to_element_with_offset(cv, int(x0 - w / 2), int(130 - h / 2)).click_and_hold() \
        .move_by_offset(int((x1 - x0) / 2), 0).move_by_offset(int(x1 - x0) - int((x1 - x0) / 2), 0).release().perform()


def test_memory_time_range_selection(driver, tmp_path):
    # A range dragged on the heap chart over one phase of a two-phase
    # program: the flame graph and the call tree show what was allocated in
    # it, only build_a's frames over phase a, only build_b's over phase b,
    # with the totals the .pyro records give for that range (and what of
    # it is still live at the end); clearing the range gives the whole run
    # back.  A memory profile without allocation records behaves as before.
    import pyrometer
    pyro, out = str(tmp_path / "phases.pyro"), str(tmp_path / "phases.html")
    r = run_pyrometer("run", "--mode", "memory", "-o", pyro, os.path.join(PROGRAMS, "memory_phases.py"), "0.6")
    assert r.returncode == 0, r.stderr
    assert run_pyrometer("view", "--no-browser", "-o", out, pyro).returncode == 0
    prof = pyrometer.load(pyro)
    phases = phase_bounds(r.stdout, prof)
    allocs = prof.allocations()
    d = driver
    load(d, out)
    before = d.execute_script("return document.getElementById('metric').options.length")
    peak_total = d.execute_script("return pyrometerViewer.total()")
    click_tab(d, "timeline")
    assert d.execute_script("return document.getElementById('mem-hint').hidden") is False
    for name, other in (("a", "b"), ("b", "a")):
        t0, t1 = phases[name]
        drag_memory_range(d, t0, t1)
        got = d.execute_script("return pyrometerViewer.range")
        # the range shown covers the phase, snapped to the records' buckets
        width = allocs[0].end - allocs[0].start
        tol = 3 * (phases["b"][1] + 1) / 1000 + width  # a few pixels of the chart
        assert got and got[0] <= t0 + tol and got[1] >= t1 - tol and got[1] - got[0] < t1 - t0 + 2 * tol, (got, t0, t1)
        assert "allocated in" in d.find_element("id", "tl-range").text
        shot(d, "memory-range-" + name)
        want = sum(a.bytes for a in allocs if a.start >= got[0] - 1e-9 and a.end <= got[1] + 1e-9)
        want_live = sum(a.bytes for a in allocs if a.start >= got[0] - 1e-9 and a.end <= got[1] + 1e-9 and a.freed is None)
        click_tab(d, "flame")
        selected = d.execute_script("var s = document.getElementById('metric'); return s.options[s.selectedIndex].textContent")
        assert selected == "allocated in the range: bytes", selected
        assert abs(d.execute_script("return pyrometerViewer.total()") - want) <= 1e-6 * want and want > 20e6
        labels = set(d.execute_script("return pyrometerViewer.flameLabels()"))
        assert "build_" + name in labels and "build_" + other not in labels, labels
        # the phase's function, its caller, its comprehension (a function of its own before 3.12)
        assert {x for x in labels if not x.startswith("build_" + name)} - \
            {"all threads", "thread: MainThread", "<module>", "<listcomp>"} == set(), labels
        assert "allocated in" in d.find_element("id", "crumbs").text
        click_tab(d, "tree")
        names = set(d.execute_script("return Array.from(document.querySelectorAll('#tree .nm')).map(e => e.textContent)"))
        assert "build_" + name in names and "build_" + other not in names, names
        # what of it was still live at the end: build_a's lists were freed, build_b's kept
        value = d.execute_script("return Array.from(document.querySelectorAll('#metric option'))"
                                 ".filter(o => o.textContent.indexOf('live at end') > 0)[0].value")
        d.execute_script("var s = document.getElementById('metric'); s.value = arguments[0]; s.onchange();", value)
        live = d.execute_script("return pyrometerViewer.total()")
        assert abs(live - want_live) <= 1e-6 * max(want_live, 1)
        assert (live < 0.1 * want) if name == "a" else (live > 0.9 * want), (name, live, want)
        # a range metric chosen stays chosen for the next range: back to "allocated"
        value = d.execute_script("return Array.from(document.querySelectorAll('#metric option'))"
                                 ".filter(o => o.textContent === 'allocated in the range: bytes')[0].value")
        d.execute_script("var s = document.getElementById('metric'); s.value = arguments[0]; s.onchange();", value)
        click_tab(d, "timeline")
    # clear: the whole run again, on the view shown before
    d.find_element("css selector", "#crumbs .range a").click()
    assert d.execute_script("return pyrometerViewer.range") is None
    assert d.execute_script("return document.getElementById('metric').options.length") == before
    click_tab(d, "flame")
    assert d.execute_script("return pyrometerViewer.total()") == peak_total
    assert_clean(d)

    # Without the records (a file of before): no range to select.
    import gzip
    import json
    doc = json.loads(gzip.decompress(open(pyro, "rb").read()))
    del doc["allocations"]
    old, old_html = str(tmp_path / "old.pyro"), str(tmp_path / "old.html")
    with open(old, "w") as f:
        json.dump(doc, f)
    assert run_pyrometer("view", "--no-browser", "-o", old_html, old).returncode == 0
    load(d, old_html)
    click_tab(d, "timeline")
    assert d.execute_script("return document.getElementById('mem-hint').hidden") is True
    drag_memory_range(d, *phases["a"])
    assert d.execute_script("return pyrometerViewer.range") is None
    assert d.execute_script("return document.getElementById('metric').options.length") == before
    assert canvas_painted(d, "timeline") > 3
    assert_clean(d)


@pytest.mark.parametrize("mode", ["calls", "lines"])
def test_every_view_renders_a_deterministic_profile(driver, tmp_path, mode):
    out = str(tmp_path / (mode + ".html"))
    r = run_pyrometer("run", "--mode", mode, "-o", out, os.path.join(PROGRAMS, "viewer_work.py"))
    assert r.returncode == 0, r.stderr
    d = driver
    load(d, out)
    assert d.execute_script("return pyrometerViewer.empty") is False
    for v in VIEWS:
        click_tab(d, v)
        shot(d, mode + "-" + v)
    click_tab(d, "flame")
    assert canvas_painted(d, "flame") > 5
    click_tab(d, "table")
    rows = d.execute_script("return Array.from(document.querySelectorAll('#table tbody tr td:first-child')).map(e => e.textContent)")
    assert "leaf_hot" in rows
    if mode == "calls":
        # The calls column holds real call counts, not samples.
        header = d.execute_script("return Array.from(document.querySelectorAll('#table thead th')).map(e => e.textContent)")
        assert any("calls" in h for h in header), header
    else:
        click_tab(d, "source")
        assert "def leaf_hot(n):" in d.find_element("id", "source").text
        assert d.execute_script("return pyrometerViewer.sourceLinesHot") > 0
    assert_clean(d)


def test_search_zoom_breadcrumb_and_url_state(driver, sampled):
    d = driver
    load(d, sampled)
    box = d.find_element("id", "search")
    box.send_keys("leaf_hot")
    time.sleep(0.4)
    assert d.execute_script("return pyrometerViewer.matchCount") == 1
    assert "match" in d.find_element("id", "matches").text
    assert d.execute_script("return pyrometerViewer.matchTotal") > 0
    shot(d, "search")
    box.clear()
    box.send_keys("\ue003" * 3)  # backspaces: fire input
    d.execute_script("var s = document.getElementById('search'); s.value=''; s.dispatchEvent(new Event('input'))")
    time.sleep(0.3)
    # Zoom by a real click on the "worker" frame in the canvas.
    node = d.execute_script("return pyrometerViewer.findNode('worker')")
    assert node > 0
    from selenium.webdriver.common.action_chains import ActionChains

    pos = d.execute_script("""
      var L = null, id = arguments[0];
      var r = pyrometerViewer._rect(id); return r;""", node)
    cv = d.find_element("id", "flame")
    ActionChains(d).move_to_element_with_offset(cv, int(pos["x"] - pos["cw"] / 2), int(pos["y"] - pos["ch"] / 2)).perform()
    time.sleep(0.1)
    tip = d.find_element("id", "tip")
    assert tip.is_displayed() and "worker" in tip.text and "total" in tip.text and "viewer_work.py" in tip.text
    ActionChains(d).click().perform()
    assert d.execute_script("return pyrometerViewer.state().zoom") == node
    crumbs = [a.text for a in d.find_elements("css selector", "#crumbs a")]
    assert crumbs[0] == "all threads" and crumbs[-1] == "worker"
    shot(d, "zoomed")
    time.sleep(0.2)
    assert "zoom=%d" % node in d.current_url
    # The URL fragment restores the view state.
    url = d.current_url
    d.get("about:blank")
    load(d, url.split("#")[0].replace("file://", ""), "#" + url.split("#")[1])
    assert d.execute_script("return pyrometerViewer.state().zoom") == node
    d.find_elements("css selector", "#crumbs a")[0].click()
    assert d.execute_script("return pyrometerViewer.state().zoom") == 0
    # Keyboard: down (towards the leaves in a flame graph is up) then Enter zooms.
    d.find_element("id", "flame").click() if False else None
    d.find_element("tag name", "body").send_keys("\ue013")  # ArrowUp: heaviest child
    d.find_element("tag name", "body").send_keys("\ue007")  # Enter: zoom
    assert d.execute_script("return pyrometerViewer.state().zoom") > 0
    d.find_element("tag name", "body").send_keys("\ue00c")  # Escape: out
    d.find_element("tag name", "body").send_keys("3")       # view 3: call tree
    assert d.execute_script("return pyrometerViewer.view") == "tree"
    assert_clean(d)


def test_thread_filter_sort_theme_icicle_and_svg(driver, sampled):
    d = driver
    load(d, sampled)
    from selenium.webdriver.support.ui import Select

    click_tab(d, "table")
    all_rows = d.execute_script("return pyrometerViewer.tableRows")
    sel = Select(d.find_element("id", "thread"))
    labels = [o.text for o in sel.options]
    assert "worker-thread" in labels and "MainThread" in labels
    sel.select_by_visible_text("worker-thread")
    names = d.execute_script("return Array.from(document.querySelectorAll('#table tbody tr td:first-child')).map(e => e.textContent)")
    assert "worker" in names and "main" not in names
    assert d.execute_script("return pyrometerViewer.tableRows") < all_rows
    shot(d, "thread-filter")
    sel.select_by_visible_text("all threads")
    # Sort by total, descending then ascending.
    def col(i):
        return d.execute_script("return Array.from(document.querySelectorAll('#table tbody tr')).map(r => r.children[%d].textContent)" % i)
    d.find_element("css selector", 'th[data-key="name"]').click()
    names = col(0)
    assert names == sorted(names, key=lambda s: s) or names == sorted(names, key=str.lower) or len(names) > 0
    d.find_element("css selector", 'th[data-key="total"]').click()
    th = d.find_element("css selector", 'th[data-key="total"]')
    assert "sorted" in th.get_attribute("class")
    order = d.execute_script("return pyrometerViewer._tableOrder()")
    assert order == sorted(order, reverse=True)
    th.click()
    order = d.execute_script("return pyrometerViewer._tableOrder()")
    assert order == sorted(order)
    # Metric switch.
    msel = Select(d.find_element("id", "metric"))
    metrics = [o.text for o in msel.options]
    assert "wall" in metrics and "cpu" in metrics
    msel.select_by_visible_text("cpu")
    assert "metric=cpu" in (time.sleep(0.2) or d.current_url)
    msel.select_by_visible_text("wall")
    # Theme.
    before = d.execute_script("return pyrometerViewer.theme")
    d.find_element("id", "theme").click()
    after = d.execute_script("return pyrometerViewer.theme")
    assert before != after and d.execute_script("return document.documentElement.classList.contains('dark')") == (after == "dark")
    click_tab(d, "flame")
    shot(d, "flame-" + after)
    click_tab(d, "tree")
    shot(d, "tree-" + after)
    d.find_element("id", "theme").click()
    # Icicle toggle.
    click_tab(d, "flame")
    d.find_element("id", "icicle").click()
    assert d.execute_script("return pyrometerViewer.state().icicle") is True
    shot(d, "icicle")
    svg = d.execute_script("return pyrometerViewer.exportSVG()")
    doc = xml.dom.minidom.parseString(svg.encode("utf-8"))
    assert len(doc.getElementsByTagName("rect")) > 5
    assert any("leaf_hot" in (t.firstChild.data if t.firstChild else "") for t in doc.getElementsByTagName("text"))
    d.find_element("id", "export").click()  # a download of a blob: no network
    assert_clean(d)


def test_hostile_names_are_inert(driver, tmp_path):
    out = str(tmp_path / "hostile.html")
    r = run_pyrometer("run", "-o", out, os.path.join(PROGRAMS, "viewer_hostile.py"))
    assert r.returncode == 0, r.stderr
    with open(out, encoding="utf-8") as f:
        html = f.read()
    assert "</script><img" not in html and EVIL not in html
    d = driver
    load(d, out)
    from selenium.common.exceptions import NoAlertPresentException

    for v in VIEWS:
        click_tab(d, v)
    click_tab(d, "table")
    cells = d.execute_script("return Array.from(document.querySelectorAll('#table tbody td')).map(e => e.textContent)")
    assert EVIL in cells
    assert any("</script><img src=x onerror=alert(2)>.py" in c for c in cells)
    click_tab(d, "tree")
    assert EVIL in d.find_element("id", "tree").text
    shot(d, "hostile-tree")
    assert d.execute_script("return document.querySelectorAll('img').length") == 0
    assert d.execute_script("return window.__pwned === undefined")
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text
    svg = d.execute_script("return pyrometerViewer.exportSVG()")
    xml.dom.minidom.parseString(svg.encode("utf-8"))  # escaped: well-formed, no <img>
    assert "<img" not in svg
    assert _browser.network_requests(d) == []  # the <img src=x> never loaded
    assert _browser.console_errors(d) == []


def test_empty_profile_says_no_samples(driver, tmp_path):
    from pyrometer import _native, _view

    out = str(tmp_path / "empty.html")
    _native.Profile().write(out, "html", template=_view.template())
    d = driver
    load(d, out)
    assert d.execute_script("return pyrometerViewer.empty") is True
    assert "No samples" in d.find_element("id", "empty").text
    shot(d, "empty")
    assert_clean(d)


def test_large_profile_renders(driver, tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import viewer_bench
    from pyrometer import _native, _view

    out = str(tmp_path / "big.html")
    _native.Profile.from_bytes(viewer_bench.synthetic_pyro(100000)).write(out, "html", template=_view.template())
    d = driver
    load(d, out)
    assert d.execute_script("return pyrometerViewer.aggCount()") > 50000
    assert d.execute_script("return pyrometerViewer.rectCount()") > 100
    a = d.execute_script("return pyrometerViewer.heaviestChild(pyrometerViewer.heaviestChild(0))")
    d.execute_script("pyrometerViewer.zoomTo(arguments[0])", a)
    assert d.execute_script("return pyrometerViewer.state().zoom") == a
    shot(d, "large")
    assert_clean(d)


# ---- the command line -----------------------------------------------------------------


def test_view_command_and_formats(tmp_path, driver):
    pyro = str(tmp_path / "w.pyro")
    r = run_pyrometer("run", "-o", pyro, os.path.join(PROGRAMS, "viewer_work.py"))
    assert r.returncode == 0, r.stderr
    out = str(tmp_path / "w.html")
    r = run_pyrometer("view", "--no-browser", "-o", out, pyro)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == out
    load(driver, out)
    click_tab(driver, "source")
    assert "def leaf_hot(n):" in driver.find_element("id", "source").text  # sources travel in the .pyro
    assert_clean(driver)
    # No -o: a temporary file, path printed; no display: never fails.
    env = dict(os.environ)
    for k in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        env.pop(k, None)
    r = subprocess.run([sys.executable, "-m", "pyrometer", "view", pyro], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0 and r.stdout.strip().endswith(".html") and os.path.exists(r.stdout.strip())
    os.unlink(r.stdout.strip())
    # --html on run.
    out2 = str(tmp_path / "r.html")
    r = run_pyrometer("run", "--html", "-o", out2, os.path.join(PROGRAMS, "viewer_work.py"))
    assert r.returncode == 0 and os.path.getsize(out2) > 1000


def test_view_converts_other_formats(tmp_path, driver):
    """cProfile .prof, speedscope JSON (sampled and evented), collapsed
    stacks: each is read by `pyrometer view` and renders in the browser with
    its own function names."""
    import cProfile
    import json

    from pyrometer import _native

    readable = {f[0] for f in _native.Profile.formats() if f[3]}
    assert {"pstats", "collapsed", "speedscope"} <= readable, readable
    inputs = {}  # name -> (path, function names the tree must show)
    prof = str(tmp_path / "x.prof")
    cProfile.run("sorted(str(i) for i in range(200000))", prof)
    inputs["pstats"] = (prof, ["<genexpr>", "<built-in method builtins.sorted>"])
    p = str(tmp_path / "x.collapsed")
    with open(p, "w") as f:
        f.write("MainThread;main (a.py:1);work (a.py:5) 30\nMainThread;main (a.py:1);idle (a.py:9) 10\n")
    inputs["collapsed"] = (p, ["main", "work", "idle"])
    ss = {"$schema": "https://www.speedscope.app/file-format-schema.json",
          "shared": {"frames": [{"name": "main", "file": "m.py", "line": 1}, {"name": "work", "file": "m.py", "line": 5},
                                {"name": "ev_outer"}, {"name": "ev_inner"}]},
          "profiles": [{"type": "sampled", "name": "t", "unit": "milliseconds", "startValue": 0, "endValue": 3,
                        "samples": [[0, 1], [0]], "weights": [2, 1]},
                       {"type": "evented", "name": "e", "unit": "microseconds", "startValue": 0, "endValue": 50,
                        "events": [{"type": "O", "frame": 2, "at": 0}, {"type": "O", "frame": 3, "at": 10},
                                   {"type": "C", "frame": 3, "at": 40}, {"type": "C", "frame": 2, "at": 50}]}]}
    p = str(tmp_path / "x.speedscope.json")
    with open(p, "w") as f:
        json.dump(ss, f)
    inputs["speedscope"] = (p, ["main", "work", "ev_outer", "ev_inner"])
    for name, (path, want) in inputs.items():
        out = str(tmp_path / (name + ".html"))
        r = run_pyrometer("view", "--no-browser", "-o", out, path)
        assert r.returncode == 0, (name, r.stderr)
        assert r.stdout.strip() == out
        load(driver, out)
        assert driver.execute_script("return pyrometerViewer.empty") is False, name
        click_tab(driver, "flame")
        assert canvas_painted(driver, "flame") > 2, name
        assert driver.execute_script("return pyrometerViewer.rectCount()") >= len(want), name
        for fn in want:
            assert driver.execute_script("return pyrometerViewer.findNode(arguments[0])", fn) > 0, (name, fn)
        click_tab(driver, "tree")
        names = driver.execute_script("return Array.from(document.querySelectorAll('#tree .nm')).map(e => e.textContent)")
        # The heaviest path opens; which of two equally heavy roots comes
        # first (cProfile's exec and <module>) is a tie the clock decides.
        assert any(w in n for n in names for w in want), (name, names[:20])
        shot(driver, "from-" + name)
        assert_clean(driver)


def test_view_bad_input(tmp_path):
    r = run_pyrometer("view", "--no-browser", str(tmp_path / "missing.pyro"))
    assert r.returncode != 0 and r.stderr.count("\n") == 1 and r.stderr.startswith("pyrometer: cannot read")
    junk = tmp_path / "junk.pyro"
    junk.write_bytes(b"\x00\x01 not a profile")
    r = run_pyrometer("view", "--no-browser", str(junk))
    assert r.returncode != 0 and r.stderr.count("\n") == 1 and "pyrometer:" in r.stderr
    r = run_pyrometer("view")
    assert r.returncode == 2


def test_template_is_small_and_self_contained():
    from pyrometer import _view

    t = _view.template().decode("utf-8")
    viewer = t.replace("@PYROMETER_PROFILE_JSON@", "")
    assert len(viewer.encode("utf-8")) < 200 * 1024
    for bad in ("http://", "https://", "//cdn", "@import", "url("):
        assert bad not in viewer.replace("http://www.w3.org/2000/svg", "").replace(
            "https://www.speedscope.app", ""), bad
