"""Two allocation phases from two functions, apart in time: build_a() makes
~50 MB of lists (6,250 of 8 KB), a pause, then build_b() makes ~30 MB of
bytearrays (480 of 64 KiB), kept to the end while build_a's are freed.  Each
phase's bounds (time.time()) are printed so that a test can place them on
the profile's clock."""
import sys
import time

PAUSE = float(sys.argv[1]) if len(sys.argv) > 1 else 0.4


def build_a():
    return [[i] * 1000 for i in range(6250)]


def build_b():
    return [bytearray(64 * 1024) for _ in range(480)]


t = time.time()
a = build_a()
print("phase a", repr(t), repr(time.time()), flush=True)
time.sleep(PAUSE)
t = time.time()
b = build_b()
print("phase b", repr(t), repr(time.time()), flush=True)
del a
time.sleep(PAUSE / 4)
print("done", len(b), flush=True)
