"""A forked child blocks on a lock it never gets; the parent sends it SIGTERM
and waits for it: it must die of SIGTERM (no handler of ours to run)."""
import os
import signal
import threading
import time

lock = threading.Lock()
lock.acquire()
pid = os.fork()
if pid == 0:
    lock.acquire()  # blocks for ever unless SIGTERM kills it
    os._exit(3)
time.sleep(0.2)
os.kill(pid, signal.SIGTERM)
_, status = os.waitpid(pid, 0)
print("child ended by signal", os.WTERMSIG(status) if os.WIFSIGNALED(status) else None)
