"""Time spent inside C code called from Python.  Half of it releases the GIL
(hashlib.sha256 and zlib.compress/decompress on buffers of hundreds of KB,
partly from a second thread), half holds it (sorted() of a large list,
regular expressions over a large string, json.dumps/loads, str.join).  Few
Python frames run; a sampler sees the same Python line for a long time.

    python c_code.py SIZE          # SIZE = rounds
"""
import hashlib
import json
import random
import re
import sys
import threading
import time
import zlib

DESCRIPTION = "time inside C calls: sha256/zlib (GIL released), sorted/re/json (GIL held)"
FULL_SIZE = 31
QUICK_SIZE = 9


def text_block(n):
    """Compressible ASCII text of n bytes (built once, in Python)."""
    words = [("w%d" % ((i * 104729) % 5003)).encode() for i in range(n // 5)]
    return b" ".join(words)[:n].ljust(n, b".")


def hash_in_thread(data, out):
    h = hashlib.sha256()
    for _ in range(6):
        h.update(data)  # releases the GIL for large buffers
    out.append(h.hexdigest())


def one_round(r, rng, text):
    # Built in C: seeded random bytes (incompressible) and the text with its
    # letters permuted (compressible).
    shift = bytes(range(r % 7 + 1, 256)) + bytes(range(r % 7 + 1))
    data = rng.randbytes(200_000) + text.translate(shift)
    side = []
    t = threading.Thread(target=hash_in_thread, args=(data, side), name="hasher")
    t.start()
    # GIL released: compression and hashing in C.
    packed = zlib.compress(data, 6)
    digest = hashlib.sha256(packed + data).hexdigest()
    unpacked = zlib.decompress(packed)
    # GIL held: sorting, regular expressions, JSON.
    numbers = list(memoryview(data[:200_000]).cast("I"))
    ordered = sorted(numbers)
    found = re.findall(r"w(\d+)7\b", text.decode("ascii"))
    encoded = json.dumps({"r": r, "found": found, "ordered": ordered[::4]})
    decoded = json.loads(encoded)
    t.join()
    return (len(packed) + int(digest[:8], 16) + len(unpacked) + ordered[len(ordered) // 2]
            + len(found) + len(decoded["ordered"]) + int(side[0][:8], 16))


def work(size):
    rng = random.Random(12345)
    text = text_block(300_000)
    checksum = 0
    for r in range(size):
        checksum = (checksum * 31 + one_round(r, rng, text)) % 1000000007
    return "c_code size=%d checksum=%d" % (size, checksum)


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else FULL_SIZE
    t0 = time.perf_counter()
    result = work(size)
    elapsed = time.perf_counter() - t0
    print(result)
    sys.stderr.write("pyrobench: work_s=%.6f\n" % elapsed)


if __name__ == "__main__":
    main()
