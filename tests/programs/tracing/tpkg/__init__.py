"""A package run with -m under `pyrometer trace` and `python -m trace`."""
