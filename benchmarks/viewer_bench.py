"""The HTML viewer on a 100,000-node profile, measured in headless Chromium:
time to the first drawn view (from navigation start and from script start)
and the time of a zoom.  Prints the numbers; asserts nothing.

    python benchmarks/viewer_bench.py [NODES]
"""
import json
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))


def synthetic_pyro(n_nodes, n_frames=3000, seed=1):
    """A plain-JSON .pyro (schema: pm_pyro.c) with n_nodes trie nodes."""
    rnd = random.Random(seed)
    strings = [""] + ["func_%d" % i for i in range(n_frames)] + ["/src/mod_%d.py" % i for i in range(50)]
    frames = [[1 + i, 1 + n_frames + (i % 50), 10 + i, 0] for i in range(n_frames)]
    nodes = [[None, None, 0, None], [0, None, 0, 0]]
    depth = [0, 0]
    seen = set()
    while len(nodes) < n_nodes:
        # prefer deep parents so the trie is deep and bushy like real programs
        parent = rnd.randrange(1, len(nodes)) if rnd.random() < 0.5 else len(nodes) - 1
        if depth[parent] > 60:
            parent = rnd.randrange(1, len(nodes))
        frame = rnd.randrange(n_frames)
        key = (parent, frame)
        if key in seen:
            continue
        seen.add(key)
        nodes.append([parent, frame, 12, 0])
        depth.append(depth[parent] + 1)
    samples = [0, 0] + [rnd.randrange(0, 5) for _ in range(n_nodes - 2)]
    wall = [v * 1000000 for v in samples]
    doc = {
        "format": "pyrometer", "version": 1,
        "meta": [{"key": "mode", "str": "wall"}, {"key": "duration_s", "num": 10.0}],
        "metrics": [{"name": "samples", "unit": "count"}, {"name": "wall", "unit": "nanoseconds"}],
        "strings": strings, "frames": frames,
        "threads": [{"ident": 1, "native_id": 1, "name": "MainThread", "root": 1}],
        "nodes": nodes, "values": [samples, wall],
        "timeline": {"capacity": 0, "dropped": 0, "events": []},
    }
    return json.dumps(doc).encode()


def measure(html_path, runs=5):
    from _browser import make_driver

    d = make_driver()
    first, script, zooms = [], [], []
    try:
        for _ in range(runs):
            d.get("file://" + html_path)
            for _ in range(200):
                if d.execute_script("return !!(window.pyrometerViewer && window.pyrometerViewer.ready)"):
                    break
                time.sleep(0.02)
            t = d.execute_script("return pyrometerViewer.timings")
            first.append(t["sinceNavigationMs"])
            script.append(t["firstViewMs"])
            # zoom into the heaviest child, a few levels down, and back out
            z = d.execute_script("""
              var v = pyrometerViewer, a = 0, out = [];
              for (var i = 0; i < 6; i++) { a = v.heaviestChild(a); if (a < 0) break; out.push(v.zoomTo(a)); }
              out.push(v.zoomTo(0));
              return out;""")
            zooms.extend(z)
    finally:
        d.quit()
    return first, script, zooms


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    from pyrometer import _native, _view

    prof = _native.Profile.from_bytes(synthetic_pyro(n))
    out = os.path.join(tempfile.mkdtemp(), "bench.html")
    t0 = time.perf_counter()
    prof.write(out, "html", template=_view.template())
    write_s = time.perf_counter() - t0
    first, script, zooms = measure(out)
    print("viewer benchmark: %d nodes, html %.1f MB written in %.0f ms" % (n, os.path.getsize(out) / 1e6, write_s * 1e3))
    print("  first view drawn, from navigation start: median %.0f ms (max %.0f)" % (statistics.median(first), max(first)))
    print("  first view drawn, from viewer script start (parse+aggregate+draw): median %.0f ms" % statistics.median(script))
    print("  zoom (aggregated flame graph redraw): median %.1f ms, max %.1f ms over %d zooms" % (statistics.median(zooms), max(zooms), len(zooms)))


if __name__ == "__main__":
    main()
