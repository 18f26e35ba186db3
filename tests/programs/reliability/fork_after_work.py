"""Works a while (so the sampler has run), then forks several times: under
plain Python 3.12+ a single-threaded process gets no DeprecationWarning."""
import os
import time

end = time.perf_counter() + 0.3
n = 0
while time.perf_counter() < end:
    n += 1
for _ in range(10):
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 7
print("forked")
