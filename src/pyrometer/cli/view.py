"""``pyrometer view [--no-browser] [-o OUT.html] FILE``: writes the HTML viewer
for any profile pyrometer reads and opens it (the viewer itself: _view.py and
viewer/).  ``pyrometer view DIR [N | --route ROUTE]``: the index of a
directory of per-request profiles (integrations/index.py); request N, or the
requests of a route merged, open in the viewer."""
import os
import sys

from ._shared import Failure, UsageError

from .._view import open_in_browser, render_file


class ViewOptions:
    is_view = True

    def __init__(self):
        self.file = None
        self.output = None
        self.browser = True
        self.pick = None
        self.route = None


def parse(args):
    """``pyrometer view [--no-browser] [-o OUT.html] FILE``."""
    o = ViewOptions()
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-h", "--help"):
            return "help"
        if a == "--no-browser":
            o.browser = False
        elif a in ("-o", "--output"):
            if i + 1 >= len(args):
                raise UsageError("option %s needs a value" % a)
            i += 1
            o.output = args[i]
        elif a == "--route":
            if i + 1 >= len(args):
                raise UsageError("option --route needs a value")
            i += 1
            o.route = args[i]
        elif a.startswith("--output="):
            o.output = a.split("=", 1)[1]
        elif a.startswith("-o") and len(a) > 2:
            o.output = a[2:]
        elif a.startswith("-") and a != "-":
            raise UsageError("unknown option %r; try 'pyrometer --help'" % a)
        elif o.file is None:
            o.file = a
        elif o.pick is None and os.path.isdir(o.file):
            if not a.isdigit() or int(a) < 1:
                raise UsageError("view DIR N takes the number of a request in the index (1, 2, ...), not %r" % a)
            o.pick = int(a)
        else:
            raise UsageError("view takes one file (got %r and %r)" % (o.file, a))
        i += 1
    if o.file is None:
        raise UsageError("missing the file: pyrometer view FILE (.pyro, .prof, speedscope .json, collapsed)")
    if o.output is not None and not o.output:
        raise UsageError("-o needs a file name")
    return o


def main(o, command=None):
    """Writes the viewer for o.file; prints its path unless a browser showed
    it.  Exit status 0, or raises Failure(one line)."""
    if os.path.isdir(o.file):
        return _directory(o, Failure)
    if o.route is not None:
        raise Failure("--route goes with a directory of request profiles, not a file")
    try:
        path = render_file(o.file, o.output)
    except OSError as exc:
        msg = str(exc)
        if not msg.startswith("cannot "):
            msg = "cannot read %s: %s" % (o.file, exc.strerror or exc)
        raise Failure(msg) from None
    except (ValueError, MemoryError) as exc:
        raise Failure(str(exc) or "cannot read %s" % o.file) from None
    return _show(o, path)


def _directory(o, Failure):
    """The request index of a directory, or one request / one route opened."""
    from .._view import template
    from ..integrations import index

    try:
        entries = index.read(o.file)
    except OSError as exc:
        raise Failure("cannot read %s: %s" % (o.file, exc.strerror or exc)) from None
    if not entries:
        raise Failure("%s holds no request profiles (written by pyrometer.integrations' middleware)" % o.file)
    if o.pick is None and o.route is None:
        sys.stdout.write(index.table(entries))
        sys.stdout.flush()
        return 0
    if o.pick is not None:
        if o.pick > len(entries):
            raise Failure("the index of %s has %d requests, not %d" % (o.file, len(entries), o.pick))
        o.file = entries[o.pick - 1].path
        return main(o)
    try:
        prof = index.merged(entries, o.route)
    except ValueError as exc:
        raise Failure(str(exc)) from None
    path = o.output or os.path.join(o.file, "route-%s.html" % "".join(c if c.isalnum() else "_" for c in o.route))
    try:
        prof.write(path, "html", template=template())
    except OSError as exc:
        raise Failure("cannot write %s: %s" % (path, exc.strerror or exc)) from None
    return _show(o, path)


def _show(o, path):
    """Opens the written viewer, or prints its path."""
    if o.browser and open_in_browser(path):
        sys.stderr.write("pyrometer: opened %s\n" % path)
    else:
        sys.stdout.write(path + "\n")
    sys.stdout.flush()
    return 0
