/* pyrometer viewer — vanilla JS, no build step, no network.
 * Reads the profile embedded as JSON (the .pyro schema, see pm_pyro.c) from
 * <script type="application/json" id="pyrometer-data">.  Every piece of
 * profile text reaches the page through textContent, canvas fillText or an
 * escaped SVG string, never through innerHTML, so hostile names are inert. */
(function () {
  'use strict';
  var T0 = performance.now();
  var $ = function (id) { return document.getElementById(id); };
  var api = window.pyrometerViewer = { ready: false, timings: {}, errors: [] };

  // ---- data ------------------------------------------------------------------
  var raw;
  try {
    raw = JSON.parse($('pyrometer-data').textContent);
  } catch (e) {
    raw = null;
  }
  var S = (raw && raw.strings) || [''];
  var str = function (i) { return (i === null || i === undefined || i < 0 || i >= S.length) ? '' : String(S[i]); };
  var FR = (raw && raw.frames) || [];
  var NODES = (raw && raw.nodes) || [];
  var THREADS = (raw && raw.threads) || [];
  var METRICS = ((raw && raw.metrics) || []).map(function (m, i) {
    return { name: String(m.name), unit: String(m.unit), vals: (raw.values && raw.values[i]) || [] };
  });
  var META = {}, SOURCES = {}, metaOrder = [];
  ((raw && raw.meta) || []).forEach(function (m) {
    var k = String(m.key), v = m.str !== undefined ? String(m.str) : (typeof m.num === 'string' ? parseFloat(m.num) : m.num);
    if (k.indexOf('source:') === 0) SOURCES[k.slice(7)] = v;
    else { META[k] = v; metaOrder.push(k); }
  });
  var N = NODES.length, NF = FR.length;
  var nParent = new Int32Array(N), nFrame = new Int32Array(N), nLine = new Int32Array(N), nThread = new Int32Array(N);
  for (var i = 0; i < N; i++) {
    var nd = NODES[i];
    nParent[i] = nd[0] === null ? -1 : nd[0];
    nFrame[i] = nd[1] === null ? -1 : nd[1];
    nLine[i] = nd[2] || 0;
    nThread[i] = nd[3] === null ? -1 : nd[3];
  }
  var fName = [], fFile = [], fLine = new Int32Array(NF), fKind = new Int8Array(NF), fCat = new Int8Array(NF);
  // Categories: 0 user code, 1 library (site-packages), 2 stdlib, 3 native, 4 special.
  for (i = 0; i < NF; i++) {
    var fr = FR[i];
    fName.push(str(fr[0])); fFile.push(str(fr[1])); fLine[i] = fr[2] || 0; fKind[i] = fr[3] || 0;
    var file = fFile[i];
    fCat[i] = fKind[i] === 2 ? 4 : fKind[i] === 1 ? 3 :
      /[\/\\](site|dist)-packages[\/\\]/.test(file) ? 1 :
      (file === '' || file.indexOf('<frozen') === 0 || /[\/\\]lib[\/\\]python\d+\.\d+[\/\\]/.test(file) || file.indexOf('<') === 0) ? 2 : 0;
  }
  var threadLabel = function (t) {
    var th = THREADS[t] || {};
    return (th.name ? String(th.name) : '') || ('thread ' + (th.ident !== undefined ? th.ident : t));
  };

  // Memory profiles: the --memory-view names and the metric each shows, and
  // how the metric switch labels them.
  var MEMORY_VIEWS = { peak: 'peak_space', live: 'inuse_space', allocated: 'alloc_space', leaks: 'leak_space' };
  var METRIC_LABELS = {
    peak_space: 'peak: bytes alive at the peak', peak_objects: 'peak: objects alive at the peak',
    inuse_space: 'live at end: bytes', inuse_objects: 'live at end: objects',
    alloc_space: 'allocated: bytes', alloc_objects: 'allocated: objects',
    leak_space: 'leaks: bytes never freed', leak_objects: 'leaks: objects never freed',
    range_alloc_space: 'allocated in the range: bytes', range_live_space: 'allocated in the range, live at end: bytes',
    range_alloc_objects: 'allocated in the range: objects',
    gil_wait: 'gil_wait: samples waiting for the GIL (estimated)',
    preempted: 'preempted: time holding the GIL but not a CPU'
  };
  // META.memory_timeline: "t heap rss;..." (seconds, live-heap estimate and
  // resident set size in bytes), the memory collector's record of the run.
  var MEMTL = String(META.memory_timeline || '').split(';').map(function (r) {
    var f = r.split(' ');
    return { t: +f[0], heap: +f[1], rss: +f[2] };
  }).filter(function (p) { return isFinite(p.t) && isFinite(p.heap) && isFinite(p.rss); });
  // raw.allocations: the sampled allocations over time, as records [node,
  // bucket allocated in, bucket freed in or null (live at the end), bytes,
  // count]; bucket b is [b, b + 1) x bucket_ns from the heap timeline's zero.
  // A range selected on the heap chart becomes metrics every view shows.
  var ALLOC = (function () {
    var a = raw && raw.allocations, recs = a && a.records;
    if (!a || !(+a.bucket_ns > 0) || !Array.isArray(recs)) return null;
    var n = recs.length, o = { w: +a.bucket_ns / 1e9, n: n, node: new Int32Array(n), at: new Float64Array(n),
      live: new Uint8Array(n), bytes: new Float64Array(n), count: new Float64Array(n) };
    for (var i = 0; i < n; i++) {
      var r = recs[i];
      o.node[i] = r[0]; o.at[i] = r[1]; o.live[i] = r[2] === null ? 1 : 0; o.bytes[i] = +r[3] || 0; o.count[i] = +r[4] || 0;
    }
    return o;
  })();
  var RANGE_METRICS = ['range_alloc_space', 'range_live_space', 'range_alloc_objects'];

  // ---- state (mirrored in the URL fragment) ------------------------------------
  // An import-time profile (frames are modules) reads top-down: an icicle.
  var st = { view: 'flame', metric: -1, thread: -1, q: '', zoom: 0, fn: -1, icicle: META.mode === 'imports', theme: '', src: '', range: null };
  var hashRange = null, hashMetric = '';  // from the URL, applied once the range's metrics exist
  (function defaults() {
    var want = META.mode === 'cpu' ? 'cpu' : 'wall';
    // A memory profile opens on the view it was written for (peak unless
    // --memory-view said otherwise).
    if (META.mode === 'memory') want = MEMORY_VIEWS[META.memory_view] || 'peak_space';
    var names = METRICS.map(function (m) { return m.name; });
    st.metric = names.indexOf(want) >= 0 ? names.indexOf(want) : names.indexOf('samples') >= 0 ? names.indexOf('samples') : 0;
    ['wall', 'cpu', 'calls', 'samples', 'time'].some(function (n) {
      if (names.indexOf(want) >= 0) return true;
      if (names.indexOf(n) >= 0 && METRICS[names.indexOf(n)].vals.some(function (v) { return v; })) { st.metric = names.indexOf(n); return true; }
      return false;
    });
  })();
  function readHash() {
    var h = location.hash.replace(/^#/, '');
    h.split('&').forEach(function (kv) {
      var p = kv.split('='), k = p[0], v = decodeURIComponent(p.slice(1).join('=') || '');
      if (!k) return;
      if (k === 'view' || k === 'q' || k === 'theme' || k === 'src') st[k] = v;
      else if (k === 'metric') { var mi = METRICS.map(function (m) { return m.name; }).indexOf(v); if (mi >= 0) st.metric = mi; hashMetric = v; }
      else if (k === 'range') { var rr = v.split(',').map(Number); hashRange = rr.length === 2 && isFinite(rr[0]) && isFinite(rr[1]) && rr[1] > rr[0] ? rr : null; }
      else if (k === 'thread' || k === 'zoom' || k === 'fn') { var n = parseInt(v, 10); if (!isNaN(n)) st[k] = n; }
      else if (k === 'icicle') st.icicle = v === '1';
    });
  }
  var hashTimer = 0;
  function writeHash() {
    clearTimeout(hashTimer);
    hashTimer = setTimeout(function () {
      var parts = ['view=' + st.view];
      if (METRICS[st.metric]) parts.push('metric=' + encodeURIComponent(METRICS[st.metric].name));
      if (st.thread >= 0) parts.push('thread=' + st.thread);
      if (st.zoom > 0) parts.push('zoom=' + st.zoom);
      if (st.fn >= 0) parts.push('fn=' + st.fn);
      if (st.q) parts.push('q=' + encodeURIComponent(st.q));
      if (st.icicle) parts.push('icicle=1');
      if (st.theme) parts.push('theme=' + st.theme);
      if (st.src) parts.push('src=' + encodeURIComponent(st.src));
      if (st.range) parts.push('range=' + st.range.map(function (x) { return +x.toFixed(6); }).join(','));
      history.replaceState(null, '', '#' + parts.join('&'));
    }, 50);
  }

  // ---- formatting -------------------------------------------------------------------
  function unit() { return METRICS[st.metric] ? METRICS[st.metric].unit : 'count'; }
  function fmtVal(v, u) {
    u = u || unit();
    if (u === 'nanoseconds') {
      var a = Math.abs(v);
      return a >= 1e9 ? (v / 1e9).toFixed(a >= 1e11 ? 0 : 2) + ' s' : a >= 1e6 ? (v / 1e6).toFixed(a >= 1e8 ? 0 : 1) + ' ms' :
        a >= 1e3 ? (v / 1e3).toFixed(1) + ' µs' : Math.round(v) + ' ns';
    }
    if (u === 'bytes') {
      var b = Math.abs(v);
      return b >= 1 << 30 ? (v / (1 << 30)).toFixed(2) + ' GiB' : b >= 1 << 20 ? (v / (1 << 20)).toFixed(1) + ' MiB' :
        b >= 1024 ? (v / 1024).toFixed(1) + ' KiB' : v + ' B';
    }
    return (Math.round(v * 100) / 100).toLocaleString('en');
  }
  function pct(v, of) { return of > 0 ? (100 * v / of).toFixed(v * 1000 < of ? 2 : 1) + '%' : '0%'; }
  function where(f) {
    if (f < 0) return '';
    var file = fFile[f];
    return file ? file + (fLine[f] ? ':' + fLine[f] : '') : '';
  }
  function shortFile(file) { var p = file.split(/[\/\\]/); return p.slice(-2).join('/'); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- a time range of a memory profile ----------------------------------------------------
  // The range snaps outwards to whole buckets (what the records can tell
  // apart) and is shown snapped.
  function snapRange(t0, t1) {
    var w = ALLOC.w, b0 = Math.max(0, Math.floor(t0 / w + 1e-9)), b1 = Math.max(b0 + 1, Math.ceil(t1 / w - 1e-9));
    return [b0 * w, b1 * w];
  }
  var rangePrev = '';  // the metric shown before a range was selected
  /* Selects [t0, t1] (seconds; null clears): per trie node, the bytes and
   * objects allocated in it and the bytes of those still live at the end,
   * as three metrics appended after the profile's own. */
  function setRange(range) {
    var names = METRICS.map(function (m) { return m.name; }), cur = names[st.metric] || '';
    for (var i = METRICS.length - 1; i >= 0; i--) if (RANGE_METRICS.indexOf(METRICS[i].name) >= 0) METRICS.splice(i, 1);
    if (RANGE_METRICS.indexOf(cur) < 0) rangePrev = cur;
    st.range = null;
    var want = rangePrev;
    if (range && ALLOC) {
      var r = snapRange(range[0], range[1]), b0 = Math.round(r[0] / ALLOC.w), b1 = Math.round(r[1] / ALLOC.w);
      var ab = new Float64Array(N), lb = new Float64Array(N), ac = new Float64Array(N);
      for (i = 0; i < ALLOC.n; i++) {
        var at = ALLOC.at[i], nd = ALLOC.node[i];
        if (at < b0 || at >= b1 || nd < 0 || nd >= N) continue;
        ab[nd] += ALLOC.bytes[i]; ac[nd] += ALLOC.count[i];
        if (ALLOC.live[i]) lb[nd] += ALLOC.bytes[i];
      }
      METRICS.push({ name: 'range_alloc_space', unit: 'bytes', vals: ab }, { name: 'range_live_space', unit: 'bytes', vals: lb },
        { name: 'range_alloc_objects', unit: 'count', vals: ac });
      st.range = r;
      want = RANGE_METRICS.indexOf(cur) >= 0 ? cur : 'range_alloc_space';
    }
    names = METRICS.map(function (m) { return m.name; });
    st.metric = Math.max(0, names.indexOf(want));
    st.zoom = 0; sel = -1;
    api.range = st.range ? st.range.slice() : null;
  }
  function changeRange(range) {
    setRange(range);
    fillControls(); rebuild(); renderView(); writeHash();
  }

  // ---- the aggregated tree (by function, for one thread selection, every metric) ----
  // Node 0 is the root; with "all threads" its children are one node per
  // thread (frame -2-t), then functions.  Children are merged by frame.
  var A = null;
  function buildAgg(threadSel) {
    var cap = N + THREADS.length + 2;
    var aParent = new Int32Array(cap), aFrame = new Int32Array(cap), aDepth = new Int32Array(cap);
    var M = METRICS.length, aSelf = [], aTot = [];
    for (var m = 0; m < M; m++) aSelf.push(new Float64Array(cap));
    var map = new Int32Array(N).fill(-1);
    var key = new Map(), n = 1, KM = NF + THREADS.length + 3;
    aParent[0] = -1; aFrame[0] = -1;
    var add = function (a, id) { for (var m = 0; m < M; m++) { var v = METRICS[m].vals[id]; if (v) aSelf[m][a] += v; } };
    for (var id = 0; id < N; id++) {
      if (id === 0 || nParent[id] < 0) { map[id] = threadSel < 0 ? 0 : -1; if (map[id] === 0) add(0, id); continue; }
      var pa, fr;
      if (nFrame[id] < 0) {  // a thread's root
        if (threadSel >= 0) { map[id] = nThread[id] === threadSel ? 0 : -1; if (map[id] === 0) add(0, id); continue; }
        pa = 0; fr = -2 - Math.max(nThread[id], 0);
      } else {
        pa = map[nParent[id]]; fr = nFrame[id];
        if (pa < 0) continue;
      }
      var k = pa * KM + (fr + THREADS.length + 2), a = key.get(k);
      if (a === undefined) {
        a = n++; key.set(k, a); aParent[a] = pa; aFrame[a] = fr; aDepth[a] = aDepth[pa] + 1;
      }
      map[id] = a;
      add(a, id);
    }
    for (m = 0; m < M; m++) {
      var t = aSelf[m].slice(0, n);
      for (var a2 = n - 1; a2 > 0; a2--) t[aParent[a2]] += t[a2];
      aTot.push(t);
    }
    var kids = new Array(n);
    for (a2 = 0; a2 < n; a2++) kids[a2] = [];
    for (a2 = 1; a2 < n; a2++) kids[aParent[a2]].push(a2);
    A = { n: n, parent: aParent, frame: aFrame, depth: aDepth, self: aSelf, tot: aTot, kids: kids, map: map, sortedFor: -1 };
    sortKids();
  }
  function sortKids() {
    if (A.sortedFor === st.metric) return;
    var t = A.tot[st.metric] || new Float64Array(A.n);
    for (var a = 0; a < A.n; a++) if (A.kids[a].length > 1) A.kids[a].sort(function (x, y) { return t[y] - t[x] || x - y; });
    A.sortedFor = st.metric;
  }
  function aTotal(a) { return A.tot[st.metric] ? A.tot[st.metric][a] : 0; }
  function aSelfV(a) { return A.self[st.metric] ? A.self[st.metric][a] : 0; }
  function aLabel(a) {
    var f = A.frame[a];
    if (a === 0) return st.thread >= 0 ? threadLabel(st.thread) : 'all threads';
    if (f <= -2) return 'thread: ' + threadLabel(-2 - f);
    return fName[f];
  }
  function aWhere(a) { return A.frame[a] >= 0 ? where(A.frame[a]) : ''; }

  // ---- search ---------------------------------------------------------------------
  var matchFrame = null;  // Uint8Array per frame, or null when no search
  function computeMatches() {
    var q = st.q.trim().toLowerCase();
    matchFrame = null;
    if (!q) { $('matches').textContent = ''; return; }
    matchFrame = new Uint8Array(NF);
    var nm = 0;
    for (var f = 0; f < NF; f++) if ((fName[f] + ' ' + fFile[f]).toLowerCase().indexOf(q) >= 0) { matchFrame[f] = 1; nm++; }
    // Total of matching nodes, nested matches counted once.
    var total = 0, covered = new Uint8Array(A.n), t = A.tot[st.metric];
    for (var a = 1; a < A.n; a++) {
      var f2 = A.frame[a];
      covered[a] = covered[A.parent[a]];
      if (!covered[a] && f2 >= 0 && matchFrame[f2]) { covered[a] = 1; total += t[a]; }
    }
    $('matches').textContent = nm + ' function' + (nm === 1 ? '' : 's') + ' match · ' + pct(total, t[0]) + ' of ' + fmtVal(t[0]);
    api.matchCount = nm; api.matchTotal = total;
  }
  function isMatch(a) { return matchFrame && A.frame[a] >= 0 && matchFrame[A.frame[a]] === 1; }

  // ---- colours -------------------------------------------------------------------
  var dark = false;
  function hash(s) { var h = 2166136261; for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); } return h >>> 0; }
  var colorCache = {};
  function frameColor(f) {
    // Keyed by number, one table per theme: no string built per rectangle.
    var cc = colorCache[dark ? 'd' : 'l'] || (colorCache[dark ? 'd' : 'l'] = {}), k = f;
    if (cc[k]) return cc[k];
    var h = hash(f >= 0 ? fName[f] : 'thread'), c, cat = f >= 0 ? fCat[f] : -1;
    var j = (h % 1000) / 1000, L = dark ? 0.72 : 1;
    if (cat === 0) c = 'hsl(' + (8 + j * 40) + ',' + (70 + j * 20) + '%,' + (58 * L + (dark ? 0 : 4)) + '%)';
    else if (cat === 1) c = 'hsl(' + (195 + j * 30) + ',55%,' + (62 * L) + '%)';
    else if (cat === 2) c = 'hsl(' + (90 + j * 40) + ',35%,' + (60 * L) + '%)';
    else if (cat === 3) c = 'hsl(' + (265 + j * 25) + ',40%,' + (66 * L) + '%)';
    else c = dark ? '#555b63' : '#c5c9cf';
    return (cc[k] = c);
  }

  // A differential profile (pyrometer diff -o): NEW's values under the compared
  // metric and BASE's on the same paths under meta diff_base_metric.  Frames
  // are coloured by the change of their total: red slower, blue faster, grey
  // within the threshold; deeper colour for a larger change (full at 100%).
  var DIFF_BASE = META.diff_base_metric ? METRICS.map(function (m) { return m.name; }).indexOf(String(META.diff_base_metric)) : -1;
  var DIFF_PCT = +META.diff_threshold_pct || 5;
  api.diff = DIFF_BASE >= 0;
  function diffChange(a) {
    var bt = A.tot[DIFF_BASE][a], nt = aTotal(a);
    return bt > 0 ? (nt - bt) / bt : nt > 0 ? 1 : 0;
  }
  function diffColor(a) {
    var ch = diffChange(a);
    if (Math.abs(ch) * 100 < DIFF_PCT) return dark ? '#6b7077' : '#d9dbde';
    var k = Math.min(1, Math.abs(ch)), L = (dark ? 70 : 86) - 36 * k;
    return ch > 0 ? 'hsl(4,85%,' + L + '%)' : 'hsl(212,80%,' + L + '%)';
  }

  // ---- flame graph / icicle (canvas) -------------------------------------------------
  var ROW = 18;
  function setupCanvas(cv, w, h) {
    var dpr = window.devicePixelRatio || 1;
    // Resizing reallocates the backing store even at the same size: only
    // when it changes (callers paint the whole background anyway).
    var W = Math.max(1, Math.floor(w * dpr)), H = Math.max(1, Math.floor(h * dpr));
    if (cv.width !== W) cv.width = W;
    if (cv.height !== H) cv.height = H;
    if (cv.style.width !== w + 'px') cv.style.width = w + 'px';
    if (cv.style.height !== h + 'px') cv.style.height = h + 'px';
    var g = cv.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.font = '12px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif';
    g.textBaseline = 'middle';
    g.textAlign = 'left';
    return g;
  }
  // Labels are cut by an average glyph width: measureText per label made
  // redraws of large profiles several times slower.
  function fitText(g, text, w) {
    if (w < 20) return '';
    var max = Math.floor(w / 6.6);
    return text.length <= max ? text : max > 2 ? text.slice(0, max - 1) + '…' : '';
  }
  /* A generic flame chart over any tree: tr = {kids(a), tot(a), label(a), frame(a), root, ancestors: [...]}.
   * Returns the list of drawn rectangles (for hit tests and SVG export). */
  // Layouts of the aggregated flame graph by (tree, root, width, metric):
  // zooming back out (to the root, or up the breadcrumbs) reuses them.
  var layoutCache = [];
  function flameLayout(tr, w) {
    var ck = tr.cacheKey, i;
    if (ck) {
      for (i = 0; i < layoutCache.length; i++) {
        var e = layoutCache[i];
        if (e.owner === ck.owner && e.key === ck.key + '|' + w) {
          if (i) { layoutCache.splice(i, 1); layoutCache.unshift(e); }
          return e;
        }
      }
    }
    var minW = 0.35, rects = [];
    var anc = tr.ancestors || [];
    // Layout pass: flat arrays as the stack (no array per node).
    var sa = [tr.root], sx = [0], sw = [w], sr = [anc.length], maxRow = anc.length;
    for (i = 0; i < anc.length; i++) rects.push({ a: anc[i], x: 0, w: w, row: i, anc: true, y: 0 });
    while (sa.length) {
      var a = sa.pop(), x = sx.pop(), ww = sw.pop(), row = sr.pop();
      rects.push({ a: a, x: x, w: ww, row: row, anc: false, y: 0 });
      if (row > maxRow) maxRow = row;
      var t = tr.tot(a);
      if (t <= 0) continue;
      var ks = tr.kids(a), cx = x;
      for (var k = 0; k < ks.length; k++) {
        var cw = ww * tr.tot(ks[k]) / t;
        if (cw < minW) break;  // children are sorted heaviest first
        sa.push(ks[k]); sx.push(cx); sw.push(cw); sr.push(row + 1);
        cx += cw;
      }
    }
    var L = { rects: rects, maxRow: maxRow, byRow: null, owner: ck && ck.owner, key: ck && ck.key + '|' + w };
    if (ck) { layoutCache.unshift(L); if (layoutCache.length > 8) layoutCache.pop(); }
    return L;
  }
  function rowIndex(rects) {
    var byRow = [];
    for (var i = 0; i < rects.length; i++) { (byRow[rects[i].row] = byRow[rects[i].row] || []).push(rects[i]); }
    byRow.forEach(function (l) { l.sort(function (p, q) { return p.x - q.x; }); });
    return byRow;
  }
  function drawFlame(cv, scrollBox, tr, opt) {
    var w = Math.max(200, scrollBox.clientWidth - 2);
    var rootTot = tr.tot(tr.root);
    var lay = flameLayout(tr, w), rects = lay.rects, maxRow = lay.maxRow, i;
    var rows = maxRow + 1, h = Math.max(rows * ROW + 4, opt.minHeight || 0);
    var g = setupCanvas(cv, w, h);
    var css = getComputedStyle(document.documentElement);
    g.fillStyle = css.getPropertyValue('--bg'); g.fillRect(0, 0, w, h);
    var up = opt.flame;  // root at the bottom
    var hlc = css.getPropertyValue('--hl').trim(), selc = css.getPropertyValue('--sel').trim();
    var txt = dark ? '#101214' : '#1b1d20';
    // Rectangles batched by colour: one path and one fill per colour (setting
    // fillStyle per rectangle dominated redraws of large profiles).  Labels
    // and the selection outline go on top in a second pass.
    var batch = new Map(), r, fill, list, diffSeen = { slower: {}, faster: {} };
    for (i = 0; i < rects.length; i++) {
      r = rects[i];
      r.y = up ? h - (r.row + 1) * ROW - 2 : r.row * ROW + 2;
      var m = tr.match(r.a);
      fill = m ? hlc : r.anc ? (dark ? '#3a3f47' : '#dde1e6') : (matchFrame ? (dark ? '#2c3036' : '#eceef1') :
        tr.diffColor ? tr.diffColor(r.a) : frameColor(tr.frame(r.a)));
      if (tr.diffColor && !r.anc && Math.abs(diffChange(r.a)) * 100 >= DIFF_PCT) (diffChange(r.a) > 0 ? diffSeen.slower : diffSeen.faster)[tr.label(r.a)] = 1;
      list = batch.get(fill);
      if (!list) batch.set(fill, list = []);
      list.push(r);
    }
    if (tr.diffColor) { api.diffSlower = Object.keys(diffSeen.slower); api.diffFaster = Object.keys(diffSeen.faster); }
    batch.forEach(function (l, color) {
      g.fillStyle = color;
      g.beginPath();
      for (var j = 0; j < l.length; j++) { var q = l[j]; g.rect(q.x, q.y, Math.max(q.w - 0.5, 0.5), ROW - 1); }
      g.fill();
    });
    var curFill = '';
    for (i = 0; i < rects.length; i++) {
      r = rects[i];
      if (r.w > 22) {
        var label = fitText(g, tr.label(r.a), r.w - 6);
        if (label) {
          fill = tr.match(r.a) ? '#fff' : (r.anc && dark ? '#e3e6ea' : txt);
          if (fill !== curFill) { g.fillStyle = fill; curFill = fill; }
          g.fillText(label, r.x + 3, r.y + ROW / 2);
        }
      }
      if (opt.selected === r.a) { g.strokeStyle = selc; g.lineWidth = 2; g.strokeRect(r.x + 1, r.y + 1, Math.max(r.w - 2, 1), ROW - 3); }
    }
    // The row index for hit tests is built on the first hover (and kept
    // with a cached layout).
    return { rects: rects, lay: lay, w: w, h: h, up: up, rootTot: rootTot, tr: tr };
  }
  function hitFlame(L, x, y) {
    if (!L) return null;
    if (!L.lay.byRow) L.lay.byRow = rowIndex(L.rects);
    L.byRow = L.lay.byRow;
    var row = L.up ? Math.floor((L.h - 2 - y) / ROW) : Math.floor((y - 2) / ROW);
    var l = L.byRow[row];
    if (!l) return null;
    var lo = 0, hi = l.length - 1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1, r = l[mid];
      if (x < r.x) hi = mid - 1; else if (x >= r.x + r.w) lo = mid + 1; else return r;
    }
    return null;
  }
  function aggTree(root) {
    var anc = [];
    for (var p = A.parent[root]; p >= 0; p = A.parent[p]) anc.unshift(p);
    return {
      root: root, ancestors: anc, cacheKey: { owner: A, key: root + '|' + st.metric },
      kids: function (a) { return A.kids[a]; }, tot: aTotal, self: aSelfV,
      label: aLabel, frame: function (a) { return A.frame[a]; }, match: isMatch, where: aWhere,
      diffColor: DIFF_BASE >= 0 && st.metric !== DIFF_BASE ? diffColor : null
    };
  }
  var flameL = null, sel = -1;
  function renderFlame() {
    if (st.zoom >= A.n || st.zoom < 0) st.zoom = 0;
    var t0 = performance.now();
    flameL = drawFlame($('flame'), $('flame-scroll'), aggTree(st.zoom), { flame: !st.icicle, selected: sel });
    if (!st.icicle && !renderFlame.scrolled) { var sb = $('flame-scroll'); sb.scrollTop = sb.scrollHeight; }
    api.timings.lastFlameMs = performance.now() - t0;
    renderCrumbs();
  }
  function renderCrumbs() {
    var c = $('crumbs'); c.textContent = '';
    if (st.range) {
      var rb = el('span', 'range', 'allocated in ' + fmtVal(st.range[0] * 1e9, 'nanoseconds') + ' – ' + fmtVal(st.range[1] * 1e9, 'nanoseconds') + ' ');
      var clr = el('a', '', '× clear range');
      clr.title = 'show the whole run again';
      clr.onclick = function () { changeRange(null); };
      rb.appendChild(clr);
      c.appendChild(rb);
    }
    if (st.view === 'flame' || st.view === 'sunburst') {
      var path = [];
      for (var a = st.zoom; a >= 0; a = A.parent[a]) path.unshift(a);
      path.forEach(function (a, i) {
        if (i) c.appendChild(el('span', 'sep', '›'));
        var link = el('a', '', aLabel(a));
        link.title = aWhere(a);
        link.onclick = function () { zoomTo(a); };
        c.appendChild(link);
      });
      c.appendChild(el('span', 'hint', '  ' + fmtVal(aTotal(st.zoom)) + ' (' + pct(aTotal(st.zoom), aTotal(0)) + ')'));
    } else if (st.view === 'sandwich' || st.view === 'source') {
      c.appendChild(el('span', '', st.fn >= 0 ? fName[st.fn] + '  ' + where(st.fn) : ''));
    }
  }
  function zoomTo(a) {
    st.zoom = a; sel = a;
    if (A.frame[a] >= 0) st.fn = A.frame[a];
    renderFlame.scrolled = false;
    renderView(); writeHash();
  }

  // ---- tooltip --------------------------------------------------------------------
  function showTip(ev, name, file, rows) {
    var tip = $('tip'); tip.textContent = '';
    tip.appendChild(el('div', 'n', name));
    if (file) tip.appendChild(el('div', 'f mono', file));
    rows.forEach(function (r) { tip.appendChild(el('div', '', r)); });
    tip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14, bw = tip.offsetWidth, bh = tip.offsetHeight;
    if (x + bw > innerWidth) x = Math.max(0, ev.clientX - bw - 10);
    if (y + bh > innerHeight) y = Math.max(0, ev.clientY - bh - 10);
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  }
  function hideTip() { $('tip').hidden = true; }
  function nodeTip(ev, tr, a, rootTot) {
    var t = tr.tot(a), s = tr.self(a), rows = [
      'total ' + fmtVal(t) + ' (' + pct(t, rootTot) + ')',
      'self ' + fmtVal(s) + ' (' + pct(s, rootTot) + ')'
    ];
    if (tr.diffColor) {
      var ch = diffChange(a);
      rows.push('BASE total ' + fmtVal(A.tot[DIFF_BASE][a]) + ' → NEW ' + fmtVal(t) + ' (' + (ch >= 0 ? '+' : '') + (100 * ch).toFixed(1) + '%)');
    }
    showTip(ev, tr.label(a), tr.where(a), rows);
  }
  function bindFlameMouse(cv, getL, onClick) {
    cv.addEventListener('mousemove', function (ev) {
      var L = getL(), b = cv.getBoundingClientRect(), r = hitFlame(L, ev.clientX - b.left, ev.clientY - b.top);
      if (!r) { hideTip(); cv.style.cursor = ''; return; }
      cv.style.cursor = 'pointer';
      nodeTip(ev, L.tr, r.a, L.tr.ancestors.length ? L.tr.tot(L.tr.ancestors[0]) : L.rootTot);
    });
    cv.addEventListener('mouseleave', hideTip);
    cv.addEventListener('click', function (ev) {
      var L = getL(), b = cv.getBoundingClientRect(), r = hitFlame(L, ev.clientX - b.left, ev.clientY - b.top);
      if (r) onClick(r.a);
    });
  }

  // ---- sunburst (canvas) ------------------------------------------------------------
  var sunL = null;
  function renderSunburst() {
    var cv = $('sunburst'), box = $('v-sunburst');
    var w = box.clientWidth, h = box.clientHeight;
    var g = setupCanvas(cv, w, h);
    var css = getComputedStyle(document.documentElement);
    g.fillStyle = css.getPropertyValue('--bg'); g.fillRect(0, 0, w, h);
    var cx = w / 2, cy = h / 2, R = Math.max(40, Math.min(w, h) / 2 - 10), levels = 12, ring = R / (levels + 1);
    var root = st.zoom, rt = aTotal(root), arcs = [];
    if (rt <= 0) { sunL = null; return; }
    var stack = [[root, 0, 2 * Math.PI, 0]];
    while (stack.length) {
      var it = stack.pop(), a = it[0], a0 = it[1], a1 = it[2], d = it[3];
      arcs.push({ a: a, a0: a0, a1: a1, d: d });
      if (d >= levels) continue;
      var t = aTotal(a), ang = a0, ks = A.kids[a];
      for (var k = 0; k < ks.length; k++) {
        var span = (a1 - a0) * aTotal(ks[k]) / t;
        if (span < 0.004) break;
        stack.push([ks[k], ang, ang + span, d + 1]); ang += span;
      }
    }
    var hlc = css.getPropertyValue('--hl').trim();
    arcs.forEach(function (c) {
      g.beginPath();
      if (c.d === 0) g.arc(cx, cy, ring, 0, 2 * Math.PI);
      else { g.arc(cx, cy, (c.d + 1) * ring, c.a0, c.a1); g.arc(cx, cy, c.d * ring, c.a1, c.a0, true); g.closePath(); }
      g.fillStyle = isMatch(c.a) ? hlc : (matchFrame ? (dark ? '#2c3036' : '#eceef1') : (c.d === 0 ? (dark ? '#3a3f47' : '#dde1e6') : frameColor(A.frame[c.a])));
      g.fill();
      g.strokeStyle = css.getPropertyValue('--bg'); g.lineWidth = 0.7; g.stroke();
    });
    g.fillStyle = dark ? '#e3e6ea' : '#1b1d20'; g.textAlign = 'center';
    g.fillText(fitText(g, aLabel(root), ring * 1.8), cx, cy - 7);
    g.fillText(fmtVal(rt), cx, cy + 8);
    g.textAlign = 'left';
    sunL = { arcs: arcs, cx: cx, cy: cy, ring: ring };
  }
  function hitSun(x, y) {
    if (!sunL) return null;
    var dx = x - sunL.cx, dy = y - sunL.cy, r = Math.sqrt(dx * dx + dy * dy), d = Math.floor(r / sunL.ring);
    var ang = Math.atan2(dy, dx); if (ang < 0) ang += 2 * Math.PI;
    for (var i = 0; i < sunL.arcs.length; i++) {
      var c = sunL.arcs[i];
      if (c.d === d && (d === 0 || (ang >= c.a0 && ang < c.a1))) return c;
    }
    return null;
  }

  // ---- call tree (DOM, lazy) --------------------------------------------------------
  function isLib(a) { var f = A.frame[a]; return f >= 0 && (fCat[f] === 1 || fCat[f] === 2); }
  /* The rows under node a: with grouping, a library child is shown with the
   * library frames below it hidden and their first non-library descendants
   * as its children (as pyinstrument does). */
  function groupInfo(a) {
    var hidden = [], kids = [], todo = A.kids[a].slice();
    while (todo.length) {
      var c = todo.shift();
      if (isLib(c)) { hidden.push(c); Array.prototype.push.apply(todo, A.kids[c]); } else kids.push(c);
    }
    var t = A.tot[st.metric];
    kids.sort(function (x, y) { return t[y] - t[x]; });
    return { hidden: hidden, kids: kids };
  }
  function treeKids(a, grouped) {
    if (grouped && isLib(a)) return groupInfo(a).kids;
    return A.kids[a];
  }
  function treeRow(a, rootTot, thr, grouped) {
    var wrap = el('div');
    var row = el('div', 'tn' + (isLib(a) ? ' lib' : '') + (isMatch(a) ? ' match' : '') + (a === sel ? ' sel' : ''));
    row.dataset.node = a;
    var kids = treeKids(a, grouped).filter(function (k) { return aTotal(k) >= thr; });
    var tw = el('span', 'tw', kids.length ? '▸' : '');
    row.appendChild(tw);
    row.appendChild(el('span', 'pct', pct(aTotal(a), rootTot)));
    row.appendChild(el('span', 'tm', fmtVal(aTotal(a))));
    row.appendChild(el('span', 'nm', aLabel(a)));
    if (A.frame[a] >= 0) row.appendChild(el('span', 'fl mono', shortFile(fFile[A.frame[a]]) + ':' + fLine[A.frame[a]]));
    if (grouped && isLib(a)) {
      var gi = groupInfo(a);
      if (gi.hidden.length) {
        var mods = {};
        gi.hidden.forEach(function (h) { mods[shortFile(fFile[A.frame[h]]).split('/')[0]] = 1; });
        row.appendChild(el('span', 'grp', '[' + gi.hidden.length + ' library frame' + (gi.hidden.length > 1 ? 's' : '') + ' hidden: ' + Object.keys(mods).slice(0, 4).join(', ') + ']'));
      }
    }
    row.title = aWhere(a);
    wrap.appendChild(row);
    var box = null;
    function toggle(open) {
      if (!kids.length) return;
      if (open === undefined) open = !box || box.hidden;
      if (open && !box) {
        box = el('div', 'kids');
        kids.forEach(function (k) { box.appendChild(treeRow(k, rootTot, thr, grouped)); });
        var small = treeKids(a, grouped).length - kids.length;
        if (small > 0) box.appendChild(el('div', 'tn small', small + ' small frame' + (small > 1 ? 's' : '') + ' hidden (under threshold)'));
        wrap.appendChild(box);
      } else if (box) box.hidden = !open;
      tw.textContent = open ? '▾' : '▸';
    }
    wrap.toggle = toggle; wrap.kids = kids;
    tw.onclick = function () { toggle(); };
    row.ondblclick = function () { toggle(); };
    row.onclick = function () {
      sel = a; if (A.frame[a] >= 0) st.fn = A.frame[a]; writeHash();
      var old = document.querySelector('#tree .tn.sel'); if (old) old.classList.remove('sel'); row.classList.add('sel');
    };
    row.onmousemove = function (ev) { nodeTip(ev, aggTree(0), a, rootTot); };
    row.onmouseleave = hideTip;
    return wrap;
  }
  function renderTree() {
    var box = $('tree'); box.textContent = ''; box.className = 'scroll tree';
    var rootTot = aTotal(0), thr = rootTot * (parseFloat($('threshold').value) || 0) / 100;
    var top = treeRow(0, rootTot, thr, $('group-lib').checked);
    box.appendChild(top);
    // Open the heaviest path a few levels deep, like pyinstrument.
    var w = top;
    for (var i = 0; i < 40 && w && w.toggle; i++) {
      w.toggle(true);
      var kb = w.lastChild && w.lastChild.className === 'kids' ? w.lastChild : null;
      w = kb && kb.firstChild && kb.firstChild.toggle ? kb.firstChild : null;
      if (w && w.kids && w.kids.length !== 1 && i > 6) break;
    }
  }

  // ---- table (pstats-like) --------------------------------------------------------------
  var tableSort = { key: 'self', asc: false }, lastTableRows = [];
  function funcStats() {
    var M = st.metric, self = new Float64Array(NF), tot = new Float64Array(NF), onStack = new Int32Array(NF);
    var callsM = METRICS.map(function (m) { return m.name; }).indexOf('calls');
    var sampM = METRICS.map(function (m) { return m.name; }).indexOf('samples');
    var cnt = new Float64Array(NF), seen = new Uint8Array(NF);
    var S0 = A.self[M], T0a = A.tot[M], CS = callsM >= 0 ? A.self[callsM] : null, ST = sampM >= 0 ? A.tot[sampM] : null;
    // Iterative DFS keeps an on-stack count per function so recursion counts once.
    var stack = [0], exit = [];
    while (stack.length) {
      var a = stack.pop();
      if (a < 0) { var f0 = A.frame[~a]; if (f0 >= 0) onStack[f0]--; continue; }
      var f = A.frame[a];
      if (f >= 0) {
        seen[f] = 1;
        self[f] += S0[a];
        if (!onStack[f]) { tot[f] += T0a[a]; if (!CS && ST) cnt[f] += ST[a]; }
        if (CS) cnt[f] += CS[a];
        onStack[f]++;
        stack.push(~a);
      }
      var ks = A.kids[a];
      for (var k = 0; k < ks.length; k++) stack.push(ks[k]);
    }
    var rows = [];
    for (f = 0; f < NF; f++) if (seen[f] && (tot[f] || self[f] || cnt[f])) rows.push({ f: f, name: fName[f], file: where(f), calls: cnt[f], self: self[f], total: tot[f], per: cnt[f] ? tot[f] / cnt[f] : 0 });
    return { rows: rows, callsLabel: CS ? 'calls' : (ST ? 'samples' : 'count') };
  }
  function renderTable() {
    var fs = funcStats(), rows = fs.rows, k = tableSort.key, dir = tableSort.asc ? 1 : -1;
    rows.sort(function (x, y) {
      var p = x[k], q = y[k];
      return (typeof p === 'string' ? p.localeCompare(q) : p - q) * dir || x.f - y.f;
    });
    var cols = [['name', 'function', 'l'], ['file', 'file:line', 'l'], ['calls', fs.callsLabel], ['self', 'self'], ['selfpct', 'self %'], ['total', 'total'], ['per', 'per call']];
    var thead = $('table').tHead; thead.textContent = '';
    var hr = el('tr');
    cols.forEach(function (c) {
      var th = el('th', (c[2] || '') + (tableSort.key === c[0] ? ' sorted' + (tableSort.asc ? ' asc' : '') : ''), c[1]);
      th.dataset.key = c[0];
      th.onclick = function () {
        var key = c[0] === 'selfpct' ? 'self' : c[0];
        if (tableSort.key === key) tableSort.asc = !tableSort.asc; else { tableSort.key = key; tableSort.asc = key === 'name' || key === 'file'; }
        renderTable();
      };
      hr.appendChild(th);
    });
    thead.appendChild(hr);
    var tb = $('table').tBodies[0]; tb.textContent = '';
    var grand = aTotal(0), u = METRICS[st.metric] ? METRICS[st.metric].unit : 'count', limit = Math.min(rows.length, 2000);
    var frag = document.createDocumentFragment();
    for (var i = 0; i < limit; i++) {
      var r = rows[i], tr = el('tr', (r.f === st.fn ? 'sel' : '') + (matchFrame && matchFrame[r.f] ? ' match' : ''));
      tr.appendChild(el('td', 'l', r.name));
      tr.appendChild(el('td', 'l mono', r.file));
      tr.appendChild(el('td', '', fmtVal(r.calls, 'count')));
      tr.appendChild(el('td', '', fmtVal(r.self, u)));
      tr.appendChild(el('td', '', pct(r.self, grand)));
      tr.appendChild(el('td', '', fmtVal(r.total, u)));
      tr.appendChild(el('td', '', r.calls ? fmtVal(r.per, u) : ''));
      (function (f) { tr.onclick = function () { st.fn = f; writeHash(); setView('sandwich'); }; })(r.f);
      frag.appendChild(tr);
    }
    if (rows.length > limit) { var more = el('tr'); more.appendChild(el('td', 'l', (rows.length - limit) + ' more functions (search to narrow)')); frag.appendChild(more); }
    tb.appendChild(frag);
    api.tableRows = rows.length;
    lastTableRows = rows.slice(0, limit);
  }

  // ---- callers / callees (sandwich) ----------------------------------------------------
  function heaviestSelfFrame() {
    var best = -1, bv = -1, s = A.self[st.metric];
    if (!s) return -1;
    var per = new Float64Array(NF);
    for (var a = 1; a < A.n; a++) if (A.frame[a] >= 0) per[A.frame[a]] += s[a];
    for (var f = 0; f < NF; f++) if (per[f] > bv) { bv = per[f]; best = f; }
    return bv > 0 ? best : -1;
  }
  /* Builds a small tree: {kids[], tot[], self[], frame[]}, node 0 = the function. */
  function makeTree() { return { kids: [[]], tot: [0], self: [0], frame: [st.fn], key: [new Map()] }; }
  function treeChild(T, p, f) {
    var c = T.key[p].get(f);
    if (c === undefined) { c = T.kids.length; T.kids.push([]); T.tot.push(0); T.self.push(0); T.frame.push(f); T.key.push(new Map()); T.key[p].set(f, c); T.kids[p].push(c); }
    return c;
  }
  function sandwich(f) {
    var callers = makeTree(), callees = makeTree(), t = A.tot[st.metric], s = A.self[st.metric];
    // Outermost occurrences only (recursion counted once).
    var outer = [];
    for (var a = 1; a < A.n; a++) {
      if (A.frame[a] !== f) continue;
      var p = A.parent[a], inner = false;
      for (; p > 0; p = A.parent[p]) if (A.frame[p] === f) { inner = true; break; }
      if (!inner) outer.push(a);
    }
    outer.forEach(function (a) {
      var v = t[a];
      callers.tot[0] += v; callees.tot[0] += v;
      var c = 0;
      for (var p = A.parent[a]; p > 0; p = A.parent[p]) { c = treeChild(callers, c, A.frame[p]); callers.tot[c] += v; }
      // Callees: copy the subtree, merged by function.
      var st2 = [[a, 0]];
      while (st2.length) {
        var it = st2.pop(), src = it[0], dst = it[1];
        callees.self[dst] += s[src];
        var ks = A.kids[src];
        for (var k = 0; k < ks.length; k++) {
          var d = treeChild(callees, dst, A.frame[ks[k]]);
          callees.tot[d] += t[ks[k]];
          st2.push([ks[k], d]);
        }
      }
    });
    var self0 = 0;
    outer.forEach(function (a) {
      var stk = [a];
      while (stk.length) { var x = stk.pop(); if (A.frame[x] === f) self0 += s[x]; Array.prototype.push.apply(stk, A.kids[x]); }
    });
    callers.self[0] = self0;
    [callers, callees].forEach(function (T) {
      T.kids.forEach(function (ks) { ks.sort(function (x, y) { return T.tot[y] - T.tot[x]; }); });
    });
    return { callers: callers, callees: callees };
  }
  function smallTree(T) {
    return {
      root: 0, ancestors: [], kids: function (a) { return T.kids[a]; }, tot: function (a) { return T.tot[a]; },
      self: function (a) { return T.self[a]; }, frame: function (a) { return T.frame[a]; },
      label: function (a) { return T.frame[a] >= 0 ? fName[T.frame[a]] : (T.frame[a] <= -2 ? 'thread: ' + threadLabel(-2 - T.frame[a]) : ''); },
      where: function (a) { return T.frame[a] >= 0 ? where(T.frame[a]) : ''; },
      match: function (a) { return !!(matchFrame && T.frame[a] >= 0 && matchFrame[T.frame[a]]); }
    };
  }
  var callersL = null, calleesL = null;
  function renderSandwich() {
    if (st.fn < 0 || st.fn >= NF) st.fn = heaviestSelfFrame();
    var title = $('sw-title'); title.textContent = '';
    if (st.fn < 0) { title.textContent = 'select a function (click one in any view)'; return; }
    var sw = sandwich(st.fn);
    title.appendChild(el('b', '', fName[st.fn]));
    title.appendChild(el('span', 'hint mono', where(st.fn)));
    title.appendChild(el('span', '', 'total ' + fmtVal(sw.callees.tot[0]) + ' (' + pct(sw.callees.tot[0], aTotal(0)) + ') · self ' + fmtVal(sw.callers.self[0])));
    callersL = drawFlame($('callers'), $('callers-scroll'), smallTree(sw.callers), { flame: true, minHeight: $('callers-scroll').clientHeight - 4 });
    var sb = $('callers-scroll'); sb.scrollTop = sb.scrollHeight;
    calleesL = drawFlame($('callees'), $('callees-scroll'), smallTree(sw.callees), { flame: false });
  }

  // ---- source with per-line heat -------------------------------------------------------
  function fileList() {
    var files = {}, t = A.tot[st.metric];
    for (var a = 1; a < A.n; a++) { var f = A.frame[a]; if (f >= 0 && fCat[f] === 0 && fFile[f]) files[fFile[f]] = (files[fFile[f]] || 0) + A.self[st.metric][a]; }
    Object.keys(SOURCES).forEach(function (k) { if (!(k in files)) files[k] = 0; });
    return Object.keys(files).sort(function (x, y) { return ((y in SOURCES) - (x in SOURCES)) || files[y] - files[x]; });
    void t;
  }
  function renderSource() {
    var files = fileList(), sf = $('src-file');
    if (st.fn >= 0 && st.fn < NF && fFile[st.fn] && files.indexOf(fFile[st.fn]) >= 0 && !renderSource.manual) st.src = fFile[st.fn];
    if (files.indexOf(st.src) < 0) st.src = files[0] || '';
    sf.textContent = '';
    files.forEach(function (f) { var o = el('option', '', f); o.value = f; sf.appendChild(o); });
    sf.value = st.src;
    var box = $('source'); box.textContent = '';
    var note = $('src-note');
    if (!st.src) { note.textContent = 'no user source files in this profile'; return; }
    // Per-line self and total over trie nodes of this file (thread filter applied).
    var M = METRICS[st.metric], vals = M ? M.vals : [], selfL = {}, totL = {}, ntot = new Float64Array(N);
    for (var i = N - 1; i >= 0; i--) { ntot[i] += vals[i] || 0; if (nParent[i] >= 0) ntot[nParent[i]] += ntot[i]; }
    for (i = 0; i < N; i++) {
      var f = nFrame[i];
      if (f < 0 || fFile[f] !== st.src || A.map[i] < 0) continue;
      var L = nLine[i];
      selfL[L] = (selfL[L] || 0) + (vals[i] || 0);
      // Count a line's total once per stack even when recursive.
      var rec = false;
      for (var p = nParent[i]; p >= 0; p = nParent[p]) if (nFrame[p] >= 0 && fFile[nFrame[p]] === st.src && nLine[p] === L) { rec = true; break; }
      if (!rec) totL[L] = (totL[L] || 0) + ntot[i];
    }
    var text = SOURCES[st.src], lines;
    if (typeof text === 'string') { lines = text.split(/\r\n|\r|\n/); note.textContent = 'source embedded at profile time'; }
    else {
      var maxL = 0; Object.keys(totL).forEach(function (k) { maxL = Math.max(maxL, +k); });
      lines = []; for (i = 0; i < maxL; i++) lines.push(totL[i + 1] !== undefined ? '' : '');
      note.textContent = 'source not embedded (only files under the profiled script\'s directory are); line figures only';
    }
    var maxT = 0; Object.keys(totL).forEach(function (k) { maxT = Math.max(maxT, totL[k]); });
    var tbl = el('table', 'src'), frag = document.createDocumentFragment(), heat = getComputedStyle(document.documentElement).getPropertyValue('--heat').trim();
    var hd = el('tr'); ['line', 'total', 'self', ''].forEach(function (h, j) { hd.appendChild(el('td', j < 3 ? (j ? 'v' : 'n') : '', h)); });
    frag.appendChild(hd);
    var cur = st.fn >= 0 && fFile[st.fn] === st.src ? fLine[st.fn] : 0, curRow = null;
    for (i = 0; i < lines.length; i++) {
      var ln = i + 1, tv = totL[ln] || 0, sv = selfL[ln] || 0, tr = el('tr', (tv ? 'hot' : '') + (ln === cur ? ' cur' : ''));
      tr.appendChild(el('td', 'n', String(ln)));
      tr.appendChild(el('td', 'v', tv ? fmtVal(tv) : ''));
      tr.appendChild(el('td', 'v', sv ? fmtVal(sv) : ''));
      var code = el('td', '', lines[i]);
      if (tv && maxT > 0) code.style.background = 'rgba(' + heat + ',' + (0.08 + 0.6 * tv / maxT).toFixed(3) + ')';
      tr.appendChild(code);
      if (ln === cur) curRow = tr;
      frag.appendChild(tr);
    }
    tbl.appendChild(frag); box.appendChild(tbl);
    if (curRow) box.scrollTop = Math.max(0, curRow.offsetTop - 60);
    api.sourceLinesHot = Object.keys(totL).length;
  }

  // ---- timeline (per thread flame chart over time) ---------------------------------------
  var TL = null, tlWin = null, tlL = null, memL = null, memDrag = null;
  function buildTimeline() {
    var ev = (raw && raw.timeline && raw.timeline.events) || [];
    var dur = (+META.duration_s || 0) * 1e9;
    var per = {};
    for (var i = 0; i < ev.length; i++) { var e = ev[i]; (per[e[1]] = per[e[1]] || []).push(e); if (e[0] > dur) dur = e[0]; }
    var lanes = [];
    Object.keys(per).map(Number).sort(function (a, b) { return a - b; }).forEach(function (t) {
      var list = per[t].sort(function (a, b) { return a[0] - b[0]; });
      var bars = [], open = [], maxD = 0;  // open[d] = {f, start, node}
      var close = function (from, at) { for (var d = open.length - 1; d >= from; d--) { var o = open[d]; bars.push([o.s, at, d, o.f, o.n]); } open.length = Math.min(open.length, from); };
      for (var j = 0; j < list.length; j++) {
        var t0 = list[j][0], node = list[j][2], path = [];
        if (node !== null && node >= 0 && node < N) for (var n = node; n >= 0 && nFrame[n] >= 0; n = nParent[n]) path.push(n);
        path.reverse();
        var d = 0;
        while (d < path.length && d < open.length && open[d].f === nFrame[path[d]]) { open[d].n = path[d]; d++; }
        close(d, t0);
        for (; d < path.length; d++) open.push({ f: nFrame[path[d]], s: t0, n: path[d] });
        if (path.length > maxD) maxD = path.length;
      }
      close(0, dur);
      bars.sort(function (a, b) { return a[0] - b[0]; });
      lanes.push({ thread: t, bars: bars, depth: maxD });
    });
    TL = { lanes: lanes, dur: dur, events: ev.length };
    tlWin = [0, dur];
  }
  function hasEvents() { return !!(raw && raw.timeline && raw.timeline.events && raw.timeline.events.length); }
  function renderTimeline() {
    $('minimap').hidden = !hasEvents();
    $('tl-hint').hidden = !hasEvents(); /* the range hint is the events' */
    $('mem-hint').hidden = hasEvents() || !ALLOC;
    $('mem-clear').hidden = hasEvents() || !st.range;
    $('timeline').classList.toggle('memsel', !hasEvents() && !!ALLOC);
    if (!hasEvents()) { renderMemoryTimeline(); return; }
    if (!TL) buildTimeline();
    var lanes = TL.lanes.filter(function (l) { return st.thread < 0 || l.thread === st.thread; });
    var mm = $('minimap'), box = $('tl-scroll'), w = Math.max(200, box.clientWidth - 2), css = getComputedStyle(document.documentElement);
    var g = setupCanvas(mm, w, 60);
    g.fillStyle = css.getPropertyValue('--panel'); g.fillRect(0, 0, w, 60);
    var dur = TL.dur || 1, lh = 56 / Math.max(1, lanes.length);
    lanes.forEach(function (l, li) {
      var cols = new Float64Array(Math.ceil(w));
      l.bars.forEach(function (b) { if (b[2] === 0) { var x0 = Math.floor(b[0] / dur * w), x1 = Math.ceil(b[1] / dur * w); for (var x = x0; x < x1 && x < cols.length; x++) cols[x] = Math.max(cols[x], l.depth ? 1 : 0); } });
      g.fillStyle = dark ? '#ff8c50' : '#e8590c';
      for (var x = 0; x < cols.length; x++) if (cols[x]) g.fillRect(x, 2 + li * lh, 1, Math.max(1, lh - 1));
    });
    g.fillStyle = dark ? 'rgba(100,181,246,.25)' : 'rgba(21,101,192,.18)';
    var wx0 = tlWin[0] / dur * w, wx1 = tlWin[1] / dur * w;
    g.fillRect(wx0, 0, Math.max(1, wx1 - wx0), 60);
    g.strokeStyle = css.getPropertyValue('--sel'); g.strokeRect(wx0 + 0.5, 0.5, Math.max(1, wx1 - wx0 - 1), 59);
    $('tl-range').textContent = fmtVal(tlWin[0], 'nanoseconds') + ' – ' + fmtVal(tlWin[1], 'nanoseconds') + ' of ' + fmtVal(dur, 'nanoseconds') +
      (raw.timeline && raw.timeline.dropped ? ' · ' + raw.timeline.dropped + ' events dropped' : '');
    // Main chart: lanes one under the other, each an icicle over time.
    var y = 0, rects = [], maxDepth = 30;
    lanes.forEach(function (l) { l.y = y; y += ROW + Math.min(l.depth, maxDepth) * ROW + 6; });
    var cv = $('timeline'), h = Math.max(y, 40), g2 = setupCanvas(cv, w, h);
    g2.fillStyle = css.getPropertyValue('--bg'); g2.fillRect(0, 0, w, h);
    var t0 = tlWin[0], span = Math.max(1, tlWin[1] - tlWin[0]), txt = dark ? '#101214' : '#1b1d20';
    lanes.forEach(function (l) {
      g2.fillStyle = css.getPropertyValue('--fg'); g2.font = 'bold 12px system-ui,sans-serif';
      g2.fillText('thread: ' + threadLabel(l.thread), 4, l.y + ROW / 2);
      g2.font = '12px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif';
      for (var i = 0; i < l.bars.length; i++) {
        var b = l.bars[i];
        if (b[1] < t0 || b[0] > tlWin[1] || b[2] >= maxDepth) continue;
        var x = (b[0] - t0) / span * w, x2 = (b[1] - t0) / span * w;
        if (x2 - x < 0.3) continue;
        x = Math.max(x, 0); x2 = Math.min(x2, w);
        var by = l.y + ROW + b[2] * ROW, m = matchFrame ? matchFrame[b[3]] : 0;
        g2.fillStyle = m ? css.getPropertyValue('--hl') : (matchFrame ? (dark ? '#2c3036' : '#eceef1') : frameColor(b[3]));
        g2.fillRect(x, by, Math.max(0.5, x2 - x - 0.5), ROW - 1);
        if (x2 - x > 22) { var lab = fitText(g2, fName[b[3]], x2 - x - 6); if (lab) { g2.fillStyle = m ? '#fff' : txt; g2.fillText(lab, x + 3, by + ROW / 2); } }
        rects.push({ x: x, w: x2 - x, y: by, b: b });
      }
    });
    tlL = { rects: rects };
    api.timelineBars = rects.length;
  }
  // A memory profile's timeline: the live-heap estimate and the resident
  // set size over the run, the peak marked (memray's and Fil's picture).
  function renderMemoryTimeline() {
    var css = getComputedStyle(document.documentElement), box = $('tl-scroll');
    var w = Math.max(200, box.clientWidth - 2), h = 260, L = 70, R = 10, T = 24, B = 28;
    var cv = $('timeline'), g = setupCanvas(cv, w, h);
    g.fillStyle = css.getPropertyValue('--bg'); g.fillRect(0, 0, w, h);
    var tmax = Math.max(+META.duration_s || 0, MEMTL[MEMTL.length - 1].t) || 1, ymax = 1;
    MEMTL.forEach(function (p) { ymax = Math.max(ymax, p.heap, p.rss); });
    var X = function (t) { return L + t / tmax * (w - L - R); }, Y = function (v) { return T + (1 - v / ymax) * (h - T - B); };
    memL = { x0: L, x1: w - R, tmax: tmax };
    // The selected range (or the one being dragged), under the curves.
    var shade = memDrag ? [Math.min(memDrag[0], memDrag[1]), Math.max(memDrag[0], memDrag[1])] : st.range;
    if (shade) {
      g.fillStyle = dark ? 'rgba(100,181,246,.22)' : 'rgba(21,101,192,.15)';
      var sx0 = X(Math.max(0, shade[0])), sx1 = X(Math.min(tmax, shade[1]));
      g.fillRect(sx0, T, Math.max(1, sx1 - sx0), h - T - B);
      g.strokeStyle = css.getPropertyValue('--sel'); g.lineWidth = 1; g.strokeRect(sx0 + 0.5, T + 0.5, Math.max(1, sx1 - sx0 - 1), h - T - B - 1);
      g.fillStyle = css.getPropertyValue('--fg');
    }
    g.strokeStyle = css.getPropertyValue('--fg'); g.fillStyle = css.getPropertyValue('--fg'); g.lineWidth = 1;
    g.globalAlpha = 0.35; g.beginPath(); g.moveTo(L, T); g.lineTo(L, h - B); g.lineTo(w - R, h - B); g.stroke(); g.globalAlpha = 1;
    for (var i = 0; i <= 4; i++) {
      g.fillText(fmtVal(ymax * i / 4, 'bytes'), 4, Y(ymax * i / 4));
      var tx = X(tmax * i / 4); g.fillText(fmtVal(tmax * i / 4 * 1e9, 'nanoseconds'), Math.min(tx, w - 60), h - B / 2);
    }
    var line = function (key, color) {
      g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
      MEMTL.forEach(function (p, j) { if (j) g.lineTo(X(p.t), Y(p[key])); else g.moveTo(X(p.t), Y(p[key])); });
      g.stroke();
    };
    var heapC = dark ? '#ff8c50' : '#e8590c', rssC = dark ? '#64b5f6' : '#1565c0';
    line('rss', rssC); line('heap', heapC);
    if (META.memory_peak_s !== undefined) {
      var px = X(+META.memory_peak_s);
      g.strokeStyle = css.getPropertyValue('--sel'); g.lineWidth = 1; g.setLineDash([4, 3]);
      g.beginPath(); g.moveTo(px, T); g.lineTo(px, h - B); g.stroke(); g.setLineDash([]);
      g.fillStyle = css.getPropertyValue('--fg'); g.fillText('peak ' + fmtVal(+META.memory_peak_bytes || 0, 'bytes'), Math.min(px + 4, w - 110), T - 10);
    }
    g.fillStyle = heapC; g.fillRect(L + 4, 6, 10, 4); g.fillStyle = css.getPropertyValue('--fg'); g.fillText('heap (live estimate)', L + 18, 8);
    g.fillStyle = rssC; g.fillRect(L + 160, 6, 10, 4); g.fillStyle = css.getPropertyValue('--fg'); g.fillText('RSS', L + 174, 8);
    $('tl-range').textContent = MEMTL.length + ' points over ' + fmtVal(tmax * 1e9, 'nanoseconds');
    if (st.range) {
      var tot = function (name) { var m = METRICS.filter(function (q) { return q.name === name; })[0], v = 0; if (m) for (var k = 0; k < N; k++) v += m.vals[k]; return v; };
      $('tl-range').textContent += ' · allocated in ' + fmtVal(st.range[0] * 1e9, 'nanoseconds') + ' – ' + fmtVal(st.range[1] * 1e9, 'nanoseconds') + ': ' +
        fmtVal(tot('range_alloc_space'), 'bytes') + ', of which live at the end ' + fmtVal(tot('range_live_space'), 'bytes');
    }
    tlL = { rects: [] };
    api.timelineBars = 0;
    api.memoryPoints = MEMTL.length;
  }
  function hitTimeline(x, y) {
    if (!tlL) return null;
    for (var i = tlL.rects.length - 1; i >= 0; i--) { var r = tlL.rects[i]; if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + ROW) return r; }
    return null;
  }

  // ---- header ----------------------------------------------------------------------------
  function renderHeader() {
    $('cmd').textContent = META.command || '';
    $('cmd').title = META.command || '';
    document.title = 'pyrometer · ' + (META.command || 'profile');
    var m = $('meta'); m.textContent = '';
    var item = function (label, value, warn) { var s = el('span', warn ? 'warn' : ''); s.appendChild(document.createTextNode(label + ' ')); s.appendChild(el('b', '', String(value))); m.appendChild(s); };
    if (META.mode) item('mode', META.mode);
    if (META.duration_s !== undefined) item('duration', fmtVal(META.duration_s * 1e9, 'nanoseconds'));
    if (META.rate_hz) item('rate', META.rate_hz + ' Hz');
    if (META.start_unix) { try { item('started', new Date(META.start_unix * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'); } catch (e) { /* bad date */ } }
    if (META.python) item('python', META.python);
    if (META.pyrometer) item('pyrometer', META.pyrometer);
    if (META.samples_taken !== undefined) {
      var exp = +META.samples_expected || 0, got = +META.samples_taken || 0;
      item('samples', got.toLocaleString('en') + (exp ? ' of ' + exp.toLocaleString('en') + ' expected (' + pct(got, exp) + ')' : ''), exp && got < exp * 0.9);
    }
    if (META.samples_torn !== undefined) item('torn', META.samples_torn + (META.samples_taken ? ' (' + pct(+META.samples_torn, +META.samples_taken) + ' of samples, not charged)' : ''), +META.samples_torn > 0);
    if (META.sampler_cpu_s !== undefined && META.duration_s) item('profiler cpu', fmtVal(META.sampler_cpu_s * 1e9, 'nanoseconds') + ' (' + pct(META.sampler_cpu_s, META.duration_s) + ' of run)');
    if (META.mode === 'memory') {
      var mb = function (k) { return fmtVal(+META[k] || 0, 'bytes'); };
      if (META.memory_peak_bytes !== undefined) item('peak', mb('memory_peak_bytes') + (META.memory_peak_s !== undefined ? ' at ' + fmtVal(META.memory_peak_s * 1e9, 'nanoseconds') : ''));
      if (META.memory_live_bytes !== undefined) item('live at end', mb('memory_live_bytes'));
      if (META.memory_allocated_bytes !== undefined) item('allocated', mb('memory_allocated_bytes') + ' in ' + (+META.memory_allocated_count || 0).toLocaleString('en') + ' blocks');
      if (META.memory_leak_bytes !== undefined) item('leaked', mb('memory_leak_bytes'));
      if (META.memory_rss_max !== undefined) item('peak RSS', mb('memory_rss_max'));
      if (META.memory_rate !== undefined) item('sampled every', +META.memory_rate === 1 ? 'allocation (exact)' : mb('memory_rate') + ' on average');
    }
    metaOrder.forEach(function (k) {
      if (META.mode === 'memory' && k.indexOf('memory_') === 0 && ['memory_samples_lost', 'memory_stacks_truncated', 'memory_frames_skipped'].indexOf(k) < 0) return;
      if (k === 'heap_report') return;
      if (META.mode === 'memory' && k === 'timeline_epoch_ns') return;  /* the clock's zero, for tools */
      if (['mode', 'duration_s', 'rate_hz', 'start_unix', 'python', 'pyrometer', 'command', 'samples_taken', 'samples_expected', 'samples_torn', 'samples_torn_partial', 'samples_captured', 'sampler_cpu_s'].indexOf(k) < 0) item(k, META[k]);
    });
    item('nodes', N.toLocaleString('en'));
    item('threads', THREADS.length);
    var shares = threadStateShares();
    if (shares.gil) item('GIL held', shares.gil);
    if (shares.wait) item('GIL waiting', shares.wait);
    if (shares.gc) item('in GC', shares.gc);
  }
  // Per thread, the share of its samples taken while it held the GIL, while
  // it waited for it (an estimate the sampler makes in wall mode, metric
  // "gil_wait", at most the samples without the GIL) and while it ran the
  // garbage collector (metrics "gil" and "gc"), as the terminal report's
  // thread headings give them.
  function threadStateShares() {
    var names = METRICS.map(function (m) { return m.name; });
    var iS = names.indexOf('samples'), iG = names.indexOf('gil'), iC = names.indexOf('gc');
    var iW = +META.gil_wait_probes > 0 ? names.indexOf('gil_wait') : -1;
    if (iS < 0 || iG < 0) return {};
    var nt = THREADS.length, smp = new Float64Array(nt), gil = new Float64Array(nt), gc = new Float64Array(nt);
    var wait = new Float64Array(nt);
    for (var i = 0; i < N; i++) {
      var t = nThread[i];
      if (t < 0 || t >= nt) continue;
      smp[t] += +METRICS[iS].vals[i] || 0;
      gil[t] += +METRICS[iG].vals[i] || 0;
      if (iC >= 0) gc[t] += +METRICS[iC].vals[i] || 0;
      if (iW >= 0) wait[t] += +METRICS[iW].vals[i] || 0;
    }
    for (var k = 0; k < nt; k++) wait[k] = Math.min(wait[k], smp[k] - gil[k]);
    var list = function (v) {
      var parts = [];
      for (var t = 0; t < nt; t++) if (smp[t] > 0 && (v !== gc || v[t] > 0)) parts.push(threadLabel(t) + ' ' + pct(v[t], smp[t]));
      return parts.join(', ');
    };
    return { gil: list(gil), wait: iW >= 0 ? list(wait) : '', gc: list(gc) };
  }
  function fillControls() {
    var ms = $('metric'); ms.textContent = '';
    METRICS.forEach(function (m, i) { var o = el('option', '', METRIC_LABELS[m.name] || m.name); o.value = i; ms.appendChild(o); });
    ms.value = st.metric;
    ms.disabled = METRICS.length < 2;
    var ts = $('thread'); ts.textContent = '';
    var o0 = el('option', '', 'all threads'); o0.value = -1; ts.appendChild(o0);
    THREADS.forEach(function (t, i) { var o = el('option', '', threadLabel(i)); o.value = i; ts.appendChild(o); });
    ts.value = st.thread;
    $('search').value = st.q;
    $('icicle').checked = st.icicle;
  }

  // ---- heap report (pyrometer heap -o) ---------------------------------------------------------
  // META.heap_report: compact JSON written by cli/heap.py — checkpoints
  // (start, each checkpoint, exit: label, time, census [type, module, count,
  // bytes], growth since the one before), the tracked classes' timeline and
  // the --why retention graph.  Without it nothing below touches the page.
  var HEAP = null;
  if (typeof META.heap_report === 'string') {
    try { HEAP = JSON.parse(META.heap_report); } catch (e) { api.errors.push('heap_report: ' + e); }
    if (HEAP && !Array.isArray(HEAP.checkpoints)) HEAP = null;
  }
  var heapSort = { key: 'bytes', asc: false }, heapPair = null;
  var SVGNS = 'http://www.w3.org/2000/svg';
  function svgEl(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function heapType(r) { return r[1] === 'builtins' ? String(r[0]) : r[1] + '.' + r[0]; }
  function heapSection() {
    // Made on demand so that a profile without a heap report keeps its page as it was.
    var btn = el('button', '', 'Heap'); btn.dataset.view = 'heap';
    $('tabs').appendChild(btn);
    var sec = el('section', 'view'); sec.id = 'v-heap';
    var box = el('div', 'scroll heap'); box.id = 'heap';
    sec.appendChild(box);
    $('main').insertBefore(sec, $('empty'));
  }
  function heapTitle(box, text, hint) {
    var h = el('h3', '', text);
    if (hint) h.appendChild(el('span', 'hint', '  ' + hint));
    box.appendChild(h);
  }
  function heapTable(id, cols, rows, onSort) {
    var t = el('table', 'grid heap-grid'); t.id = id;
    var hr = el('tr');
    cols.forEach(function (c) {
      var th = el('th', (c.l ? 'l' : '') + (onSort && heapSort.key === c.key ? ' sorted' + (heapSort.asc ? ' asc' : '') : ''), c.title);
      th.dataset.key = c.key;
      if (onSort && c.sort) th.onclick = function () { onSort(c.key); };
      hr.appendChild(th);
    });
    t.appendChild(el('thead')).appendChild(hr);
    var tb = t.appendChild(el('tbody'));
    rows.forEach(function (r) {
      var tr = el('tr');
      cols.forEach(function (c) { tr.appendChild(el('td', c.l ? 'l' : '', c.fmt ? c.fmt(r) : String(r[c.key]))); });
      tb.appendChild(tr);
    });
    return t;
  }
  function signed(v, fmt) { return (v > 0 ? '+' : '') + fmt(v); }
  function renderHeapCensus(box) {
    var cps = HEAP.checkpoints, last = cps[cps.length - 1], rows = (last.census || []).map(function (r) {
      return { type: heapType(r), name: String(r[0]), module: String(r[1]), count: +r[2], bytes: +r[3] };
    });
    var k = heapSort.key, dir = heapSort.asc ? 1 : -1;
    // Ties as the census orders them: bytes, count, then module and name.
    var cmp = function (a, b) { return a < b ? -1 : a > b ? 1 : 0; };
    rows.sort(function (x, y) {
      return (x[k] - y[k]) * dir || y.bytes - x.bytes || y.count - x.count || cmp(x.module, y.module) || cmp(x.name, y.name);
    });
    var total = rows.reduce(function (s, r) { return s + r.bytes; }, 0);
    heapTitle(box, 'Census (' + last.label + ')', rows.length + ' types, ' + fmtVal(total, 'bytes') + ' · click count or bytes to sort');
    box.appendChild(el('div', 'heap-rows')).appendChild(heapTable('heap-census', [
      { key: 'type', title: 'type', l: 1 },
      { key: 'count', title: 'count', sort: 1, fmt: function (r) { return r.count.toLocaleString('en'); } },
      { key: 'bytes', title: 'bytes', sort: 1, fmt: function (r) { return fmtVal(r.bytes, 'bytes'); } },
      { key: 'share', title: '% of bytes', fmt: function (r) { return pct(r.bytes, total); } }
    ], rows, function (key) {
      if (heapSort.key === key) heapSort.asc = !heapSort.asc; else { heapSort.key = key; heapSort.asc = false; }
      renderHeap();
    }));
  }
  function renderHeapGrowth(box) {
    var cps = HEAP.checkpoints;
    if (cps.length < 2) return;
    if (!heapPair) heapPair = [0, cps.length - 1];
    heapTitle(box, 'Growth between checkpoints', 'the difference of the two censuses, per type');
    var bar = el('div', 'toolbar');
    ['from', 'to'].forEach(function (which, w) {
      var lab = el('label', '', which + ' '), s = el('select'); s.id = 'heap-' + which;
      cps.forEach(function (c, i) { var o = el('option', '', c.label); o.value = i; s.appendChild(o); });
      s.value = heapPair[w];
      s.addEventListener('change', function () { heapPair[w] = +s.value; renderHeap(); });
      lab.appendChild(s); bar.appendChild(lab);
    });
    box.appendChild(bar);
    var before = {}, after = {}, keys = [];
    var index = function (cp, into) {
      (cp.census || []).forEach(function (r) { var t = heapType(r); into[t] = r; if (keys.indexOf(t) < 0) keys.push(t); });
    };
    index(cps[heapPair[0]], before); index(cps[heapPair[1]], after);
    var rows = keys.map(function (t) {
      var a = before[t] || [0, 0, 0, 0], b = after[t] || [0, 0, 0, 0];
      return { type: t, count: +b[2], delta: b[2] - a[2], bytes: +b[3], dbytes: b[3] - a[3] };
    }).filter(function (r) { return r.delta || r.dbytes; });
    rows.sort(function (x, y) { return y.dbytes - x.dbytes || y.delta - x.delta || x.type.localeCompare(y.type); });
    if (!rows.length) { box.appendChild(el('div', 'hint heap-none', 'no type changed between these checkpoints')); return; }
    box.appendChild(el('div', 'heap-rows')).appendChild(heapTable('heap-growth', [
      { key: 'type', title: 'type', l: 1 },
      { key: 'delta', title: 'Δ count', fmt: function (r) { return signed(r.delta, function (v) { return v.toLocaleString('en'); }); } },
      { key: 'dbytes', title: 'Δ bytes', fmt: function (r) { return signed(r.dbytes, function (v) { return fmtVal(v, 'bytes'); }); } },
      { key: 'count', title: 'count (to)', fmt: function (r) { return r.count.toLocaleString('en'); } },
      { key: 'bytes', title: 'bytes (to)', fmt: function (r) { return fmtVal(r.bytes, 'bytes'); } }
    ], rows.slice(0, 500)));
  }
  function heapChart(points) {
    // Live count (solid) and deep size (dashed), each on its own scale, one
    // x step per checkpoint.
    var W = 460, H = 150, L = 50, R = 70, T = 12, B = 30, n = points.length;
    var svg = svgEl('svg', { width: W, height: H, 'class': 'heap-chart', viewBox: '0 0 ' + W + ' ' + H });
    var maxC = Math.max.apply(null, points.map(function (p) { return p.count; }).concat([1]));
    var maxB = Math.max.apply(null, points.map(function (p) { return p.deep_bytes; }).concat([1]));
    var x = function (i) { return L + (n > 1 ? i * (W - L - R) / (n - 1) : (W - L - R) / 2); };
    var y = function (v, max) { return T + (H - T - B) * (1 - v / max); };
    svg.appendChild(svgEl('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, 'class': 'ax' }));
    svg.appendChild(svgEl('text', { x: L - 4, y: T + 4, 'text-anchor': 'end', 'class': 'lc' }, maxC.toLocaleString('en')));
    svg.appendChild(svgEl('text', { x: L - 4, y: H - B, 'text-anchor': 'end', 'class': 'lc' }, '0'));
    svg.appendChild(svgEl('text', { x: W - R + 4, y: T + 4, 'class': 'lb' }, fmtVal(maxB, 'bytes')));
    [['count', maxC, 'lc'], ['deep_bytes', maxB, 'lb']].forEach(function (s) {
      svg.appendChild(svgEl('polyline', { 'class': s[2], fill: 'none', points: points.map(function (p, i) { return x(i) + ',' + y(p[s[0]], s[1]); }).join(' ') }));
    });
    points.forEach(function (p, i) {
      var g = svgEl('g', { 'class': 'heap-pt', 'data-label': p.label, 'data-count': p.count, 'data-deep': p.deep_bytes });
      g.appendChild(svgEl('title', {}, p.label + ': ' + p.count + ' live, +' + p.created + ' made, -' + p.freed + ' freed, deep ' + fmtVal(p.deep_bytes, 'bytes')));
      g.appendChild(svgEl('circle', { cx: x(i), cy: y(p.count, maxC), r: 4, 'class': 'lc' }));
      g.appendChild(svgEl('circle', { cx: x(i), cy: y(p.deep_bytes, maxB), r: 3, 'class': 'lb' }));
      svg.appendChild(g);
      svg.appendChild(svgEl('text', { x: x(i), y: H - B + 14, 'text-anchor': 'middle', 'class': 'ax' }, String(p.label).slice(0, 16)));
    });
    return svg;
  }
  function renderHeapTracker(box) {
    var tl = Array.isArray(HEAP.timeline) ? HEAP.timeline : [];
    if (!tl.length) return;
    var classes = [];
    tl.forEach(function (p) { if (classes.indexOf(p['class']) < 0) classes.push(p['class']); });
    classes.forEach(function (c) {
      var pts = tl.filter(function (p) { return p['class'] === c; });
      var t0 = pts[0].time;
      heapTitle(box, 'Tracked class ' + c, 'solid: live instances (left scale) · dashed: deep size (right scale)');
      var wrap = el('div', 'heap-track'); wrap.dataset.cls = c;
      wrap.appendChild(heapChart(pts));
      wrap.appendChild(heapTable('', [
        { key: 'label', title: 'checkpoint', l: 1 },
        { key: 'time', title: 'time', fmt: function (p) { return '+' + fmtVal((p.time - t0) * 1e9, 'nanoseconds'); } },
        { key: 'count', title: 'live' }, { key: 'created', title: 'made' }, { key: 'freed', title: 'freed' },
        { key: 'deep_bytes', title: 'deep size', fmt: function (p) { return fmtVal(p.deep_bytes, 'bytes'); } }
      ], pts));
      box.appendChild(wrap);
    });
  }
  function renderHeapChains(box) {
    var gr = HEAP.chains;
    if (!gr || !Array.isArray(gr.nodes) || !gr.nodes.length) return;
    heapTitle(box, 'Why ' + gr.target + ' is alive', 'the shortest reference chains from a root');
    // Layers by distance from the nodes nothing points to (the roots), top
    // to bottom; each box as wide as its label.
    var byId = {}, inc = {}, out = {};
    gr.nodes.forEach(function (n) { byId[n.id] = n; inc[n.id] = 0; out[n.id] = []; });
    var edges = (gr.edges || []).filter(function (e) { return byId[e.from] && byId[e.to]; });
    edges.forEach(function (e) { inc[e.to]++; out[e.from].push(e.to); });
    var depth = {}, queue = gr.nodes.filter(function (n) { return !inc[n.id]; }).map(function (n) { return n.id; });
    if (!queue.length) queue = [gr.nodes[0].id];
    queue.forEach(function (id) { depth[id] = 0; });
    for (var qi = 0; qi < queue.length; qi++) {
      out[queue[qi]].forEach(function (t) { if (depth[t] === undefined) { depth[t] = depth[queue[qi]] + 1; queue.push(t); } });
    }
    var layers = [];
    gr.nodes.forEach(function (n) { var d = depth[n.id] === undefined ? 0 : depth[n.id]; (layers[d] = layers[d] || []).push(n); });
    var g = document.createElement('canvas').getContext('2d');
    g.font = '12px ui-monospace,Menlo,Consolas,monospace';
    var BH = 26, GAPX = 24, GAPY = 64, PAD = 12, pos = {}, width = 0;
    layers.forEach(function (ns, d) {
      var xx = PAD;
      ns.forEach(function (n) {
        var label = String(n.label), w = Math.min(Math.ceil(g.measureText(label).width) + 16, 420);
        pos[n.id] = { x: xx, y: PAD + d * (BH + GAPY), w: w };
        xx += w + GAPX;
      });
      width = Math.max(width, xx);
    });
    var H = PAD * 2 + layers.length * (BH + GAPY) - GAPY;
    var svg = svgEl('svg', { width: width, height: H, id: 'heap-graph', 'class': 'heap-graph' });
    edges.forEach(function (e) {
      var a = pos[e.from], b = pos[e.to], x1 = a.x + a.w / 2, y1 = a.y + BH, x2 = b.x + b.w / 2, y2 = b.y;
      var back = b.y <= a.y, at = back ? 0.2 : 0.5;  // a back edge's label near its start, off the others
      if (back) { y1 = a.y + BH / 2; y2 = b.y + BH / 2; x1 = a.x + a.w; x2 = b.x + b.w; }
      var ge = svg.appendChild(svgEl('g', { 'class': 'heap-edge', 'data-from': e.from, 'data-to': e.to }));
      ge.appendChild(svgEl('line', { x1: x1, y1: y1, x2: x2, y2: y2 }));
      // The arrowhead drawn in place: a <marker> would need a url reference.
      var len = Math.max(Math.hypot(x2 - x1, y2 - y1), 1), ux = (x2 - x1) / len, uy = (y2 - y1) / len;
      ge.appendChild(svgEl('path', { 'class': 'arrowhead', d: 'M' + x2 + ',' + y2 + ' L' + (x2 - 9 * ux - 4 * uy) + ',' + (y2 - 9 * uy + 4 * ux) +
        ' L' + (x2 - 9 * ux + 4 * uy) + ',' + (y2 - 9 * uy - 4 * ux) + ' z' }));
      if (e.label) ge.appendChild(svgEl('text', { x: x1 + (x2 - x1) * at + 6, y: y1 + (y2 - y1) * at + 4 }, String(e.label)));
    });
    gr.nodes.forEach(function (n) {
      var p = pos[n.id], label = String(n.label);
      var gn = svg.appendChild(svgEl('g', { 'class': 'heap-node ' + (n.kind || 'object'), 'data-id': n.id }));
      gn.appendChild(svgEl('title', {}, label));
      gn.appendChild(svgEl('rect', { x: p.x, y: p.y, width: p.w, height: BH, rx: n.kind === 'root' ? 13 : 3 }));
      var shown = label;
      while (shown.length > 4 && g.measureText(shown).width > p.w - 16) shown = shown.slice(0, -2);
      if (shown !== label) shown = shown.slice(0, -1) + '…';
      gn.appendChild(svgEl('text', { x: p.x + 8, y: p.y + BH / 2 + 4 }, shown));
    });
    var sc = el('div', 'heap-graph-box'); sc.appendChild(svg);
    box.appendChild(sc);
  }
  function renderHeap() {
    var box = $('heap'); box.textContent = '';
    renderHeapCensus(box);
    renderHeapGrowth(box);
    renderHeapTracker(box);
    renderHeapChains(box);
  }
  api.heap = HEAP;

  // ---- views --------------------------------------------------------------------------------
  var renderers = { flame: renderFlame, sunburst: renderSunburst, tree: renderTree, table: renderTable, sandwich: renderSandwich, source: renderSource, timeline: renderTimeline };
  if (HEAP) renderers.heap = renderHeap;
  function isEmpty() { return N === 0 || !METRICS.length || aTotal(0) <= 0; }
  function renderView() {
    var v = st.view;
    document.querySelectorAll('nav button').forEach(function (b) { b.classList.toggle('on', b.dataset.view === v); });
    document.querySelectorAll('.view').forEach(function (s) { s.classList.toggle('on', s.id === 'v-' + v); });
    var empty = $('empty');
    var noTl = v === 'timeline' && !hasEvents() && !MEMTL.length;
    if (!raw) { empty.hidden = false; empty.textContent = 'This file holds no readable profile data.'; }
    else if (v !== 'timeline' && v !== 'heap' && isEmpty() && st.range) { empty.hidden = false; empty.textContent = 'No sampled allocation in this range' + (st.thread >= 0 ? ' for this thread' : '') + ' (clear it, or select a wider one on the Timeline tab).'; }
    else if (v !== 'timeline' && v !== 'heap' && isEmpty()) { empty.hidden = false; empty.textContent = 'No samples: this profile is empty' + (st.thread >= 0 ? ' for this thread' : '') + '.'; }
    else if (noTl) { empty.hidden = false; empty.textContent = 'No timeline in this profile (it was disabled or the format has none).'; }
    else { empty.hidden = true; }
    api.empty = !empty.hidden;
    renderCrumbs();
    if (empty.hidden) renderers[v]();
    api.view = v;
    api.icicle = st.icicle;
  }
  function setView(v) {
    if (!renderers[v]) v = 'flame';
    st.view = v; hideTip(); renderView(); writeHash();
  }
  function rebuild() {
    var t0 = performance.now();
    buildAgg(st.thread);
    computeMatches();
    api.timings.aggMs = performance.now() - t0;
  }
  function applyTheme() {
    dark = st.theme ? st.theme === 'dark' : !!(window.matchMedia && matchMedia('(prefers-color-scheme: dark)').matches);
    document.documentElement.classList.toggle('dark', dark);
    api.theme = dark ? 'dark' : 'light';
  }

  // ---- SVG export ------------------------------------------------------------------------------
  function esc(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'); }
  function exportSVG() {
    if (!flameL) { var v = st.view; st.view = 'flame'; document.querySelectorAll('.view').forEach(function (s) { s.classList.toggle('on', s.id === 'v-flame'); }); renderFlame(); st.view = v; renderView(); }
    var L = flameL, out = ['<svg xmlns="http://www.w3.org/2000/svg" width="' + L.w + '" height="' + L.h + '" font-family="sans-serif" font-size="12">'];
    out.push('<rect width="100%" height="100%" fill="' + (dark ? '#16181c' : '#ffffff') + '"/>');
    var g = $('flame').getContext('2d');
    L.rects.forEach(function (r) {
      var fr = L.tr.frame(r.a), fill = r.anc ? '#dde1e6' : L.tr.match(r.a) ? '#e0218a' : frameColor(fr);
      out.push('<g><title>' + esc(L.tr.label(r.a) + ' ' + L.tr.where(r.a) + ' — ' + fmtVal(L.tr.tot(r.a)) + ' (' + pct(L.tr.tot(r.a), L.rootTot) + ')') + '</title>' +
        '<rect x="' + r.x.toFixed(2) + '" y="' + r.y + '" width="' + Math.max(r.w - 0.5, 0.5).toFixed(2) + '" height="' + (ROW - 1) + '" fill="' + fill + '"/>');
      var lab = r.w > 22 ? fitText(g, L.tr.label(r.a), r.w - 6) : '';
      if (lab) out.push('<text x="' + (r.x + 3).toFixed(2) + '" y="' + (r.y + 13) + '">' + esc(lab) + '</text>');
      out.push('</g>');
    });
    out.push('</svg>');
    return out.join('\n');
  }

  // ---- events ------------------------------------------------------------------------------------
  function wire() {
    document.querySelectorAll('nav button').forEach(function (b) { b.onclick = function () { setView(b.dataset.view); }; });
    $('metric').onchange = function () { st.metric = +this.value; sortKids(); computeMatches(); renderView(); writeHash(); };
    $('thread').onchange = function () { st.thread = +this.value; st.zoom = 0; sel = -1; rebuild(); renderView(); writeHash(); };
    var searchT = 0;
    $('search').oninput = function () {
      var v = this.value; clearTimeout(searchT);
      searchT = setTimeout(function () { st.q = v; computeMatches(); renderView(); writeHash(); }, 120);
    };
    $('theme').onclick = function () { st.theme = dark ? 'light' : 'dark'; applyTheme(); colorCache = {}; renderView(); writeHash(); };
    $('icicle').onchange = function () { st.icicle = this.checked; renderFlame.scrolled = false; renderView(); writeHash(); };
    $('group-lib').onchange = renderTree;
    $('threshold').onchange = renderTree;
    $('expand-all').onclick = renderTree;
    $('src-file').onchange = function () { st.src = this.value; renderSource.manual = true; renderSource(); writeHash(); };
    $('export').onclick = function () {
      var blob = new Blob([exportSVG()], { type: 'image/svg+xml' }), a = document.createElement('a');
      a.href = URL.createObjectURL(blob); a.download = 'flamegraph.svg'; document.body.appendChild(a); a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    };
    $('flame-scroll').addEventListener('scroll', function () { renderFlame.scrolled = true; });
    bindFlameMouse($('flame'), function () { return flameL; }, function (a) { zoomTo(a); });
    bindFlameMouse($('callers'), function () { return callersL; }, function (a) { var f = callersL.tr.frame(a); if (f >= 0) { st.fn = f; renderSandwich(); writeHash(); } });
    bindFlameMouse($('callees'), function () { return calleesL; }, function (a) { var f = calleesL.tr.frame(a); if (f >= 0) { st.fn = f; renderSandwich(); writeHash(); } });
    var sb = $('sunburst');
    sb.addEventListener('mousemove', function (ev) {
      var b = sb.getBoundingClientRect(), c = hitSun(ev.clientX - b.left, ev.clientY - b.top);
      if (c) nodeTip(ev, aggTree(0), c.a, aTotal(0)); else hideTip();
    });
    sb.addEventListener('mouseleave', hideTip);
    sb.addEventListener('click', function (ev) {
      var b = sb.getBoundingClientRect(), c = hitSun(ev.clientX - b.left, ev.clientY - b.top);
      if (c) zoomTo(c.d === 0 ? Math.max(0, A.parent[c.a]) : c.a);
    });
    // Timeline: range selection on the minimap, click a bar to zoom to it.
    var mm = $('minimap'), drag = null;
    var tAt = function (ev) { var b = mm.getBoundingClientRect(); return Math.max(0, Math.min(1, (ev.clientX - b.left) / b.width)) * TL.dur; };
    mm.addEventListener('mousedown', function (ev) { if (TL) drag = tAt(ev); });
    window.addEventListener('mousemove', function (ev) {
      if (drag === null) return;
      var t = tAt(ev); if (Math.abs(t - drag) > TL.dur / 2000) { tlWin = [Math.min(t, drag), Math.max(t, drag)]; renderTimeline(); }
    });
    window.addEventListener('mouseup', function () { drag = null; });
    mm.addEventListener('dblclick', function () { tlWin = [0, TL.dur]; renderTimeline(); });
    var tl = $('timeline');
    // Memory profile: drag across the heap chart to select a time range.
    var memT = function (ev) {
      var b = tl.getBoundingClientRect(), x = ev.clientX - b.left;
      return Math.max(0, Math.min(1, (x - memL.x0) / Math.max(1, memL.x1 - memL.x0))) * memL.tmax;
    };
    tl.addEventListener('mousedown', function (ev) {
      if (hasEvents() || !ALLOC || !memL || ev.button !== 0) return;
      var t = memT(ev); memDrag = [t, t, ev.clientX]; ev.preventDefault();
    });
    window.addEventListener('mousemove', function (ev) {
      if (!memDrag) return;
      memDrag[1] = memT(ev); renderMemoryTimeline();
    });
    window.addEventListener('mouseup', function (ev) {
      if (!memDrag) return;
      var d = memDrag; memDrag = null;
      if (Math.abs(ev.clientX - d[2]) >= 3) changeRange([Math.min(d[0], d[1]), Math.max(d[0], d[1])]);
      else renderMemoryTimeline();  /* a click selects nothing */
    });
    tl.addEventListener('dblclick', function () { if (!hasEvents() && st.range) changeRange(null); });
    $('mem-clear').onclick = function () { changeRange(null); };
    tl.addEventListener('mousemove', function (ev) {
      var b = tl.getBoundingClientRect(), r = hitTimeline(ev.clientX - b.left, ev.clientY - b.top);
      if (!r) { hideTip(); return; }
      var bb = r.b;
      showTip(ev, fName[bb[3]], where(bb[3]), ['duration ' + fmtVal(bb[1] - bb[0], 'nanoseconds'), 'from ' + fmtVal(bb[0], 'nanoseconds') + ' to ' + fmtVal(bb[1], 'nanoseconds')]);
    });
    tl.addEventListener('mouseleave', hideTip);
    tl.addEventListener('click', function (ev) {
      var b = tl.getBoundingClientRect(), r = hitTimeline(ev.clientX - b.left, ev.clientY - b.top);
      if (r) { tlWin = [r.b[0], r.b[1]]; st.fn = r.b[3]; renderTimeline(); writeHash(); }
    });
    // Keyboard.
    document.addEventListener('keydown', function (ev) {
      var tag = (ev.target && ev.target.tagName) || '';
      if (tag === 'INPUT' || tag === 'SELECT') { if (ev.key === 'Escape') ev.target.blur(); return; }
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      var views = ['flame', 'sunburst', 'tree', 'table', 'sandwich', 'source', 'timeline'].concat(HEAP ? ['heap'] : []);
      if (ev.key === '/') { ev.preventDefault(); $('search').focus(); return; }
      if (ev.key >= '1' && ev.key <= String(views.length)) { setView(views[+ev.key - 1]); return; }
      if (ev.key === 't') { $('theme').click(); return; }
      if (ev.key === 'i' && st.view === 'flame') { st.icicle = !st.icicle; $('icicle').checked = st.icicle; renderView(); writeHash(); return; }
      if (st.view !== 'flame' && st.view !== 'sunburst') return;
      var s = sel >= 0 && sel < A.n ? sel : st.zoom, next = -1;
      var upKey = st.icicle || st.view === 'sunburst' ? 'ArrowUp' : 'ArrowDown', downKey = upKey === 'ArrowUp' ? 'ArrowDown' : 'ArrowUp';
      if (ev.key === upKey) next = A.parent[s] >= 0 ? A.parent[s] : s;
      else if (ev.key === downKey) next = A.kids[s].length ? A.kids[s][0] : s;
      else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowRight') {
        var p = A.parent[s];
        if (p >= 0) { var sib = A.kids[p], k = sib.indexOf(s) + (ev.key === 'ArrowLeft' ? -1 : 1); if (k >= 0 && k < sib.length) next = sib[k]; }
      } else if (ev.key === 'Enter') { zoomTo(s); ev.preventDefault(); return; }
      else if (ev.key === 'Escape') { zoomTo(st.zoom > 0 ? Math.max(0, A.parent[st.zoom]) : 0); return; }
      if (next >= 0) {
        ev.preventDefault(); sel = next; if (A.frame[next] >= 0) st.fn = A.frame[next];
        renderView();
        $('crumbs').appendChild(el('span', 'hint', '   selected: ' + aLabel(next) + ' ' + fmtVal(aTotal(next))));
      }
    });
    window.addEventListener('resize', function () { clearTimeout(wire.rt); wire.rt = setTimeout(renderView, 100); });
    window.addEventListener('hashchange', function () {
      var before = JSON.stringify(st);
      hashRange = null; readHash();
      var want = hashRange && ALLOC ? snapRange(hashRange[0], hashRange[1]) : null;
      if (JSON.stringify(want) !== JSON.stringify(st.range)) applyHashRange();
      if (JSON.stringify(st) !== before) { fillControls(); rebuild(); renderView(); }
    });
  }

  // ---- test / automation hooks -------------------------------------------------------------------
  api.setView = setView;
  api.zoomTo = function (a) { var t0 = performance.now(); zoomTo(a); return performance.now() - t0; };
  api.exportSVG = exportSVG;
  api.state = function () { return JSON.parse(JSON.stringify(st)); };
  api.aggCount = function () { return A ? A.n : 0; };
  api.total = function () { return aTotal(0); };
  api.heaviestChild = function (a) { return A.kids[a] && A.kids[a].length ? A.kids[a][0] : -1; };
  api.label = function (a) { return aLabel(a); };
  api.rectCount = function () { return flameL ? flameL.rects.length : 0; };
  api._rect = function (a) {  // centre of a drawn flame rectangle, in canvas pixels
    var r = flameL && flameL.rects.filter(function (q) { return q.a === a && !q.anc; })[0], cv = $('flame');
    return r ? { x: r.x + r.w / 2, y: r.y + ROW / 2, cw: cv.clientWidth, ch: cv.clientHeight } : null;
  };
  api._tableOrder = function () { return lastTableRows.map(function (r) { return r[tableSort.key]; }); };
  // The memory chart's x (CSS pixels in the #timeline canvas) of time t (s).
  api.memoryX = function (t) { return memL ? memL.x0 + t / memL.tmax * (memL.x1 - memL.x0) : null; };
  api.setRange = function (t0, t1) { changeRange(t0 === null || t0 === undefined ? null : [t0, t1]); return api.range; };
  api.flameLabels = function () { return flameL ? flameL.rects.filter(function (r) { return !r.anc; }).map(function (r) { return flameL.tr.label(r.a); }) : []; };
  api.findNode = function (name) { for (var a = 1; a < A.n; a++) if (A.frame[a] >= 0 && fName[A.frame[a]] === name) return a; return -1; };

  // A range in the URL (a reload, a shared link): its metrics, then the
  // metric the URL named among them.
  function applyHashRange() {
    if (!ALLOC) return;
    setRange(hashRange);
    var mi = METRICS.map(function (m) { return m.name; }).indexOf(hashMetric);
    if (mi >= 0) st.metric = mi;
  }

  // ---- start ----------------------------------------------------------------------------------------
  api.range = null;
  try {
    if (HEAP) { heapSection(); if (N === 0 || !METRICS.length) st.view = 'heap'; }
    readHash();
    if (hashRange) applyHashRange();
    if (st.thread >= THREADS.length) st.thread = -1;
    applyTheme();
    fillControls();
    renderHeader();
    rebuild();
    wire();
    setView(st.view);
  } catch (e) {
    api.errors.push(String(e && e.stack || e));
    throw e;
  }
  api.timings.firstViewMs = performance.now() - T0;
  api.timings.sinceNavigationMs = performance.now();
  api.ready = true;
})();
