"""docutils turns a generated reStructuredText document (sections, lists,
tables, literal blocks, inline markup, references) into HTML, SIZE times.

    python docs.py SIZE
"""
import sys
import time

from docutils.core import publish_string

FULL_SIZE = 12
QUICK_SIZE = 4


def document(sections=40):
    parts = ["=========\nHandbook\n=========\n\n.. contents::\n"]
    for s in range(sections):
        title = "Section %d: *setting* things up" % s
        parts.append("%s\n%s\n\nSome **bold** text, ``code``, a link_ and a footnote [#]_.\n" % (title, "=" * len(title)))
        parts.append("\n".join("- item %d with *emphasis* and ``literal``" % i for i in range(6)) + "\n")
        parts.append("\n.. [#] A note on section %d.\n" % s)
        parts.append("\n::\n\n    def f(x):\n        return x * %d\n" % s)
        parts.append("\n+--------+--------+\n| key    | value  |\n+========+========+\n| a%-5d | %-6d |\n+--------+--------+\n" % (s, s * 3))
    parts.append("\n.. _link: https://example.org/\n")
    return "\n".join(parts)


def main(size):
    text = document()
    start = time.perf_counter()
    total = 0
    for _ in range(size):
        total += len(publish_string(text, writer_name="html", settings_overrides={"report_level": 5}))
    sys.stderr.write("pyrobench: work_s=%.6f\n" % (time.perf_counter() - start))
    print(total)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else FULL_SIZE)
