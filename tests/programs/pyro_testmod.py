"""A module run with -m: prints how it was started, raises on request."""
import json
import sys


def fail():
    raise LookupError("raised from a module run with -m")


print(json.dumps({
    "argv": sys.argv,
    "name": __name__,
    "file": __file__,
    "path0": sys.path[0],
    "package": __package__,
    "spec": __spec__.name,
    "globals": sorted(globals()),
    "main_is_me": sys.modules["__main__"].__dict__ is globals(),
}, sort_keys=True))
if sys.argv[1:] == ["raise"]:
    fail()
