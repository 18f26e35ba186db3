"""``pyrometer diff BASE NEW [options]``: compares two sides of profiles in
any format pyrometer reads.  BASE and NEW may be globs (``'base*.pyro'``):
several runs per side, whose own spread bounds what is reported.  The
comparison, the table and the differential profile are C (output/pm_diff.c);
this is argument parsing and exit status.

Exit status: 0, or 3 when --fail-on-regression PCT finds the total or a
function slower beyond PCT percent and the noise (1 and 2 stay pyrometer's own
failure and bad usage)."""
import glob
import os
import sys

from ._shared import Failure, UsageError, output_format

USAGE = ("usage: pyrometer diff BASE NEW [--threshold PCT] [--fail-on-regression PCT] "
         "[--normalize none|total|samples] [--metric NAME] [--min-share PCT] [--top N] [-o DIFF.html|.pyro]")
EXIT_REGRESSION = 3
NORMALIZE = ("none", "total", "samples")

HELP = USAGE + """

Compares the profiles of BASE with those of NEW function by function (self and
total) and prints the functions that got slower and faster.  BASE and NEW are
files (.pyro, .prof, speedscope, collapsed: any format pyrometer reads) or
globs (quote them) naming several runs of each side: then a change is reported
only when it exceeds the runs' own spread (max - min), and, for sampled
profiles, three standard deviations of the sampling error.

options:
  --threshold PCT            report changes of at least PCT %% of the base value (default 5)
  --min-share PCT            ... and at least PCT %% of the base total (default 1)
  --fail-on-regression PCT   exit status 3 when the total or a function got slower
                             by more than PCT %% (and the noise)
  --normalize none|total|samples
                             none: compare values as measured (default); total:
                             scale each run to the same total (shares; the total
                             itself is then not judged); samples: scale each run
                             to the same number of samples
  --metric NAME              the metric compared (default: the one the mode measures)
  --top N                    rows per table (default 20)
  -o FILE                    write the differential profile: .html is the viewer
                             (NEW's flame graph coloured by change), .pyro keeps
                             both sides' values (metrics M and base:M)
""".replace("%%", "%")


class DiffOptions:
    is_diff = True

    def __init__(self):
        self.base = None
        self.new = None
        self.threshold = 5.0
        self.min_share = 1.0
        self.fail = None
        self.normalize = "none"
        self.metric = None
        self.top = 20
        self.output = None


def _number(option, value, UsageError, kind=float):
    try:
        v = kind(value)
    except ValueError:
        raise UsageError("%s needs a number (got %r)" % (option, value)) from None
    if v < 0 or v != v:
        raise UsageError("%s must not be negative (got %r)" % (option, value))
    return v


def parse(argv):
    o = DiffOptions()
    positional = []
    i = 0
    valued = ("--threshold", "--fail-on-regression", "--normalize", "--metric", "--min-share", "--top",
              "-o", "--output")
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            return "help"
        option, value = arg, None
        if arg.startswith("--") and "=" in arg:
            option, value = arg.split("=", 1)
        if option in valued:
            if value is None:
                if i + 1 >= len(argv):
                    raise UsageError("option %s needs a value" % option)
                value = argv[i + 1]
                i += 1
            if option == "--threshold":
                o.threshold = _number(option, value, UsageError)
            elif option == "--min-share":
                o.min_share = _number(option, value, UsageError)
            elif option == "--fail-on-regression":
                o.fail = _number(option, value, UsageError)
            elif option == "--top":
                o.top = _number(option, value, UsageError, int)
            elif option == "--normalize":
                if value not in NORMALIZE:
                    raise UsageError("--normalize takes none, total or samples (got %r)" % value)
                o.normalize = value
            elif option == "--metric":
                o.metric = value
            else:
                if not value:
                    raise UsageError("-o needs a file name")
                o.output = value
        elif arg.startswith("-") and arg != "-":
            raise UsageError("unknown option %r; %s" % (arg, USAGE))
        else:
            positional.append(arg)
        i += 1
    if len(positional) != 2:
        raise UsageError(USAGE)
    o.base, o.new = positional
    return o


def _expand(pattern, side, Failure):
    """The files a side names: the file itself, or the glob's matches."""
    if os.path.exists(pattern):
        return [pattern]
    if glob.has_magic(pattern):
        files = sorted(glob.glob(pattern))
        if files:
            return files
        raise Failure("%s: no file matches %s" % (side, pattern))
    raise Failure("cannot read %s: no such file" % pattern)


def _read(path, Failure):
    from .. import _native

    if os.path.isdir(path):
        raise Failure("cannot read %s: it is a directory" % path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise Failure("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    try:
        return _native.Profile.from_bytes(data)
    except (ValueError, MemoryError) as exc:
        raise Failure("cannot read %s: %s" % (path, exc)) from None


def compare(base, new, *, metric=None, normalize="none", threshold=5.0, min_share=1.0, top=20, fail=None):
    """Compares lists of native profiles: (table text, regression lines,
    regression count, differential native profile).  ValueError with one
    line when they cannot be compared."""
    from .. import _native

    return _native.diff(base, new, metric, NORMALIZE.index(normalize), float(threshold), float(min_share),
                        int(top), -1.0 if fail is None else float(fail))


def main(o, command=None):
    from .._profile import ProfileData

    fmt = output_format(o.output)
    base = [_read(p, Failure) for p in _expand(o.base, "BASE", Failure)]
    new = [_read(p, Failure) for p in _expand(o.new, "NEW", Failure)]
    try:
        text, regressions, count, flame = compare(base, new, metric=o.metric, normalize=o.normalize,
                                                  threshold=o.threshold, min_share=o.min_share, top=o.top,
                                                  fail=o.fail)
    except ValueError as exc:
        raise Failure(str(exc)) from None
    sys.stdout.write(text)
    if regressions:
        sys.stdout.write("\n" + regressions)
    sys.stdout.flush()
    if o.output:
        try:
            ProfileData(flame).write(o.output, fmt, source=False) if fmt == "html" else \
                ProfileData(flame).write(o.output, fmt)
        except (ValueError, OSError) as exc:
            raise Failure("cannot write %s: %s" % (o.output, exc)) from None
    return EXIT_REGRESSION if count else 0
