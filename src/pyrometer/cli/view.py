"""``pyrometer view [--no-browser] [-o OUT.html] FILE``: writes the HTML viewer
for any profile pyrometer reads and opens it (the viewer itself: _view.py and
viewer/)."""
import os
import sys

from .._view import open_in_browser, render_file


class ViewOptions:
    is_view = True

    def __init__(self):
        self.file = None
        self.output = None
        self.browser = True


def parse(args, usage_error):
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
                raise usage_error("option %s needs a value" % a)
            i += 1
            o.output = args[i]
        elif a.startswith("--output="):
            o.output = a.split("=", 1)[1]
        elif a.startswith("-o") and len(a) > 2:
            o.output = a[2:]
        elif a.startswith("-") and a != "-":
            raise usage_error("unknown option %r; try 'pyrometer --help'" % a)
        elif o.file is None:
            o.file = a
        else:
            raise usage_error("view takes one file (got %r and %r)" % (o.file, a))
        i += 1
    if o.file is None:
        raise usage_error("missing the file: pyrometer view FILE (.pyro, .prof, speedscope .json, collapsed)")
    if o.output is not None and not o.output:
        raise usage_error("-o needs a file name")
    return o


def main(o, failure):
    """Writes the viewer for o.file; prints its path unless a browser showed
    it.  Exit status 0, or raises failure(one line)."""
    if os.path.isdir(o.file):
        raise failure("cannot read %s: it is a directory" % o.file)
    try:
        path = render_file(o.file, o.output)
    except OSError as exc:
        msg = str(exc)
        if not msg.startswith("cannot "):
            msg = "cannot read %s: %s" % (o.file, exc.strerror or exc)
        raise failure(msg) from None
    except (ValueError, MemoryError) as exc:
        raise failure(str(exc) or "cannot read %s" % o.file) from None
    if o.browser and open_in_browser(path):
        sys.stderr.write("pyrometer: opened %s\n" % path)
    else:
        sys.stdout.write(path + "\n")
    sys.stdout.flush()
    return 0
