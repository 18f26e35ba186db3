"""Spins in a function for a moment; run as a script, with -m, or imported by -c."""
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def main():
    spin(0.2)
    print("spun")


if __name__ == "__main__":
    main()
