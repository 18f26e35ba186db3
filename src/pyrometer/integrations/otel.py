"""OpenTelemetry correlation for per-request profiles: when
``opentelemetry-api`` is installed and a span is active as a request
starts, its profile carries the trace id, span id and span name as labels
(meta ``label.trace_id``, ``label.span_id``, ``label.span_name`` in .pyro;
every sample's labels ``trace_id``, ``span_id``, ``span_name`` in pprof), and the span gets the
attribute ``pyroscope.profile.id`` (its own span id, 16 hex digits: the
convention Pyroscope and Grafana link spans to profiles by) and
``pyrometer.profile`` (the request's profile file, when one is written)."""

import sys

PROFILE_ID_ATTRIBUTE = "pyroscope.profile.id"


def current_span():
    """The active, valid span, or None.  A span can be active only in a
    program that imported OpenTelemetry, so when it has not, nothing is
    imported here: the import would cost the program 25-40 ms of CPU at its
    first request, and a package it never asked for."""
    trace = sys.modules.get("opentelemetry.trace")
    get = getattr(trace, "get_current_span", None)  # None while another thread imports it
    if get is None:
        return None
    span = get()
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None
    return span


def ids(span):
    """(trace id as 32 hex, span id as 16 hex, span name or "")."""
    trace = sys.modules["opentelemetry.trace"]
    ctx = span.get_span_context()
    return trace.format_trace_id(ctx.trace_id), trace.format_span_id(ctx.span_id), getattr(span, "name", "") or ""


def link(span, native):
    """Marks the request's profile with the span and the span with the profile."""
    trace_id, span_id, name = ids(span)
    native.set_meta("label.trace_id", trace_id)
    native.set_meta("label.span_id", span_id)
    native.set_meta("label.span_name", name)
    if span.is_recording():
        span.set_attribute(PROFILE_ID_ATTRIBUTE, span_id)
