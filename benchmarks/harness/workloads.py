"""Discovers the workloads: every benchmarks/workloads/*.py that keeps the
contract in benchmarks/workloads/README.md.  Their constants are read with
ast (the file is never imported by the harness)."""
import ast
import os

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD_DIR = os.path.join(os.path.dirname(HERE), "workloads")

# This order in the report; any other file after them, by name.
PREFERRED_ORDER = ["call_heavy", "loop_numeric", "alloc_heavy", "recursive", "generators", "threads4",
                   "io_threads", "c_code", "asyncio_tasks"]


class Workload:
    def __init__(self, name, path, full_size, quick_size, description):
        self.name = name
        self.path = path
        self.full_size = full_size
        self.quick_size = quick_size
        self.description = description

    def size(self, quick):
        return self.quick_size if quick else self.full_size

    def __repr__(self):
        return "Workload(%r)" % self.name


def _constants(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("FULL_SIZE", "QUICK_SIZE", "DESCRIPTION"):
                out[name] = ast.literal_eval(node.value)
    return out


def discover(directory=WORKLOAD_DIR):
    found = {}
    for entry in sorted(os.listdir(directory)):
        if not entry.endswith(".py") or entry.startswith("_"):
            continue
        path = os.path.join(directory, entry)
        c = _constants(path)
        missing = [k for k in ("FULL_SIZE", "QUICK_SIZE") if k not in c]
        if missing:
            raise SystemExit("benchmarks: workload %s lacks %s (see workloads/README.md)" % (path, ", ".join(missing)))
        name = entry[:-3]
        found[name] = Workload(name, path, int(c["FULL_SIZE"]), int(c["QUICK_SIZE"]), c.get("DESCRIPTION", ""))
    ordered = [found.pop(n) for n in PREFERRED_ORDER if n in found]
    return ordered + [found[n] for n in sorted(found)]
