"""One thread sleeps (sleeper/doze), one burns CPU (burner/burn); the main
thread waits for both."""
import sys
import threading
import time


def doze(deadline):
    while time.monotonic() < deadline:
        time.sleep(0.02)


def sleeper(deadline):
    doze(deadline)


def burn(deadline):
    n = 0
    while time.monotonic() < deadline:
        n += 1
    return n


def burner(deadline):
    burn(deadline)


def main(seconds):
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=sleeper, args=(deadline,), name="sleeper"),
        threading.Thread(target=burner, args=(deadline,), name="burner"),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
