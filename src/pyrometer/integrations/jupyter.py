"""IPython / Jupyter magics (``%load_ext pyrometer``):

    %pyrometer [options] statement        profile one statement
    %%pyrometer [options]                 profile the cell
    %pyrometer_lines -f func [-f ...] statement
                                          line by line, as line_profiler's %lprun

options: ``-m/--mode wall|cpu|gil|calls|memory`` (default wall, threads off
the CPU left out), ``-r/--rate HZ``, ``-t/--top N`` (rows of the text
report), ``--text`` (the report only, no viewer), ``-o FILE`` (also write
the profile).  The result is displayed as the self-contained HTML viewer in
an iframe (``srcdoc``) for front ends that show HTML, and as the text report
everywhere else (a terminal IPython shows text/plain).  The statement's own
exceptions propagate after the profile is shown; bad options are IPython's
UsageError, one line."""
import html as _html
import shlex
import sys

from . import new_session

# Kinds of frames for Profile.reroot (model/pm_reroot.c), as cli/run.py uses them.
_CHAIN, _ENTRY = 1, 2
_MODES = ("wall", "cpu", "gil", "calls", "memory")


def _execute(code, ns):
    """Runs the user's code: the stacks of the profile start below this call."""
    exec(code, ns)


def _launcher_frames():
    """{(file, first line): kind}: IPython's frames above the magic (dropped
    from the profile) and _execute, whose callees are the user's code."""
    kinds = {}
    frame = sys._getframe(1)
    while frame is not None:
        kinds[(frame.f_code.co_filename, frame.f_code.co_firstlineno)] = _CHAIN
        frame = frame.f_back
    code = _execute.__code__
    kinds[(code.co_filename, code.co_firstlineno)] = _ENTRY
    kinds[("~", 0, "<built-in method builtins.exec>")] = _ENTRY
    return kinds


class Result:
    """What a magic returns: the viewer (text/html) and the report
    (text/plain).  ``.profile`` is the ProfileData."""

    def __init__(self, profile, text, html=None):
        self.profile = profile
        self._text = text
        self._html = html

    def __repr__(self):
        return self._text

    def _repr_html_(self):
        if self._html is None:
            return None
        return ('<iframe class="pyrometer-viewer" style="width:100%%;height:640px;border:0" sandbox="allow-scripts" '
                'srcdoc="%s"></iframe>' % _html.escape(self._html, quote=True))


def _viewer_html(profile):
    from .._profile import _html_template

    native = profile.native
    return native.to_bytes("html", template=_html_template(native, source=False)).decode("utf-8")


def _parse(line, usage_error, allow_functions=False):
    """(options dict, statement) from a magic's line; usage_error on a bad option."""
    try:
        words = shlex.split(line, posix=True)
    except ValueError as exc:
        raise usage_error("pyrometer: %s" % exc) from None
    o = {"mode": "wall", "rate": 1000.0, "top": 15, "text": False, "output": None, "functions": []}
    i = 0
    while i < len(words):
        w = words[i]
        if not w.startswith("-") or w == "--":
            i += w == "--"
            break
        name, _, value = w.partition("=")
        takes = {"-m": "mode", "--mode": "mode", "-r": "rate", "--rate": "rate", "-t": "top", "--top": "top",
                 "-o": "output", "--output": "output"}
        if allow_functions:
            takes.update({"-f": "functions", "--function": "functions"})
        if name == "--text" and not value:
            o["text"] = True
            i += 1
            continue
        if name not in takes:
            raise usage_error("pyrometer: unknown option %r (options: %s)"
                              % (w, " ".join(sorted(set(takes) | {"--text"}))))
        if not _:
            if i + 1 >= len(words):
                raise usage_error("pyrometer: option %s needs a value" % name)
            value = words[i + 1]
            i += 1
        key = takes[name]
        try:
            if key == "rate":
                value = float(value)
            elif key == "top":
                value = int(value)
        except ValueError:
            raise usage_error("pyrometer: %s needs a number (got %r)" % (name, value)) from None
        if key == "mode" and value not in _MODES:
            raise usage_error("pyrometer: unknown mode %r (choose from %s)" % (value, ", ".join(_MODES)))
        if key == "functions":
            o["functions"].append(value)
        else:
            o[key] = value
        i += 1
    # The statement is the rest of the line as written (quotes and all).
    return o, _statement_after(line, words[:i])


def _statement_after(line, option_words):
    """The text of line after its option words, untouched by shell quoting."""
    rest = line.lstrip()
    for w in option_words:
        lexer = shlex.shlex(rest, posix=True)
        lexer.whitespace_split = True
        lexer.get_token()
        consumed = len(rest) - len(lexer.instream.read())
        rest = rest[consumed:].lstrip()
    return rest


def _make_magics():
    from IPython.core.error import UsageError
    from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class

    @magics_class
    class PyrometerMagics(Magics):
        @line_cell_magic
        def pyrometer(self, line, cell=None):
            o, stmt = _parse(line, UsageError)
            code_text = cell if cell is not None else stmt
            if not code_text.strip():
                raise UsageError("pyrometer: nothing to profile (%pyrometer STATEMENT, or %%pyrometer over a cell)")
            try:
                session = new_session(o["mode"], rate=o["rate"], idle=False)
            except ValueError as exc:
                raise UsageError("pyrometer: %s" % exc) from None
            code = compile(self.shell.transform_cell(code_text), "<pyrometer>", "exec")
            kinds = _launcher_frames()
            import threading

            session.start(command="%pyrometer " + line.strip())
            error = None
            try:
                _execute(code, self.shell.user_ns)
            except BaseException as exc:  # the user's: shown after the profile
                error = exc
            finally:
                session.stop()
            try:
                session.native.reroot(kinds, threading.get_ident())
            except Exception:
                pass
            self._show(session, o)
            if error is not None:
                raise error

        @line_magic
        def pyrometer_lines(self, line):
            o, stmt = _parse(line, UsageError, allow_functions=True)
            if not o["functions"]:
                raise UsageError("pyrometer: %pyrometer_lines needs -f FUNCTION (one or more) and a statement")
            if not stmt.strip():
                raise UsageError("pyrometer: %pyrometer_lines -f FUNCTION STATEMENT: the statement is missing")
            from .._lines import LineProfiler

            ns = self.shell.user_ns
            funcs = []
            for expr in o["functions"]:
                try:
                    funcs.append(eval(expr, ns))
                except Exception as exc:
                    raise UsageError("pyrometer: -f %s: %s" % (expr, exc)) from None
            lp = LineProfiler(*funcs)
            code = compile(self.shell.transform_cell(stmt), "<pyrometer>", "exec")
            error = None
            lp.enable()
            try:
                _execute(code, ns)
            except BaseException as exc:
                error = exc
            finally:
                lp.disable()
            import io

            buf = io.StringIO()
            lp.print_stats(stream=buf)
            profile = lp.model
            self._show(profile, o, text=buf.getvalue())
            if error is not None:
                raise error

        def _show(self, profile, o, text=None):
            from IPython.display import display

            if text is None:
                text = profile.report(top=o["top"])
            if o["output"]:
                try:
                    profile.write(o["output"])
                except (OSError, ValueError) as exc:
                    raise UsageError("pyrometer: cannot write %s: %s" % (o["output"], exc)) from None
            display(Result(profile, text, None if o["text"] else _viewer_html(profile)))

    return PyrometerMagics


def load_ipython_extension(ipython):
    ipython.register_magics(_make_magics())
