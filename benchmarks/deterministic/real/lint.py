"""pyflakes checks the standard library's email and json packages (parse,
then its AST walk of every node), SIZE times.

    python lint.py SIZE
"""
import email
import glob
import json
import os
import sys
import time

from pyflakes import api, reporter

FULL_SIZE = 6
QUICK_SIZE = 2


class Quiet(reporter.Reporter):
    def __init__(self):
        self.found = 0

    def unexpectedError(self, filename, msg):
        self.found += 1

    def syntaxError(self, filename, msg, lineno, offset, text):
        self.found += 1

    def flake(self, message):
        self.found += 1


def main(size):
    files = sorted(glob.glob(os.path.join(os.path.dirname(email.__file__), "*.py")) +
                   glob.glob(os.path.join(os.path.dirname(json.__file__), "*.py")))
    sources = [(f, open(f, encoding="utf-8").read()) for f in files]
    start = time.perf_counter()
    found = 0
    for _ in range(size):
        for name, source in sources:
            r = Quiet()
            api.check(source, name, r)
            found += r.found
    sys.stderr.write("pyrobench: work_s=%.6f\n" % (time.perf_counter() - start))
    print(found)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else FULL_SIZE)
