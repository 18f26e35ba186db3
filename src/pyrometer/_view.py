"""The HTML viewer: loads the viewer's assets (package data), embeds the
profiled program's own source files, and ``pyrometer view FILE``.

The HTML file itself is written by the C writer (output/pm_html.c), which
puts the profile's JSON into the template this module builds."""
import os
import sys

_HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "viewer")
_DATA_MARKER = "@PYROMETER_PROFILE_JSON@"
MAX_SOURCE_FILE = 512 * 1024  # bytes per embedded source file
MAX_SOURCE_TOTAL = 4 * 1024 * 1024  # bytes of source per profile
_template = None


def template():
    """The viewer page with its CSS and JS inlined: one string (bytes) holding
    the data marker that the C writer replaces with the profile."""
    global _template
    if _template is None:
        def read(name):
            with open(os.path.join(_HERE, name), encoding="utf-8") as f:
                return f.read()

        html, css, js = read("viewer.html"), read("viewer.css"), read("viewer.js")
        # Inlined code must not end its own element or contain the marker.
        for name, text in (("viewer.css", css), ("viewer.js", js)):
            if "</script" in text.lower() or "</style" in text.lower():
                raise RuntimeError("%s must not contain a closing script/style tag" % name)
            if _DATA_MARKER in text:
                raise RuntimeError("%s must not contain the data marker" % name)
        html = html.replace("/*@VIEWER_CSS@*/", css, 1).replace("//@VIEWER_JS@", js, 1)
        _template = html.encode("utf-8")
    return _template


def _library_dirs():
    """The interpreter's library directories, resolved (with the separator
    after them): a file below one is not the program's."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return tuple(os.path.join(os.path.realpath(p), "lib") + os.sep for p in prefixes)


def _realpath(path, dirs):
    """os.path.realpath(path), with each directory resolved once (dirs
    keeps them): resolving costs a system call per directory in the path,
    and a library's files share a few directories."""
    head, tail = os.path.split(path)
    real_dir = dirs.get(head)
    if real_dir is None:
        real_dir = dirs[head] = os.path.realpath(head)
    full = os.path.join(real_dir, tail)
    return os.path.realpath(full) if os.path.islink(full) else full


def _is_user_file(path, root, libs, dirs):
    """Whether path is one of the program's files: under root, resolved
    (libs: _library_dirs(); dirs: _realpath's cache)."""
    if not path or path.startswith("<") or not os.path.isabs(path):
        return False
    real = _realpath(os.path.normpath(path), dirs)
    if any(part in ("site-packages", "dist-packages") for part in real.split(os.sep)):
        return False
    if real.startswith(libs):
        return False
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def embed_sources(native_profile, root):
    """Stores the source of the profile's files that live under root (the
    profiled script's directory) as meta entries "source:<path>", so the
    viewer can show per-line heat.  Sizes are capped; never raises."""
    try:
        root = os.path.realpath(root)
        existing = set(k for k in native_profile.meta if k.startswith("source:"))
        weight = {}
        for name, file, line, kind in native_profile.frames():
            if kind == 0 and file and ("source:" + file) not in existing:
                weight[file] = weight.get(file, 0) + 1
        # Each file resolved once, not once per frame of it, and each of
        # their directories once: a profile of a program that imports
        # libraries has hundreds of their frames.
        libs, dirs = _library_dirs(), {}
        weight = {f: w for f, w in weight.items() if _is_user_file(f, root, libs, dirs)}
        total = 0
        for file in sorted(weight, key=lambda f: -weight[f]):
            try:
                if os.path.getsize(file) > MAX_SOURCE_FILE:
                    continue
                with open(file, "rb") as f:
                    data = f.read(MAX_SOURCE_FILE + 1)
            except OSError:
                continue
            if len(data) > MAX_SOURCE_FILE or total + len(data) > MAX_SOURCE_TOTAL:
                continue
            total += len(data)
            native_profile.set_meta("source:" + file, data.decode("utf-8", "replace"))
    except Exception:
        pass


def _have_display():
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("BROWSER"))


def open_in_browser(path):
    """Opens path in a browser when one can be shown; returns True if a
    browser was started.  Never raises."""
    if not _have_display():
        return False
    try:
        import webbrowser

        return bool(webbrowser.open("file://" + os.path.abspath(path)))
    except Exception:
        return False


def default_html_path(source):
    import tempfile

    stem = os.path.splitext(os.path.basename(source))[0] or "profile"
    fd, path = tempfile.mkstemp(prefix="pyrometer-%s-" % stem, suffix=".html")
    os.close(fd)
    return path


def render_file(source, output=None):
    """Reads any profile pyrometer reads (.pyro, and whatever readers the
    format table has) and writes the HTML viewer.  Returns the output path.
    OSError / ValueError with one line on failure."""
    from . import _native

    with open(source, "rb") as f:
        data = f.read()
    try:
        prof = _native.Profile.from_bytes(data)
    except ValueError as exc:
        raise ValueError("cannot read %s: %s" % (source, exc)) from None
    path = output or default_html_path(source)
    prof.write(path, "html", template=template())
    return path
