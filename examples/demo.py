"""A small, realistic workload to try pyrometer on (about 1-2 seconds):

    pyrometer run examples/demo.py

- the main thread generates web-server log lines, parses them and aggregates
  per-endpoint statistics, writes them to a CSV file in a temporary directory
  and reads it back;
- a recursive solver counts the solutions of the 8-queens problem;
- a worker thread hashes blocks of data and sleeps a little between batches,
  so that wall-clock time and CPU time differ.
"""
import csv
import hashlib
import os
import random
import re
import statistics
import tempfile
import threading
import time

LINE = re.compile(r"(?P<ts>\S+) (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) (?P<ms>\d+)ms")
ENDPOINTS = ["/api/items", "/api/items/{id}", "/api/users/{id}", "/login", "/static/app.js", "/search"]


def generate_log(n, seed=7):
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        path = rng.choice(ENDPOINTS).replace("{id}", str(rng.randrange(1, 5000)))
        method = "POST" if path == "/login" else "GET"
        status = rng.choices([200, 304, 404, 500], weights=[90, 5, 4, 1])[0]
        ms = int(rng.expovariate(1 / 40)) + 1
        lines.append("2024-05-%02dT%02d:%02d:%02d %s %s %d %dms" % (
            1 + i % 28, i % 24, i % 60, (i * 7) % 60, method, path, status, ms))
    return lines


def endpoint_of(path):
    parts = path.split("/")
    return "/".join("{id}" if p.isdigit() else p for p in parts)


def parse(lines):
    for line in lines:
        m = LINE.match(line)
        if m:
            yield endpoint_of(m["path"]), int(m["status"]), int(m["ms"])


def aggregate(records):
    stats = {}
    for endpoint, status, ms in records:
        s = stats.setdefault(endpoint, {"count": 0, "errors": 0, "times": []})
        s["count"] += 1
        s["errors"] += status >= 500
        s["times"].append(ms)
    return {
        ep: {
            "count": s["count"],
            "errors": s["errors"],
            "median_ms": statistics.median(s["times"]),
            "p95_ms": sorted(s["times"])[int(0.95 * (len(s["times"]) - 1))],
        }
        for ep, s in stats.items()
    }


def write_and_read_back(summary, directory):
    path = os.path.join(directory, "summary.csv")
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["endpoint", "count", "errors", "median_ms", "p95_ms"])
        for ep, s in sorted(summary.items()):
            writer.writerow([ep, s["count"], s["errors"], s["median_ms"], s["p95_ms"]])
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return sum(int(r["count"]) for r in rows)


def queens(n, row=0, cols=0, diag1=0, diag2=0):
    """Counts the ways to place n queens (bitmask backtracking, recursive)."""
    if row == n:
        return 1
    count = 0
    for col in range(n):
        if cols >> col & 1 or diag1 >> (row + col) & 1 or diag2 >> (row - col + n) & 1:
            continue
        count += queens(n, row + 1, cols | 1 << col, diag1 | 1 << (row + col), diag2 | 1 << (row - col + n))
    return count


def hash_worker(batches, out):
    digest = hashlib.sha256()
    block = bytes(range(256)) * 256
    for _ in range(batches):
        for _ in range(200):
            digest.update(block)
            block = digest.digest() * 2048
        time.sleep(0.02)  # waiting, as if for I/O
    out.append(digest.hexdigest()[:12])


def main():
    started = time.perf_counter()
    result = []
    worker = threading.Thread(target=hash_worker, args=(20, result), name="hasher")
    worker.start()

    lines = generate_log(100000)
    summary = aggregate(parse(lines))
    with tempfile.TemporaryDirectory(prefix="pyrometer-demo-") as tmp:
        counted = write_and_read_back(summary, tmp)
    solutions = queens(8)

    worker.join()
    slowest = max(summary, key=lambda ep: summary[ep]["p95_ms"])
    print(
        "demo: %d log lines, %d endpoints (slowest p95: %s), %d queens solutions, hash %s, %.2f s"
        % (counted, len(summary), slowest, solutions, result[0], time.perf_counter() - started)
    )


if __name__ == "__main__":
    main()
