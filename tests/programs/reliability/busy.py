"""Works a moment (so every mode has something to record) and prints."""
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


spin(0.15)
print("done")
