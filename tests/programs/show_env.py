"""Prints everything a program could check to notice how it was started."""
import builtins
import json
import os
import sys

main = sys.modules["__main__"]
info = {
    "argv": sys.argv,
    "name": __name__,
    "file": __file__,
    "path0": sys.path[0],
    "globals": sorted(globals()),
    "loader": type(__loader__).__name__,
    "spec": None if __spec__ is None else __spec__.name,
    "package": __package__,
    "cached": globals().get("__cached__", "<not set>"),  # 3.15 sets no __cached__ on __main__
    "doc": __doc__ is not None,
    "builtins_is_module": __builtins__ is builtins,
    "main_is_me": main.__dict__ is globals(),
    "main_file": getattr(main, "__file__", None),
    "cwd": os.getcwd(),
    "stdin_isatty": sys.stdin.isatty(),
    "stdout_type": type(sys.stdout).__name__,
    "stdout_encoding": sys.stdout.encoding,
    "stderr_type": type(sys.stderr).__name__,
    "excepthook_is_default": sys.excepthook is sys.__excepthook__,
    "displayhook_is_default": sys.displayhook is sys.__displayhook__,
    "modules_main_name": main.__name__,
    "flags_optimize": sys.flags.optimize,
}
print(json.dumps(info, indent=1, sort_keys=True))
