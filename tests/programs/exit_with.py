"""Ends in the way named by argv[1]."""
import atexit
import sys


def outer(how):
    return inner(how)


def inner(how):
    if how == "raise":
        raise ValueError("something went wrong: %s" % how)
    if how == "chained":
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("while handling a lookup") from exc
    if how == "keyboard":
        raise KeyboardInterrupt
    return how


atexit.register(lambda: print("atexit handler ran"))
how = sys.argv[1]
print("start", how)
sys.stdout.flush()
if how == "none":
    sys.exit(None)
if how == "string":
    sys.exit("bye: this message goes to stderr")
if how.isdigit():
    sys.exit(int(how))
if how == "fallthrough":
    print("falling off the end")
else:
    outer(how)
