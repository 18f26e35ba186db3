"""Profiles as OpenTelemetry profiles (`-o FILE.otlp-profiles`, `pyrometer
convert PROFILE URL/v1development/profiles`, `pyrometer run --push URL
--push-format otlp`): the body read by opentelemetry-proto's own classes
holds exactly the profile's stacks and weights, per thread, and a
per-request profile's samples link to the request's span."""
import os
import subprocess
import sys

import pytest

from conftest import PROGRAMS, pyrometer_lines, run_pyrometer

service_pb2 = pytest.importorskip("opentelemetry.proto.collector.profiles.v1development.profiles_service_pb2",
                                  reason="opentelemetry-proto: the test extra")
from opentelemetry.proto.profiles.v1development import profiles_pb2  # noqa: E402

# The profiles schema is still a development one upstream; the writer
# follows opentelemetry-proto 1.9's (a Sample's values are field 4).  An
# older package (the last one for 3.9) numbers a Sample's fields otherwise.
pytestmark = pytest.mark.skipif(profiles_pb2.Sample.DESCRIPTOR.fields_by_name["values"].number != 4,
                                reason="this opentelemetry-proto has an older draft of the profiles schema")

import pyrometer  # noqa: E402

PROGRAM = """\
import threading
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def worker():
    spin(0.4)


t = threading.Thread(target=worker, name="worker-1")
t.start()
spin(0.6)
t.join()
print("done")
"""


def parse(body):
    req = service_pb2.ExportProfilesServiceRequest()
    req.ParseFromString(body)
    return req


def otlp_stacks(req):
    """{sample type: {(thread name, stack outermost first): value}} with a
    stack as (function, file, line) tuples, and the service name."""
    d = req.dictionary
    st = d.string_table
    for table in (d.mapping_table, d.location_table, d.function_table, d.link_table, d.attribute_table,
                  d.stack_table):
        assert table[0].ByteSize() == 0  # the zero entry the schema reserves
    assert st[0] == ""
    (rp,) = req.resource_profiles
    service = {a.key: a.value.string_value for a in rp.resource.attributes}["service.name"]
    out = {}
    for sp in rp.scope_profiles:
        assert sp.scope.name == "pyrometer"
        for prof in sp.profiles:
            kind = st[prof.sample_type.type_strindex]
            got = out.setdefault(kind, {})
            for smp in prof.samples:
                frames = []
                for li in d.stack_table[smp.stack_index].location_indices:
                    (line,) = d.location_table[li].lines
                    fn = d.function_table[line.function_index]
                    frames.append((st[fn.name_strindex], st[fn.filename_strindex], line.line))
                attrs = {st[d.attribute_table[i].key_strindex]: d.attribute_table[i].value
                         for i in smp.attribute_indices}
                key = (attrs["thread.name"].string_value, tuple(reversed(frames)))
                (value,) = smp.values
                got[key] = got.get(key, 0) + value
    return out, service


def pyro_stacks(prof, metric):
    out = {}
    for thread, stacks in prof.stacks(metric).items():
        for stack, weight in stacks.items():
            if stack:
                key = (thread.name, tuple(stack))
                out[key] = out.get(key, 0) + weight
    return out


def test_otlp_profiles_hold_the_profiles_stacks(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    pyro = tmp_path / "p.pyro"
    r = run_pyrometer("run", "-o", pyro, prog)
    assert r.returncode == 0 and r.stdout == b"done\n", r.stderr
    out = tmp_path / "p.otlp-profiles"
    r = run_pyrometer("convert", pyro, out)
    assert r.returncode == 0, r.stderr
    req = parse(out.read_bytes())
    got, service = otlp_stacks(req)
    assert service == "prog"
    prof = pyrometer.load(str(pyro))
    assert set(got) == {"samples", "wall"}
    assert got["samples"] == pyro_stacks(prof, "samples")
    assert got["wall"] == pyro_stacks(prof, "wall")
    threads = {t for t, _ in got["samples"]}
    assert threads == {"MainThread", "worker-1"}
    spin = {t: sum(v for (th, s), v in got["samples"].items() if th == t and s[-1][0] == "spin") for t in threads}
    assert spin["MainThread"] > 0 and spin["worker-1"] > 0
    # The run's stacks start at the program, as under plain python: none
    # holds pyrometer's own frames, the main thread's spin is under <module>.
    own = os.path.dirname(pyrometer.__file__)
    assert not any(f[1].startswith(own) for _, s in got["samples"] for f in s)
    assert all(s[0][0] == "<module>" for th, s in got["samples"] if th == "MainThread" and s[-1][0] == "spin")
    (p0, p1) = req.resource_profiles[0].scope_profiles[0].profiles
    st = req.dictionary.string_table
    assert (st[p1.period_type.type_strindex], p1.period) == ("wall", 1000000)  # 1 kHz
    assert abs(p1.duration_nano / 1e9 - prof.meta["duration_s"]) < 1e-3
    assert p0.profile_id != p1.profile_id and len(p0.profile_id) == 16


def test_calls_profile_as_otlp_profiles(tmp_path):
    """A deterministic profile: every metric as its own profile."""
    pyro = tmp_path / "c.pyro"
    r = run_pyrometer("run", "--mode", "calls", "-o", pyro, PROGRAMS / "tracing" / "deep.py")
    assert r.returncode == 0, r.stderr
    prof = pyrometer.load(str(pyro))
    got, _ = otlp_stacks(parse(prof.to_bytes("otlp-profiles")))
    assert set(got) == set(prof.metrics)
    for metric in prof.metrics:
        assert got[metric] == pyro_stacks(prof, metric), metric


def test_push_otlp_profiles(tmp_path, collector):
    handler, base = collector
    handler.status = [503, 200]  # the first push fails: kept, sent again
    prog = PROGRAMS / "pushed.py"
    plain = subprocess.run([sys.executable, str(prog)], capture_output=True, timeout=120)
    r = run_pyrometer("run", "--push", base, "--push-format", "otlp", "--app-name", "svc.test",
                      "--push-interval", "0.3", "-o", tmp_path / "p.pyro", prog)
    assert r.returncode == plain.returncode == 0 and r.stdout == plain.stdout == b"done\n", r.stderr
    assert b"could not be pushed" not in r.stderr
    bodies = handler.bodies
    assert len(bodies) >= 3 and bodies[1] == bodies[0]
    total = 0
    for path, ctype, body in bodies[1:]:
        assert (path, ctype) == ("/v1development/profiles", "application/x-protobuf")
        got, service = otlp_stacks(parse(body))
        assert service == "svc.test"
        total += sum(got.get("samples", {}).values())
    final = pyrometer.load(str(tmp_path / "p.pyro"))
    whole = sum(sum(s.values()) for s in final.stacks().values())
    # Each push is what the stacks gained since the last: together, the run.
    assert abs(total - whole) <= 0.05 * whole, (total, whole)
    merged = {}
    own = os.path.dirname(pyrometer.__file__)
    for _, _, body in bodies[1:]:
        for (thread, stack), v in otlp_stacks(parse(body))[0]["samples"].items():
            merged[stack[-1][0]] = merged.get(stack[-1][0], 0) + v
            # Each interval's stacks start at the program, as the run's.
            assert thread != "MainThread" or not any(f[1].startswith(own) for f in stack), stack
    assert max(merged, key=merged.get) == "pushed_marker"


def test_convert_posts_otlp_profiles(tmp_path, collector):
    handler, base = collector
    pyro = tmp_path / "p.pyro"
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    assert run_pyrometer("run", "-o", pyro, prog).returncode == 0
    r = run_pyrometer("convert", pyro, base + "/v1development/profiles")
    assert r.returncode == 0 and b"OTLP profiles" in r.stderr, r.stderr
    ((path, ctype, body),) = handler.bodies
    assert body == pyrometer.load(str(pyro)).to_bytes("otlp-profiles")


@pytest.mark.parametrize("args, says", [
    (["--push", "http://127.0.0.1:9", "--app-name", "a", "--push-format", "xml"], "give pyroscope or otlp"),
    (["--push-format", "otlp"], "--push-format goes with --push URL"),
])
def test_push_format_errors_are_one_line(tmp_path, args, says):
    prog = tmp_path / "prog.py"
    prog.write_text("print('ran')\n")
    r = run_pyrometer("run", *args, prog)
    lines = pyrometer_lines(r.stderr)
    assert r.returncode == 2 and len(lines) == 1 and says in lines[0], r.stderr
    assert b"Traceback" not in r.stderr and r.stdout == b""


CONTINUOUS = """\
import sys
import time

import pyrometer


def continuous_marker():
    end = time.perf_counter() + 1.0
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


c = pyrometer.start_continuous(sys.argv[1], "svc.api", tags="env=test,region=eu-1", interval=0.3,
                               format=sys.argv[2])
continuous_marker()
print("done", flush=True)
# no stop(): the last interval goes at exit
"""


@pytest.mark.parametrize("fmt", ["pyroscope", "otlp"])
def test_start_continuous_pushes_with_tags(tmp_path, collector, fmt):
    import urllib.parse

    handler, base = collector
    prog = tmp_path / "cont.py"
    prog.write_text(CONTINUOUS)
    r = subprocess.run([sys.executable, str(prog), base, fmt], capture_output=True, timeout=120)
    assert r.returncode == 0 and r.stdout == b"done\n", r.stderr
    assert len(handler.bodies) >= 2
    seen = {}
    for path, _, body in handler.bodies:
        if fmt == "pyroscope":
            url = urllib.parse.urlsplit(path)
            assert url.path == "/ingest"
            assert urllib.parse.parse_qs(url.query)["name"] == ["svc.api{env=test,region=eu-1}"]
            continue
        req = parse(body)
        attrs = {a.key: a.value.string_value for a in req.resource_profiles[0].resource.attributes}
        assert attrs == {"service.name": "svc.api", "env": "test", "region": "eu-1"}
        for (_, stack), v in otlp_stacks(req)[0]["samples"].items():
            seen[stack[-1][0]] = seen.get(stack[-1][0], 0) + v
    if fmt == "otlp":
        assert max(seen, key=seen.get) == "continuous_marker"


@pytest.mark.parametrize("kwargs, error", [
    (dict(tags="env"), ValueError),
    (dict(tags="env=a b"), ValueError),
    (dict(tags="=x"), ValueError),
    (dict(tags="a=1,a=2"), ValueError),
    (dict(tags=["env=x"]), TypeError),
    (dict(format="xml"), ValueError),
    (dict(interval="10"), ValueError),
    (dict(rate="fast"), ValueError),
    (dict(mode="memory"), ValueError),
])
def test_start_continuous_refuses_bad_input_at_start(kwargs, error):
    import threading

    before = threading.active_count()
    with pytest.raises(error):
        pyrometer.start_continuous("http://127.0.0.1:9", "svc", **kwargs)
    with pytest.raises(ValueError):
        pyrometer.start_continuous("localhost:4040", "svc")
    with pytest.raises(ValueError):
        pyrometer.start_continuous("http://127.0.0.1:9", "a b")
    assert threading.active_count() == before  # nothing started


def test_push_tags_errors_are_one_line(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text("print('ran')\n")
    for args, says in ((["--push", "http://127.0.0.1:9", "--app-name", "a", "--tags", "env"], "malformed tag"),
                       (["--tags", "env=x"], "--tags goes with --push URL")):
        r = run_pyrometer("run", *args, prog)
        lines = pyrometer_lines(r.stderr)
        assert r.returncode == 2 and len(lines) == 1 and says in lines[0], r.stderr
        assert b"Traceback" not in r.stderr and r.stdout == b""
