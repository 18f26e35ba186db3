"""Import time: `pyrometer imports` and -X importtime logs, read by C
(input/pm_importtime_read.c).  The figures are checked against tuna's own
reader of the same log (tuna is the reference viewer of these logs); the
tree of modules against a plain `python -X importtime` run; the viewer in a
real browser."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# A few heavy PyPI packages of the test extra.
HEAVY = "import jsonschema, tornado.web, selenium.webdriver\n"


def pyrometer(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pyrometer"] + list(args), cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def importtime_log(code):
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stderr


def paths_of_pyrometer(native):
    """{(module, ...): cumulative ns} over the profile's trie."""
    frames = native.frames()
    nodes = native.nodes()
    values = native.values("time")
    total = list(values)
    for i in range(len(nodes) - 1, 0, -1):
        parent = nodes[i][0]
        if parent is not None and parent >= 0:
            total[parent] += total[i]
    out = {}
    path = {}
    for i, (parent, frame, line, thread) in enumerate(nodes):
        if frame is None or frame < 0:  # the root, a thread's root
            path[i] = ()
            continue
        path[i] = path[parent] + (frames[frame][0],)
        out[path[i]] = out.get(path[i], 0) + total[i]
    return out


def paths_of_tuna(tree):
    """The same from tuna's tree ({"text": [name, ...], "value": self seconds, "children": [...]});
    modules imported twice under one parent are added, as pyrometer merges them."""
    out = {}

    def walk(node, prefix):
        name = node["text"][0]
        path = prefix + (name,)
        cum = round(node.get("value", 0) * 1e6) + sum(walk(c, path) for c in node.get("children", ()))
        out[path] = out.get(path, 0) + cum * 1000
        return cum

    for child in tree.get("children", ()):
        walk(child, ())
    return out


def test_log_figures_are_tunas(tmp_path):
    from tuna.main import read_import_profile

    import pyrometer as pm

    log = tmp_path / "importtime.log"
    log.write_text(importtime_log(HEAVY))
    got = paths_of_pyrometer(pm.load(str(log)).native)
    want = paths_of_tuna(read_import_profile(str(log)))
    assert got == want
    heavy = [p for p, v in want.items() if v >= 10e6]
    assert any(p[-1] == "jsonschema" for p in heavy), heavy


def test_view_reads_a_log_and_the_viewer_draws_it(tmp_path):
    sys.path.insert(0, HERE)
    import _browser
    from test_viewer import assert_clean, canvas_painted, click_tab, load

    log = tmp_path / "importtime.log"
    log.write_text(importtime_log(HEAVY))
    html = str(tmp_path / "imports.html")
    r = pyrometer("view", "--no-browser", "-o", html, str(log))
    assert r.returncode == 0, r.stderr
    d = _browser.make_driver()
    try:
        load(d, html)
        assert d.execute_script("return pyrometerViewer.empty") is False
        click_tab(d, "flame")
        assert d.execute_script("return pyrometerViewer.icicle") is True
        assert canvas_painted(d, "flame") > 5
        click_tab(d, "table")
        rows = d.execute_script("return Array.from(document.querySelectorAll('#table tbody tr td:first-child'))"
                                ".map(e => e.textContent)")
        assert "jsonschema" in rows and "tornado.web" in rows
        assert_clean(d)
    finally:
        d.quit()


def test_imports_command_keeps_the_program_and_finds_every_import(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(HEAVY + "import sys\nprint('out', sys.argv[1:])\nsys.stderr.write('err line\\n')\nsys.exit(3)\n")
    out = str(tmp_path / "imports.pyro")
    r = pyrometer("imports", "-o", out, str(prog), "a", "b")
    plain = subprocess.run([sys.executable, "-X", "importtime", str(prog), "a", "b"], capture_output=True,
                           text=True, timeout=300)
    assert (r.returncode, r.stdout) == (plain.returncode, plain.stdout) == (3, "out ['a', 'b']\n")
    assert "err line" in r.stderr and "import time:" not in r.stderr

    import pyrometer as pm
    from tuna.main import read_import_profile

    log = tmp_path / "plain.log"
    log.write_text("\n".join(line for line in plain.stderr.splitlines() if line.startswith("import time:")))
    got = paths_of_pyrometer(pm.load(out).native)
    want = paths_of_tuna(read_import_profile(str(log)))
    assert set(got) == set(want)  # the same imports, nested the same way
    # The terminal tree: slowest first.
    r = pyrometer("imports", "--top", "4", str(prog), "x")
    assert r.returncode == 3
    assert "Top 4 functions" in r.stderr
    tree = [line for line in r.stderr.splitlines() if line.startswith(("├─", "└─")) and "hidden" not in line]
    figures = [float(line.split()[1]) for line in tree]
    assert figures == sorted(figures, reverse=True) and len(figures) >= 2
    assert any(line.endswith(" jsonschema") for line in tree), r.stderr


def test_imports_of_a_module(tmp_path):
    (tmp_path / "mymod.py").write_text("import json\nprint('ran')\n")
    out = str(tmp_path / "m.importtime")
    r = pyrometer("imports", "-o", out, "-m", "mymod", cwd=str(tmp_path))
    assert r.returncode == 0 and r.stdout == "ran\n", r.stderr
    from tuna.main import read_import_profile

    tree = read_import_profile(out)  # the log written back is tuna's input
    names = set()

    def walk(n):
        names.add(n["text"][0])
        for c in n.get("children", ()):
            walk(c)

    walk(tree)
    assert {"json", "json.decoder", "runpy"} <= names  # mymod itself runs as __main__: no import


def test_not_an_importtime_log_is_one_line(tmp_path):
    for content, reason in ((b"hello\nworld\n", "not a profile format"),
                            (b"import time: self [us] | cumulative | imported package\nimport time: x | y | z\n",
                             "line 2: not a -X importtime line")):
        bad = tmp_path / "bad.log"
        bad.write_bytes(content)
        r = pyrometer("view", "--no-browser", str(bad))
        assert r.returncode == 1
        assert r.stderr.startswith("pyrometer: cannot read") and reason in r.stderr
        assert len(r.stderr.splitlines()) == 1
    r = pyrometer("imports", str(tmp_path / "missing.py"))
    assert r.returncode == 1 and r.stderr.startswith("pyrometer: cannot run")
    r = pyrometer("imports", "--bogus", "x.py")
    assert r.returncode == 2 and r.stderr.startswith("pyrometer: unknown option")
