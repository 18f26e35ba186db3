"""Interpreters and benchmark venvs.

One venv per Python minor version, benchmarks/.venv-X.Y (gitignored), holds
pyrometer built from this repository and the peers from PyPI.  Peers are
installed only here: they are never dependencies of pyrometer itself.
"""
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile

from .util import capture, last_line, log

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH_DIR = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(BENCH_DIR)

# Left out of the copy of the repository that pip builds from (the build
# happens in a private copy so that it never races a build others run in the
# working tree at the same moment).
_COPY_IGNORE = shutil.ignore_patterns(
    ".git", "build", "dist", ".venv*", "benchmarks", "*.egg-info", "__pycache__", "*.so", "*.o",
    ".pytest_cache", "artifacts", "tests", "*.pyro",
)

_INFO_CODE = r"""
import json, platform, sys
print(json.dumps({
    "version": platform.python_version(),
    "minor": "%d.%d" % sys.version_info[:2],
    "implementation": platform.python_implementation(),
    "executable": sys.executable,
    "build": " ".join(platform.python_build()),
    "compiler": platform.python_compiler(),
}))
"""


class PythonNotFound(Exception):
    pass


def _pyenv_candidates(minor):
    """(version tuple, path) of pyenv's CPython installs of that minor."""
    pyenv = shutil.which("pyenv")
    if not pyenv:
        return []
    rc, root, _ = capture([pyenv, "root"], timeout=30)
    rc2, bare, _ = capture([pyenv, "versions", "--bare"], timeout=30)
    if rc or rc2:
        return []
    root = root.strip()
    out = []
    for v in bare.split():
        m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", v.strip())  # skips virtualenvs, -dev, t builds
        if not m or "%s.%s" % (m.group(1), m.group(2)) != minor:
            continue
        path = os.path.join(root, "versions", v, "bin", "python")
        if os.access(path, os.X_OK):
            out.append((tuple(int(x) for x in m.groups()), path))
    return sorted(out)


def find_python(spec):
    """An interpreter for spec: None (this one), "X.Y" (pyenv's newest X.Y.Z,
    else pythonX.Y on PATH) or a path."""
    if spec is None:
        return sys.executable
    if os.sep in spec:
        if os.access(spec, os.X_OK):
            return os.path.abspath(spec)  # the runs happen in other directories
        raise PythonNotFound("%s is not an executable" % spec)
    if re.fullmatch(r"\d+\.\d+", spec):
        found = _pyenv_candidates(spec)
        if found:
            return found[-1][1]
        on_path = shutil.which("python" + spec)
        if on_path:
            return on_path
        raise PythonNotFound("no CPython %s found (pyenv versions, or python%s on PATH)" % (spec, spec))
    raise PythonNotFound("give --python as X.Y or a path, not %r" % spec)


def interpreter_info(python):
    rc, out, err = capture([python, "-c", _INFO_CODE], timeout=60)
    if rc:
        raise PythonNotFound("%s does not run: %s" % (python, last_line(err)))
    return json.loads(out)


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


def ensure_venv(base_python, minor):
    """benchmarks/.venv-X.Y, made from base_python when missing or broken."""
    venv = os.path.join(BENCH_DIR, ".venv-%s" % minor)
    py = venv_python(venv)
    if os.access(py, os.X_OK):
        try:
            if interpreter_info(py)["minor"] == minor:
                return venv
        except PythonNotFound:
            pass
        log("venv %s is broken; making it again" % venv)
    log("creating %s from %s" % (venv, base_python))
    rc, out, err = capture([base_python, "-m", "venv", "--clear", venv], timeout=300)
    if rc:
        raise PythonNotFound("cannot create %s: %s" % (venv, last_line(err or out)))
    return venv


def pip(python, *args, timeout=900):
    return capture([python, "-m", "pip", "--disable-pip-version-check", "--no-input"] + list(args), timeout=timeout)


def pip_error(text):
    """pip's own error line (pip prints unrelated warnings after it at
    times), else the last line."""
    errors = [l.strip() for l in text.splitlines() if l.startswith("ERROR:")]
    return errors[0][:240] if errors else last_line(text)


def dist_version(python, dist):
    """The installed version of a distribution in that interpreter, or None."""
    code = "import importlib.metadata as m, sys\ntry: print(m.version(sys.argv[1]))\nexcept Exception: pass"
    rc, out, _ = capture([python, "-c", code, dist], timeout=60)
    v = out.strip()
    return v or None


def source_fingerprint(root=REPO_ROOT):
    """What pyrometer source was measured: git commit (if any) and dirty
    state, plus a hash of the files pip builds from (src/, setup.py,
    pyproject.toml), which identifies uncommitted work too."""
    h = hashlib.sha256()
    files = []
    for top in ("setup.py", "pyproject.toml"):
        if os.path.isfile(os.path.join(root, top)):
            files.append(top)
    for base, dirs, names in os.walk(os.path.join(root, "src")):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.endswith(".egg-info"))
        for n in sorted(names):
            if n.endswith((".py", ".c", ".h", ".js", ".css", ".html", ".toml", ".cfg", ".txt")):
                files.append(os.path.relpath(os.path.join(base, n), root))
    for rel in files:
        h.update(rel.encode() + b"\0")
        with open(os.path.join(root, rel), "rb") as f:
            h.update(f.read())
        h.update(b"\0")
    commit = None
    dirty = None
    if shutil.which("git"):
        rc, out, _ = capture(["git", "-C", root, "rev-parse", "--short", "HEAD"], timeout=30)
        commit = out.strip() if rc == 0 and out.strip() else None
        rc, out, _ = capture(["git", "-C", root, "status", "--porcelain", "--", "src", "setup.py", "pyproject.toml"],
                             timeout=30)
        dirty = bool(out.strip()) if rc == 0 else None
    return {"git_commit": commit, "git_dirty": dirty, "source_sha256": h.hexdigest()[:16], "files": len(files)}


_PYROMETER_PROBE = r"""
import json
import pyrometer
from pyrometer import _native
ok, reason = _native.supported()
print(json.dumps({"version": pyrometer.__version__, "supported": bool(ok), "reason": reason}))
"""


def install_pyrometer(python, reinstall=True):
    """Builds and installs pyrometer from a private copy of this repository.
    Returns {"status": "ok"|"unavailable", "version", "reason"}."""
    if reinstall:
        tmp = tempfile.mkdtemp(prefix="pyrobench-src-")
        src = os.path.join(tmp, "pyrometer")
        try:
            shutil.copytree(REPO_ROOT, src, ignore=_COPY_IGNORE, symlinks=True)
            log("building pyrometer for %s (pip install of a copy of %s)" % (python, REPO_ROOT))
            rc, out, err = pip(python, "install", "--quiet", "--force-reinstall", "--no-deps", src)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if rc:
            reason = _build_error(err or out)
            return {"status": "unavailable", "version": None, "reason": "build failed: " + reason}
    rc, out, err = capture([python, "-c", _PYROMETER_PROBE], timeout=120)
    if rc:
        return {"status": "unavailable", "version": None, "reason": "import failed: " + last_line(err or out)}
    info = json.loads(out.strip().splitlines()[-1])
    if not info["supported"]:
        return {"status": "unavailable", "version": info["version"], "reason": "not supported: %s" % info["reason"]}
    return {"status": "ok", "version": info["version"], "reason": None}


def _build_error(text):
    """The first compiler error if there is one, else the last line."""
    for line in text.splitlines():
        if re.search(r"\berror\b", line) and (".c:" in line or ".h:" in line):
            return line.strip()[:240]
    return last_line(text)
