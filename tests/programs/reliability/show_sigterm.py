"""Prints what the program sees of SIGTERM's handler, before and after a fork."""
import os
import signal

print("parent", repr(signal.getsignal(signal.SIGTERM)))
old = signal.signal(signal.SIGTERM, signal.SIG_DFL)
print("replaced", repr(old))
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(w, repr(signal.getsignal(signal.SIGTERM)).encode())
    os._exit(0)
os.waitpid(pid, 0)
print("child", os.read(r, 100).decode())
