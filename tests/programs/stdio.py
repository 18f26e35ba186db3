"""Writes text and bytes to stdout and stderr, reads stdin if asked."""
import hashlib
import sys

if len(sys.argv) > 1 and sys.argv[1] == "stdin":
    data = sys.stdin.buffer.read()
    print("stdin bytes:", len(data), hashlib.sha256(data).hexdigest())
    sys.stdout.flush()
    sys.stdout.buffer.write(data[::-1])
else:
    print("plain text line")
    print("unicode: \u00e9\u00e8 \u2603 \U0001F600")
    sys.stdout.write("no newline at the end of this one")
    sys.stdout.flush()
    sys.stdout.buffer.write(bytes(range(256)))
    sys.stdout.buffer.flush()
    print(" then text again", end="")
    print("to stderr", file=sys.stderr)
