"""Time in C code: a pure-Python loop, SHA-256 of a 256 KiB buffer (hashlib
releases the GIL while it hashes) and sorting a 20,000-float list (C code
that holds the GIL), a third each by default.

    python c_code.py '{"rounds": 20, "n": {"region_python": 400000, "region_c_nogil": 200, "region_c_gil": 100}}'
"""
import hashlib

from _rounds import run

_BUF = bytes(range(256)) * 1024
_DATA = [((i * 7919) % 10007) / 7.0 for i in range(20000)]


def region_python(n):
    acc = 0
    for i in range(n):
        acc = (acc * 7 + i) % 1000003
    return acc


def region_c_nogil(n):
    acc = 0
    for _ in range(n):
        acc += hashlib.sha256(_BUF).digest()[0]
    return acc


def region_c_gil(n):
    acc = 0
    for _ in range(n):
        acc += int(sorted(_DATA)[0])
    return acc


run([(region_python, 400000), (region_c_nogil, 200), (region_c_gil, 100)])
