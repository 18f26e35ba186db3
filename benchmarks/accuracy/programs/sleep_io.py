"""Sleep and I/O against CPU: a pure-Python loop (region_cpu), 2 ms sleeps
(region_sleep) and request/reply exchanges over a socket pair whose other end,
a helper thread, answers each 64-byte request after 1 ms with 4 KiB
(region_io).  40/30/30 of the wall time by default; almost all of the CPU
time is region_cpu's.

    python sleep_io.py '{"rounds": 20, "n": {"region_cpu": 600000, "region_sleep": 160, "region_io": 160}}'

A wall-clock profile must show the sleeping and waiting; a CPU profile must
not.
"""
import json
import socket
import sys
import threading
import time

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


def run_rounds(plan, rounds):
    """Calls each region once per round with its share of the region's total
    count, timing each call with the wall clock and this thread's CPU clock:
    the program's own ground truth."""
    wall = {f.__name__: 0.0 for f, _ in plan}
    cpu = dict(wall)
    check = 0
    pc, tt = time.perf_counter, time.thread_time
    for k in range(rounds):
        for f, total in plan:
            arg = total // rounds + (1 if k < total % rounds else 0)
            w0, c0 = pc(), tt()
            check += f(arg)
            c1, w1 = tt(), pc()
            wall[f.__name__] += w1 - w0
            cpu[f.__name__] += c1 - c0
    return wall, cpu, check


def main():
    p = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {"rounds": 20, "n": {}}
    n = p["n"]
    peer = threading.Thread(target=_peer, args=(_SOCKS[1],), name="peer", daemon=True)
    peer.start()
    plan = [(region_cpu, n.get("region_cpu", 600000)), (region_sleep, n.get("region_sleep", 160)),
            (region_io, n.get("region_io", 160))]
    wall, cpu, check = run_rounds(plan, p["rounds"])
    _SOCKS[0].close()
    peer.join()
    print("checksum %d" % check)
    sys.stderr.write("pyroacc: %s\n" % json.dumps({"wall": wall, "cpu": cpu}))


main()
