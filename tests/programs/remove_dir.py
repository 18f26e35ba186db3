"""Removes the directory argv[1] (to make the profile's output unwritable
while the program runs), after a little work."""
import os
import shutil
import sys
import time


def work():
    deadline = time.perf_counter() + 0.2
    while time.perf_counter() < deadline:
        pass


work()
shutil.rmtree(sys.argv[1])
print("removed", os.path.basename(sys.argv[1]))
