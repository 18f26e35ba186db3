"""Python-Markdown converts a long generated document (headings, lists,
tables, fenced code, emphasis, links) to HTML, SIZE times.

    python markdown_html.py SIZE
"""
import sys
import time

import markdown

FULL_SIZE = 20
QUICK_SIZE = 6


def document(sections=60):
    parts = []
    for s in range(sections):
        parts.append("## Part %d\n\nSome *emphasis*, **strong** text, `code` and [a link](https://example.org/%d).\n" % (s, s))
        parts.append("\n".join("%d. step %d with _detail_" % (i + 1, i) for i in range(5)) + "\n")
        parts.append("\n| name | value |\n|------|-------|\n" + "\n".join("| k%d | %d |" % (i, i * s) for i in range(4)) + "\n")
        parts.append("\n```\nfor i in range(%d):\n    print(i)\n```\n" % s)
        parts.append("\n> A quote in part %d, with a [reference][r%d].\n\n[r%d]: https://example.org/ref/%d\n" % (s, s, s, s))
    return "\n".join(parts)


def main(size):
    text = document()
    md = markdown.Markdown(extensions=["tables", "fenced_code"])
    start = time.perf_counter()
    total = 0
    for _ in range(size):
        md.reset()
        total += len(md.convert(text))
    sys.stderr.write("pyrobench: work_s=%.6f\n" % (time.perf_counter() - start))
    print(total)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else FULL_SIZE)
