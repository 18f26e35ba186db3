"""``python -m pyrometer ...`` is the same as the ``pyrometer`` command."""
import sys

from pyrometer.cli import main

if __name__ == "__main__":
    sys.exit(main())
