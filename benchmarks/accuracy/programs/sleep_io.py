"""Sleep and I/O against CPU: a pure-Python loop (region_cpu), 2 ms sleeps
(region_sleep) and request/reply exchanges over a socket pair whose other end,
a helper thread, answers each 64-byte request after 1 ms with 4 KiB
(region_io).  40/30/30 of the wall time by default; almost all of the CPU
time is region_cpu's.

    python sleep_io.py '{"rounds": 20, "n": {"region_cpu": 600000, "region_sleep": 160, "region_io": 160}}'

A wall-clock profile must show the sleeping and waiting; a CPU profile must
not.
"""
import socket
import threading
import time

from _rounds import run

REPLY = 4096
_SOCKS = socket.socketpair()


def _peer(sock):
    """The other end: one reply per request, 1 ms late; stops at EOF."""
    payload = b"r" * REPLY
    while True:
        req = sock.recv(64)
        if not req:
            return
        time.sleep(0.001)
        sock.sendall(payload)


def _recv_exact(sock, size):
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        got += sock.recv_into(view[got:])
    return buf


def region_cpu(n):
    acc = 0
    for i in range(n):
        acc = (acc * 7 + i) % 1000003
    return acc


def region_sleep(n):
    for _ in range(n):
        time.sleep(0.002)
    return n


def region_io(n):
    sock = _SOCKS[0]
    total = 0
    for _ in range(n):
        sock.sendall(b"q" * 64)
        total += len(_recv_exact(sock, REPLY))
    return total


peer = threading.Thread(target=_peer, args=(_SOCKS[1],), name="peer", daemon=True)
peer.start()
run([(region_cpu, 600000), (region_sleep, 160), (region_io, 160)])
_SOCKS[0].close()
peer.join()
