"""Runs a scenario program with a profiler attached to it by PID, for the
accuracy adapters that read another process (`pyrometer attach`, py-spy
`record --pid`).

The program starts under a small launcher that tells this wrapper it is up
(one byte on a pipe) and waits on stdin; the profiler attaches, is given a
second to start sampling, and then the launcher runs the program as
__main__.  So the profile covers all of the program's regions, as an
in-process profile does, and the program's stdout and stderr (its checksum
and truth lines) are this wrapper's.  The profiler stops when the program
exits.

    attach_run.py pyrometer|py-spy OUT RATE PYTHON SCRIPT [ARGS...]
"""
import os
import shutil
import subprocess
import sys
import time

LAUNCHER = r"""
import os, runpy, sys
os.write(int(sys.argv[1]), b"r")
os.close(int(sys.argv[1]))
sys.stdin.readline()
sys.argv = sys.argv[2:]
sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def profiler_command(tool, pid, out, rate, python):
    if tool == "pyrometer":
        return [python, "-m", "pyrometer", "attach", str(pid), "--rate", rate, "-o", out]
    here = os.path.join(os.path.dirname(python), "py-spy")
    spy = shutil.which("py-spy") or here
    # --duration: py-spy 0.4.3 fails to attach without one; it ends with the target anyway.
    return [spy, "record", "--pid", str(pid), "--nonblocking", "--idle", "-r", rate, "-f", "raw", "-o", out,
            "--duration", "3600"]


def main(argv):
    tool, out, rate, python, script = argv[:5]
    ready_r, ready_w = os.pipe()
    target = subprocess.Popen([python, "-c", LAUNCHER, str(ready_w), script] + argv[5:], stdin=subprocess.PIPE,
                              pass_fds=(ready_w,))
    os.close(ready_w)
    if os.read(ready_r, 1) != b"r":
        target.wait()
        return target.returncode or 1
    os.close(ready_r)
    prof = subprocess.Popen(profiler_command(tool, target.pid, out, rate, python), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    time.sleep(1.0)  # attached and sampling before the program's work starts
    target.stdin.write(b"go\n")
    target.stdin.close()
    rc = target.wait()
    _, err = prof.communicate(timeout=60)
    if prof.returncode:
        sys.stderr.write(err.decode("utf-8", "replace"))
        return prof.returncode
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
