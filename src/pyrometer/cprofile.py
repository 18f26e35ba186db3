"""``python -m pyrometer.cprofile``: ``python -m cProfile``'s command line on
pyrometer's calls mode, for muscle memory.

    python -m pyrometer.cprofile [-o output_file_path] [-s sort] [-m module | scriptfile] [arg] ...

Same options and output as cProfile's: without ``-o`` the pstats table
(directories stripped, sorted by ``-s``, default that of the running
version's cProfile) on
standard output; with ``-o`` a pstats file, whatever its extension, and
nothing printed.  The program runs as under ``pyrometer run --mode calls``
(its sys.argv, __main__, exceptions and exit status are plain Python's;
builtins timed, every thread recorded).  Bad usage: one ``pyrometer:`` line
and exit status 2."""
import sys

USAGE = "usage: python -m pyrometer.cprofile [-o output_file_path] [-s sort] [-m module | scriptfile] [arg] ..."


def parse(argv):
    """cProfile's options into ``pyrometer run --mode calls`` Options."""
    from .cli import UsageError, run

    run_args = ["--mode", "calls"]
    output = sort = None
    module = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            return "help"
        if arg == "-m":
            module = True
            i += 1
            break
        if arg in ("-o", "--outfile", "-s", "--sort") or arg.startswith(("--outfile=", "--sort=")) or (
            arg[:2] in ("-o", "-s") and len(arg) > 2 and not arg.startswith("--")
        ):
            if arg.startswith("--") and "=" in arg:
                option, value = arg.split("=", 1)
            elif len(arg) > 2 and not arg.startswith("--"):
                option, value = arg[:2], arg[2:]
            else:
                if i + 1 >= len(argv):
                    raise UsageError("option %s needs a value; %s" % (arg, USAGE))
                option, value = arg, argv[i + 1]
                i += 1
            if option in ("-o", "--outfile"):
                output = value
            else:
                sort = value
            i += 1
            continue
        if arg.startswith("-") and arg != "-":
            raise UsageError("unknown option %r; %s" % (arg, USAGE))
        break
    rest = argv[i:]
    if not rest:
        raise UsageError(USAGE)
    if sort is not None:
        run_args += ["--sort", sort]
    if output is not None:
        run_args += ["-o", output, "--format", "pstats"]
    run_args += (["-m"] if module else ["--"]) + rest
    o = run.parse(run_args)
    o.cprofile_cli = True
    if sort is None:
        # The running version's cProfile default: -1 (standard name) up to
        # 3.10, 2 (cumulative) from 3.11 on.
        o.sort = 2 if sys.version_info >= (3, 11) else -1
    return o


def main(argv=None):
    from . import _env
    from .cli import EXIT_USAGE, Failure, UsageError, _say, run

    if argv is None:
        argv = sys.argv[1:]
    try:
        o = parse(list(argv))
        if o == "help":
            sys.stdout.write(USAGE + "\n")
            return 0
        return run.main(o, _env.command_line(["python", "-m", "pyrometer.cprofile"] + list(argv)))
    except UsageError as exc:
        _say(str(exc))
        return EXIT_USAGE
    except Failure as exc:
        _say(str(exc))
        return exc.status


if __name__ == "__main__":
    sys.exit(main())
