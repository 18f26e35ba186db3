"""``pyrometer convert IN OUT [--format FMT]``: reads a profile in any format
pyrometer reads (its own .pyro, cProfile/pstats .prof, speedscope JSON,
collapsed stacks — recognised by content) and writes it in any format it writes.  The reading,
checking and writing are C (output/pm_formats.c); this is argument parsing.

Errors are one line (what was wrong, and where for a corrupt file), a
non-zero status, and nothing written at OUT (files are written to a
temporary beside OUT and renamed)."""
import os

from ._shared import Failure, UsageError, say

USAGE = "usage: pyrometer convert INPUT OUTPUT|URL [--format FMT] [--metric NAME] [--no-source]"


class ConvertOptions:
    is_convert = True

    def __init__(self):
        self.input = None
        self.output = None
        self.format = None
        self.metric = None
        self.source = True


def _formats():
    from .. import _native

    return _native.Profile.formats()


def parse(argv):
    o = ConvertOptions()
    positional = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            return "help"
        if arg == "--no-source":
            o.source = False
            i += 1
            continue
        if arg in ("--format", "--metric", "-f") or arg.startswith(("--format=", "--metric=")):
            if "=" in arg:
                option, value = arg.split("=", 1)
            else:
                if i + 1 >= len(argv):
                    raise UsageError("option %s needs a value" % arg)
                option, value = arg, argv[i + 1]
                i += 1
            if option in ("--format", "-f"):
                o.format = value
            else:
                o.metric = value
        elif arg.startswith("-") and arg != "-":
            raise UsageError("unknown option %r; %s" % (arg, USAGE))
        else:
            positional.append(arg)
        i += 1
    if len(positional) != 2:
        raise UsageError(USAGE)
    o.input, o.output = positional
    return o


def help_text():
    lines = [USAGE, "", "Reads INPUT (recognised by content) and writes OUTPUT in FMT, or in the format", "its extension names.  A timeline's calls go to a tracing backend as spans when",
             "the output is its URL: .../v1/traces (OTLP/HTTP) or .../api/v2/spans (Zipkin);",
             "any profile goes to .../v1development/profiles as OTLP profiles.", "", "formats:"]
    for name, exts, desc, readable in _formats():
        lines.append("  %-11s %-28s %s%s" % (name, exts, desc, " (also read)" if readable else ""))
    return "\n".join(lines) + "\n"


def main(o, command=None):
    from .. import _native
    from .._profile import ProfileData, format_for_path

    from ..integrations import spans

    sending = spans.is_url(o.output)
    if sending:
        fmt = o.format or spans.format_for_url(o.output)
        if fmt not in spans.CONTENT_TYPES:
            raise UsageError("an OUTPUT that is a URL is a backend's: its path ends in /v1/traces (OTLP spans), "
                             "/api/v2/spans (Zipkin) or /v1development/profiles (OTLP profiles), or give "
                             "--format otlp, zipkin or otlp-profiles")
    else:
        try:
            fmt = format_for_path(o.output, o.format)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if not o.source and fmt != "html":
        raise UsageError("--no-source is for HTML output (convert embeds source files only there)")
    try:
        with open(o.input, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise Failure("cannot read %s: %s" % (o.input, exc.strerror or exc)) from None
    try:
        native = _native.Profile.from_bytes(data)
    except (ValueError, MemoryError) as exc:
        raise Failure("cannot convert %s: %s" % (o.input, exc)) from None
    if sending:
        try:
            sent = spans.send_spans(ProfileData(native), o.output, fmt)
        except (ValueError, OSError) as exc:
            raise Failure(str(exc)) from None
        say("sent %d bytes of %s to %s" % (sent, "OTLP profiles" if fmt == "otlp-profiles" else fmt + " spans",
                                            o.output))
        return 0
    try:
        # Collapsed files of py-spy and Austin name the line running in each
        # frame: written back per line, so none is lost.
        per_line = native.meta.get("lines") == "current" and fmt not in ("text", "html")
        had = set(k for k in native.meta if k.startswith("source:"))
        if fmt == "html":
            ProfileData(native).write(o.output, fmt, metric=o.metric, source=o.source)
        else:
            ProfileData(native).write(o.output, fmt, metric=o.metric, per_line=per_line)
    except (ValueError, OSError, MemoryError) as exc:
        reason = str(exc)
        if not reason.startswith("cannot write"):
            reason = "cannot write %s: %s" % (o.output, reason)
        raise Failure(reason) from None
    if fmt == "html":
        # The viewer's source view: files under the current directory are
        # embedded when the profile carries none; said, since HTML is shared.
        added = sorted(k[len("source:"):] for k in native.meta if k.startswith("source:") and k not in had)
        if added:

            say("%s embeds the source of %d file%s (--no-source leaves it out): %s"
                 % (o.output, len(added), "" if len(added) == 1 else "s", ", ".join(added[:5])
                    + (" and %d more" % (len(added) - 5) if len(added) > 5 else "")))
    return 0
