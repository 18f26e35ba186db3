"""OpenTelemetry correlation for per-request profiles: when
``opentelemetry-api`` is installed and a span is active as a request
starts, its profile carries the trace id, span id and span name as labels
(meta ``label.trace_id``, ``label.span_id``, ``label.span_name`` in .pyro;
every sample's labels ``trace_id``, ``span_id``, ``span_name`` in pprof), and the span gets the
attribute ``pyroscope.profile.id`` (its own span id, 16 hex digits: the
convention Pyroscope and Grafana link spans to profiles by) and
``pyrometer.profile`` (the request's profile file, when one is written)."""

try:
    from opentelemetry import trace as _trace
except ImportError:  # correlation is optional
    _trace = None

PROFILE_ID_ATTRIBUTE = "pyroscope.profile.id"


def current_span():
    """The active, valid span, or None (also when OpenTelemetry is absent)."""
    if _trace is None:
        return None
    span = _trace.get_current_span()
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None
    return span


def ids(span):
    """(trace id as 32 hex, span id as 16 hex, span name or "")."""
    ctx = span.get_span_context()
    return _trace.format_trace_id(ctx.trace_id), _trace.format_span_id(ctx.span_id), getattr(span, "name", "") or ""


def link(span, native):
    """Marks the request's profile with the span and the span with the profile."""
    trace_id, span_id, name = ids(span)
    native.set_meta("label.trace_id", trace_id)
    native.set_meta("label.span_id", span_id)
    native.set_meta("label.span_name", name)
    if span.is_recording():
        span.set_attribute(PROFILE_ID_ATTRIBUTE, span_id)
