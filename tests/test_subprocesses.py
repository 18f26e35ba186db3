"""`pyrometer run --subprocesses`: every Python process the program starts
(subprocess, multiprocessing with each start method, os.fork) is profiled,
each under a "pid N" level of the run's one profile; the program sees what
plain python gives it, and no process is left behind."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import pyrometer
from conftest import _env, pyrometer_cmd, run_plain, run_pyrometer, without_pyrometer_lines

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc: Linux")

# Every function a test looks for runs for tens of milliseconds at least: on a
# loaded machine a shorter one may get no sample at all.

POOL = """\
import json, multiprocessing as mp, os, sys

def burn(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

def started(counter):
    global COUNTER
    COUNTER = counter

def worker_task(n):
    # Each of the 4 workers takes one task: none returns before all 4 run.
    with COUNTER.get_lock():
        COUNTER.value += 1
    while COUNTER.value < 4:
        burn(2000)
    burn(n)
    return os.getpid()

def parent_work():
    return burn(1000000)

if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    parent_work()
    counter = ctx.Value("i", 0)
    with ctx.Pool(4, initializer=started, initargs=(counter,)) as pool:
        pids = pool.map(worker_task, [1000000] * 4, chunksize=1)
    with open(sys.argv[2], "w") as f:
        json.dump({"parent": os.getpid(), "workers": sorted(set(pids))}, f)
    print("sum", sum(burn(10) for _ in pids))
"""

SUBPROCESS = """\
import json, os, subprocess, sys

def parent_fn():
    return sum(i * i for i in range(1500000))

parent_fn()
r = subprocess.run([sys.executable, "child.py", sys.argv[1]], stdout=subprocess.PIPE, universal_newlines=True)
print("child printed", r.stdout.strip(), "and exited", r.returncode)
with open(sys.argv[1] + ".parent", "w") as f:
    f.write(str(os.getpid()))
sys.exit(3)
"""

CHILD = """\
import json, os, sys

def child_fn():
    return sum(i * i for i in range(3000000))

print(child_fn() % 97)
with open(sys.argv[1], "w") as f:
    json.dump({"pid": os.getpid(), "path": sys.path[1:],
               "site": getattr(sys.modules.get("sitecustomize"), "MARK", None)}, f)
sys.exit(5)
"""

ENDINGS = """\
import json, multiprocessing as mp, os, signal, sys, time

def burn(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

def forked_fn():
    burn(1000000)

def terminated_fn(ready):
    burn(1000000)
    ready.set()
    time.sleep(60)

def killed_fn(ready):
    burn(100000)
    ready.set()
    time.sleep(60)

if __name__ == "__main__":
    ctx = mp.get_context("fork")
    burn(200000)
    pid = os.fork()
    if pid == 0:
        forked_fn()
        os._exit(0)
    os.waitpid(pid, 0)
    out = {"parent": os.getpid(), "forked": pid}
    for name, target in (("terminated", terminated_fn), ("killed", killed_fn)):
        ready = ctx.Event()
        p = ctx.Process(target=target, args=(ready,))
        p.start()
        ready.wait()
        os.kill(p.pid, signal.SIGTERM if name == "terminated" else signal.SIGKILL)
        p.join()
        out[name] = p.pid
        print(name, p.exitcode)
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)
"""


def functions_by_process(profile):
    """{pid: set of function names} from the "pid N name" threads."""
    native = profile.native
    frames = native.frames()
    threads = native.threads()
    out = {}
    for _parent, frame, _line, thread in native.nodes():
        if thread is None or thread < 0 or frame is None or frame < 0:
            continue
        name = threads[thread][2]
        assert name.startswith("pid "), name
        out.setdefault(int(name.split()[1]), set()).add(frames[frame][0])
    return out


def leftovers(pgid):
    """Processes still in the process group (the run started a session)."""
    left = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            left.append(int(entry))
    return left


def run_in_session(args, cwd):
    """pyrometer in a session of its own; its process group afterwards
    (a forkserver notices its parent's exit at once, but give it a moment)."""
    proc = subprocess.Popen(pyrometer_cmd(*args), cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=_env(), start_new_session=True)
    out, err = proc.communicate(timeout=300)
    left = leftovers(proc.pid)
    for _ in range(100):
        if not left:
            break
        time.sleep(0.05)
        left = leftovers(proc.pid)
    for pid in left:  # not to leave them running if the assertion fails
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return proc.returncode, out, err, left


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_workers_each_under_their_process(tmp_path, method):
    (tmp_path / "pool.py").write_text(POOL)
    plain = run_plain("pool.py", method, "plain.json", cwd=tmp_path, timeout=300)
    assert plain.returncode == 0, plain.stderr
    rc, out, err, left = run_in_session(
        ["run", "--subprocesses", "--rate", "500", "-o", "out.pyro", "pool.py", method, "run.json"], tmp_path)
    assert rc == 0, err
    assert out == plain.stdout
    assert without_pyrometer_lines(err) == plain.stderr.decode()
    assert left == []
    ran = json.loads((tmp_path / "run.json").read_text())
    assert len(ran["workers"]) == 4
    by_pid = functions_by_process(pyrometer.load(str(tmp_path / "out.pyro")))
    assert {"parent_work", "burn"} <= by_pid[ran["parent"]]
    assert "worker_task" not in by_pid[ran["parent"]]
    for pid in ran["workers"]:
        assert {"worker_task", "burn"} <= by_pid[pid], (pid, sorted(by_pid))
    # The runner's frames are not in a forked worker's stacks.
    assert not any("_run_script" in names for names in by_pid.values())


def test_subprocess_child_under_its_process(tmp_path):
    (tmp_path / "main.py").write_text(SUBPROCESS)
    (tmp_path / "child.py").write_text(CHILD)
    # A sitecustomize of the program's own still runs in the child.
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("MARK = 'own sitecustomize'\n")
    env = {"PYTHONPATH": str(site)}
    plain = run_plain("main.py", "plain.json", cwd=tmp_path, env=env)
    assert plain.returncode == 3
    proc = run_pyrometer("run", "--subprocesses", "-o", "out.speedscope.json", "main.py", "run.json",
                         cwd=tmp_path, env=env)
    assert proc.returncode == 3
    assert proc.stdout == plain.stdout
    assert without_pyrometer_lines(proc.stderr) == plain.stderr.decode()
    seen = json.loads((tmp_path / "run.json").read_text())
    expected = json.loads((tmp_path / "plain.json").read_text())
    assert seen["site"] == expected["site"] == "own sitecustomize"
    assert seen["path"] == expected["path"]  # pyrometer's directory is not on the child's sys.path
    parent = int((tmp_path / "run.json.parent").read_text())
    doc = json.loads((tmp_path / "out.speedscope.json").read_text())
    frames = doc["shared"]["frames"]
    by_profile = {}
    for prof in doc["profiles"]:
        stacks = prof["samples"] if prof["type"] == "sampled" else []
        by_profile[prof["name"]] = set(frames[i]["name"] for s in stacks for i in s)
    child_main = [n for n in by_profile if n.startswith("pid %d " % seen["pid"])]
    parent_main = [n for n in by_profile if n.startswith("pid %d " % parent)]
    assert child_main and parent_main
    assert any("child_fn" in by_profile[n] for n in child_main)
    assert any("parent_fn" in by_profile[n] for n in parent_main)
    assert not any("child_fn" in by_profile[n] for n in parent_main)


def test_fork_exit_sigterm_and_sigkill(tmp_path):
    (tmp_path / "endings.py").write_text(ENDINGS)
    plain = run_plain("endings.py", "plain.json", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    rc, out, err, left = run_in_session(["run", "--subprocesses", "-o", "out.pyro", "endings.py", "run.json"],
                                        tmp_path)
    assert rc == 0, err
    assert out == plain.stdout == b"terminated -15\nkilled -9\n"
    assert without_pyrometer_lines(err) == plain.stderr.decode()  # no warning about forking threads
    assert left == []
    ran = json.loads((tmp_path / "run.json").read_text())
    by_pid = functions_by_process(pyrometer.load(str(tmp_path / "out.pyro")))
    assert "burn" in by_pid[ran["parent"]]
    assert "forked_fn" in by_pid[ran["forked"]]  # ended by os._exit
    assert "terminated_fn" in by_pid[ran["terminated"]]  # written on SIGTERM
    assert ran["killed"] not in by_pid  # SIGKILL: its samples only are lost
    assert not any(n in by_pid[ran["parent"]] for n in ("forked_fn", "terminated_fn", "killed_fn"))


def test_report_names_processes(tmp_path):
    (tmp_path / "main.py").write_text(SUBPROCESS)
    (tmp_path / "child.py").write_text(CHILD)
    proc = run_pyrometer("run", "--subprocesses", "main.py", "run.json", cwd=tmp_path)
    assert proc.returncode == 3
    child = json.loads((tmp_path / "run.json").read_text())["pid"]
    report = proc.stderr.decode()
    assert "Thread pid %d MainThread" % child in report
    assert "child_fn" in report


@pytest.mark.parametrize("mode", ["calls", "timeline", "lines", "memory"])
def test_refused_outside_the_sampling_modes(tmp_path, mode):
    (tmp_path / "main.py").write_text("print('never')\n")
    proc = run_pyrometer("run", "--mode", mode, "--subprocesses", "main.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == b""
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyrometer: --subprocesses is for the sampling modes")


def test_refused_with_push(tmp_path):
    (tmp_path / "main.py").write_text("print('never')\n")
    proc = run_pyrometer("run", "--subprocesses", "--push", "http://127.0.0.1:9", "--app-name", "a", "main.py",
                         cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == b""
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyrometer: --subprocesses and --push")


@pytest.mark.parametrize("mode", ["cpu", "gil"])
def test_other_sampling_modes(tmp_path, mode):
    (tmp_path / "main.py").write_text(SUBPROCESS)
    (tmp_path / "child.py").write_text(CHILD)
    proc = run_pyrometer("run", "--mode", mode, "--subprocesses", "-o", "out.pyro", "main.py", "run.json",
                         cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    child = json.loads((tmp_path / "run.json").read_text())["pid"]
    parent = int((tmp_path / "run.json.parent").read_text())
    profile = pyrometer.load(str(tmp_path / "out.pyro"))
    assert profile.meta["mode"] == mode
    by_pid = functions_by_process(profile)
    assert "child_fn" in by_pid[child]
    assert "parent_fn" in by_pid[parent]


FORKS = """\
import os, sys, warnings
warnings.simplefilter("always")

def forked_twice():
    return sum(i * i for i in range(1500000))

pid = os.fork()
if pid == 0:
    forked_twice()
    os._exit(7)
_, status = os.waitpid(pid, 0)
print("child", pid, "status", status >> 8)
"""


def test_a_child_that_forks(tmp_path):
    # The child's sampler and SIGTERM writer leave before its fork: 3.12+
    # warns about forking a process with threads, and must not here.
    (tmp_path / "forks.py").write_text(FORKS)
    (tmp_path / "main.py").write_text(
        "import subprocess, sys\n"
        "r = subprocess.run([sys.executable, 'forks.py'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
        "sys.stdout.write(r.stdout.decode().split()[0] + ' ' + r.stdout.decode().split()[3] + '\\n')\n"
        "sys.stdout.write(repr(r.stderr) + '\\n')\n"
        "open('grandchild', 'w').write(r.stdout.decode().split()[1])\n")
    plain = run_plain("main.py", cwd=tmp_path)
    assert plain.stdout == b"child 7\nb''\n"
    proc = run_pyrometer("run", "--subprocesses", "-o", "out.pyro", "main.py", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == plain.stdout
    grandchild = int((tmp_path / "grandchild").read_text())
    assert "forked_twice" in functions_by_process(pyrometer.load(str(tmp_path / "out.pyro")))[grandchild]
