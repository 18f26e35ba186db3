"""Threads whose name takes time to read as they end: pyrometer notes an
ended thread's name when threading forgets it, so that read runs inside
pyrometer's own code, on the program's thread."""
import threading
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class SlowName(threading.Thread):
    ending = False

    @property
    def name(self):
        if self.ending:
            spin(0.01)
        return threading.Thread.name.fget(self)

    @name.setter
    def name(self, value):
        threading.Thread.name.fset(self, value)

    def run(self):
        spin(0.01)
        self.ending = True


for _ in range(20):
    t = SlowName()
    t.start()
    t.join()
print("done")
