"""Threads that spend most of their time blocked on I/O: the main thread
sends requests over socketpairs to two echo-server threads and waits for each
reply (blocking recv on both sides); a producer thread writes records into a
pipe that a consumer thread reads line by line; every few rounds the main
thread sleeps a millisecond, and a ticker thread sleeps in a loop.  The CPU
is mostly idle: a wall-clock profiler sees waiting threads, a CPU profiler
little.

    python io_threads.py SIZE      # SIZE = request rounds (x10)
"""
import os
import socket
import sys
import threading
import time
import zlib

DESCRIPTION = "threads blocked on sockets, a pipe and sleeps: mostly idle CPU"
FULL_SIZE = 360
QUICK_SIZE = 110
MESSAGE = 512


def recv_exact(sock, n):
    chunks = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            raise EOFError("peer closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def echo_server(sock, key):
    """Reads fixed-size requests, answers each with a transformed copy."""
    while True:
        request = recv_exact(sock, MESSAGE)
        if request[:4] == b"STOP":
            break
        reply = bytes((b ^ key) for b in request[:32]) + request[32:]
        sock.sendall(reply)
    sock.close()


def producer(fd, rounds):
    with os.fdopen(fd, "w") as pipe:
        for i in range(rounds):
            pipe.write("record %d %d\n" % (i, (i * 2654435761) & 0xFFFF))
            pipe.flush()  # one small write per record: the reader blocks in between
            if i % 20 == 0:
                time.sleep(0.001)


def consumer(fd, out):
    total = 0
    lines = 0
    with os.fdopen(fd, "r") as pipe:
        for line in pipe:
            total += int(line.split()[2])
            lines += 1
    out["pipe"] = (lines, total)


def ticker(stop):
    while not stop.is_set():
        time.sleep(0.002)


def work(size):
    rounds = size * 10
    out = {}
    stop = threading.Event()
    read_fd, write_fd = os.pipe()
    threads = [
        threading.Thread(target=producer, args=(write_fd, rounds), name="producer"),
        threading.Thread(target=consumer, args=(read_fd, out), name="consumer"),
        threading.Thread(target=ticker, args=(stop,), name="ticker"),
    ]
    clients = []
    for key in (0x5A, 0xA5):
        mine, theirs = socket.socketpair()
        clients.append(mine)
        threads.append(threading.Thread(target=echo_server, args=(theirs, key), name="echo-%x" % key))
    for t in threads:
        t.start()
    crc = 0
    for i in range(rounds):
        payload = (("req %d " % i).encode() * 100)[:MESSAGE]
        for sock in clients:
            sock.sendall(payload)
            crc = zlib.crc32(recv_exact(sock, MESSAGE), crc)
        if i % 5 == 0:
            time.sleep(0.001)
    for sock in clients:
        sock.sendall(b"STOP".ljust(MESSAGE, b"\0"))
    stop.set()
    for t in threads:
        t.join()
    for sock in clients:
        sock.close()
    return "io_threads size=%d crc=%08x pipe=%s" % (size, crc, out["pipe"])


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else FULL_SIZE
    t0 = time.perf_counter()
    result = work(size)
    elapsed = time.perf_counter() - t0
    print(result)
    sys.stderr.write("pyrobench: work_s=%.6f\n" % elapsed)


if __name__ == "__main__":
    main()
