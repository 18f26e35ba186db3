"""What every command shares: the two kinds of error (one line for the user,
then an exit status), the way the line is written, the format an output
file asks for.  A leaf module: the dispatcher (cli/__init__.py) and every
command import it."""
import os
import sys

EXIT_USAGE = 2
EXIT_FAILURE = 1


class UsageError(Exception):
    """Bad command line: one line for the user, exit status 2."""


class Failure(Exception):
    """pyrometer cannot do its job: one line for the user, exit status 1
    (or the status given)."""

    def __init__(self, message, status=EXIT_FAILURE):
        Exception.__init__(self, message)
        self.status = status


def say(message):
    """One line on stderr, prefixed; never raises."""
    try:
        sys.stderr.write("pyrometer: %s\n" % message)
        sys.stderr.flush()
    except Exception:
        try:
            os.write(2, ("pyrometer: %s\n" % message).encode("utf-8", "replace"))
        except Exception:
            pass


def output_format(path):
    """The format an output file's name asks for (None without a file);
    UsageError when the extension names none."""
    if not path:
        return None
    from .._profile import format_for_path

    try:
        return format_for_path(path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
