"""A profile sent to an OpenTelemetry or Zipkin backend: a timeline's calls
as spans, beside the service spans it already shows, by OTLP/HTTP (protobuf;
an OpenTelemetry Collector, Jaeger or Tempo, at ``/v1/traces``) or Zipkin v2
(JSON, at ``/api/v2/spans``); any profile's samples as OTLP profiles (at
``/v1development/profiles``).  The bodies are the ``otlp``, ``zipkin`` and
``otlp-profiles`` formats (output/pm_otlp.c, pm_zipkin.c,
pm_otlp_profiles.c); this only posts them.

    pyrometer run --mode timeline -o run.pyro app.py
    pyrometer convert run.pyro http://localhost:4318/v1/traces
    pyrometer convert run.pyro http://localhost:4318/v1development/profiles
"""
import urllib.error
import urllib.parse
import urllib.request

CONTENT_TYPES = {"otlp": "application/x-protobuf", "zipkin": "application/json",
                 "otlp-profiles": "application/x-protobuf"}


def is_url(text):
    return text.startswith(("http://", "https://"))


def format_for_url(url):
    """The format a collector's URL asks for by its path, or None."""
    path = urllib.parse.urlsplit(url).path.rstrip("/")
    if path.endswith("/v1/traces"):
        return "otlp"
    if path.endswith("/api/v2/spans"):
        return "zipkin"
    if path.endswith("/v1development/profiles"):
        return "otlp-profiles"
    return None


def send_spans(profile, url, format=None, timeout=10.0):
    """POSTs a timeline profile's calls as spans (or any profile as OTLP
    profiles) to url; returns the number of bytes sent.  format: "otlp",
    "zipkin" or "otlp-profiles" (default: from the URL's path).  ValueError
    for spans of a profile without a timeline or an unknown format; OSError
    with the reason when the backend cannot be reached or does not accept
    them."""
    fmt = format or format_for_url(url)
    if fmt not in CONTENT_TYPES:
        raise ValueError("cannot tell what %s takes: its path is not /v1/traces (OTLP spans), "
                         "/api/v2/spans (Zipkin) or /v1development/profiles (OTLP profiles); give --format "
                         "otlp, zipkin or otlp-profiles" % url)
    body = profile.to_bytes(fmt)
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": CONTENT_TYPES[fmt]})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
    except urllib.error.HTTPError as exc:
        raise OSError("%s answered %d %s" % (url, exc.code, exc.reason)) from None
    except (urllib.error.URLError, OSError) as exc:
        raise OSError("cannot send to %s: %s" % (url, getattr(exc, "reason", exc))) from None
    except ValueError as exc:  # a URL urllib cannot take
        raise OSError("cannot send to %s: %s" % (url, exc)) from None
    return len(body)
