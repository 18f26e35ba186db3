"""A timeline's calls as spans: the OTLP body read by opentelemetry-proto's
own classes, Zipkin v2 JSON checked against the span model of Zipkin's API
definition, both naming the same spans with the same ids, and both sent to
loopback collectors by `pyrometer convert PROFILE URL`."""
import json
import time

import pytest

from conftest import pyrometer_lines, run_pyrometer
from test_trace import TRACING, _slices, _timeline

trace_pb2 = pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2",
                                reason="opentelemetry-proto: the test extra")
jsonschema = pytest.importorskip("jsonschema")

HEX16, HEX32 = "^[0-9a-f]{16}$", "^[0-9a-f]{32}$"
# Zipkin's zipkin2-api.yaml, definitions.Span (v2), the fields written here.
ZIPKIN_SPAN = {
    "type": "object",
    "required": ["traceId", "id", "name", "timestamp", "duration", "localEndpoint", "tags"],
    "properties": {
        "traceId": {"type": "string", "pattern": "^[0-9a-f]{16,32}$"},
        "id": {"type": "string", "pattern": HEX16},
        "parentId": {"type": "string", "pattern": HEX16},
        "name": {"type": "string"},
        "kind": {"enum": ["CLIENT", "SERVER", "PRODUCER", "CONSUMER"]},
        "timestamp": {"type": "integer", "minimum": 1},
        "duration": {"type": "integer", "minimum": 1},
        "localEndpoint": {"type": "object", "properties": {"serviceName": {"type": "string"}}},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}


def _attrs(span):
    out = {}
    for kv in span.attributes:
        v = kv.value
        out[kv.key] = v.string_value if v.HasField("string_value") else v.int_value
    return out


def _otlp(prof):
    req = trace_pb2.ExportTraceServiceRequest()
    req.ParseFromString(prof.to_bytes("otlp"))
    [rs] = req.resource_spans
    [service] = [kv.value.string_value for kv in rs.resource.attributes if kv.key == "service.name"]
    [ss] = rs.scope_spans
    assert ss.scope.name == "pyrometer"
    return service, list(ss.spans)


@pytest.fixture(scope="module")
def timeline(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spans")
    before = time.time_ns()
    r, prof = _timeline(tmp, program="timeline_prog.py")
    assert r.returncode == 0, r.stderr
    return tmp, prof, before, time.time_ns()


def test_otlp_spans_are_the_timeline_calls(timeline):
    tmp, prof, before, after = timeline
    service, spans = _otlp(prof)
    assert service == "timeline_prog"
    doc, names = _slices(prof)
    assert len(spans) == sum(len(n) for n in names.values())  # a span per slice
    assert sorted(s.name for s in spans) == sorted(n for ns in names.values() for n in ns)
    assert [s.name for s in spans].count("fib") == 465
    assert len({s.trace_id for s in spans}) == 1 and len(spans[0].trace_id) == 16 and any(spans[0].trace_id)
    by_id = {s.span_id: s for s in spans}
    assert len(by_id) == len(spans) and all(len(i) == 8 and any(i) for i in by_id)
    roots = 0
    for s in spans:
        a = _attrs(s)
        assert s.kind == s.SPAN_KIND_INTERNAL and a["code.function.name"] == s.name
        assert before <= s.start_time_unix_nano <= s.end_time_unix_nano <= after
        if not s.parent_span_id:
            roots += 1
            continue
        parent = by_id[s.parent_span_id]  # the enclosing call, on the same thread
        assert _attrs(parent)["thread.id"] == a["thread.id"]
        assert parent.start_time_unix_nano <= s.start_time_unix_nano <= s.end_time_unix_nano
        assert s.end_time_unix_nano <= parent.end_time_unix_nano
    assert roots == len(names)  # one outermost call per thread
    down = [s for s in spans if s.name == "down"]
    assert len(down) == 31 and all(_attrs(s)["code.file.path"].endswith("timeline_prog.py") for s in down)
    assert {_attrs(s)["thread.name"] for s in spans} >= {"MainThread"}


def test_zipkin_spans_match_the_api_model_and_the_otlp_ones(timeline):
    tmp, prof, before, after = timeline
    spans = json.loads(prof.to_bytes("zipkin"))
    for s in spans:
        jsonschema.validate(s, ZIPKIN_SPAN)
        assert s["localEndpoint"]["serviceName"] == "timeline_prog"
        assert before // 1000 <= s["timestamp"] <= after // 1000
    _, otlp = _otlp(prof)
    assert [(s["id"], s.get("parentId"), s["name"]) for s in spans] == [
        (o.span_id.hex(), o.parent_span_id.hex() or None, o.name) for o in otlp]
    assert {s["traceId"] for s in spans} == {otlp[0].trace_id.hex()}


def test_spans_sent_to_collectors(timeline, collector):
    tmp, prof, _, _ = timeline
    handler, base = collector
    src = tmp / "t.pyro"
    for path, fmt, ctype in (("/v1/traces", "otlp", "application/x-protobuf"),
                             ("/api/v2/spans", "zipkin", "application/json")):
        r = run_pyrometer("convert", src, base + path, cwd=tmp)
        assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr
        got_path, got_type, body = handler.bodies[-1]
        assert (got_path, got_type) == (path, ctype) and body == prof.to_bytes(fmt)
    req = trace_pb2.ExportTraceServiceRequest()
    req.ParseFromString(handler.bodies[0][2])
    assert len(req.resource_spans[0].scope_spans[0].spans) > 465


def test_span_output_errors_are_one_line(timeline, collector, tmp_path):
    tmp, prof, _, _ = timeline
    handler, base = collector
    handler.status = [500]
    src = tmp / "t.pyro"
    wall = tmp_path / "wall.pyro"
    assert run_pyrometer("run", "--mode", "wall", "-o", wall, TRACING / "deep.py").returncode == 0
    for args, status, says in (
            ([src, base + "/v1/traces"], 1, "answered 500"),
            ([src, "http://127.0.0.1:9/v1/traces"], 1, "cannot send to"),
            ([src, base + "/elsewhere"], 2, "/v1/traces (OTLP spans)"),
            ([wall, tmp_path / "w.otlp"], 1, "has none (record one with"),
            ([wall, tmp_path / "w.zipkin.json"], 1, "has none (record one with")):
        r = run_pyrometer("convert", *args, cwd=tmp_path)
        lines = pyrometer_lines(r.stderr)
        assert r.returncode == status and len(lines) == 1 and says in lines[0], (args, r.stderr)
        assert b"Traceback" not in r.stderr
    r = run_pyrometer("run", "--mode", "calls", "-o", tmp_path / "c.otlp", TRACING / "deep.py")
    lines = pyrometer_lines(r.stderr)
    assert r.returncode == 2 and len(lines) == 1 and "needs --mode timeline" in lines[0], r.stderr
