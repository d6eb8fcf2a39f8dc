"""Reading the spans NanoGrid processes wrote, and showing one request's trace.

:func:`load_spans` reads a telemetry directory's OTLP JSON lines as :class:`SpanRecord`
(parents first; a span that started and never finished kept as *open*),
:func:`spans_for_request` keeps one request's trace (trace id = the requestId's hex),
:func:`render_tree` prints it, :func:`to_jaeger` converts it to the native Jaeger JSON that
Jaeger UI's "upload JSON" opens, :func:`write_otlp_jsonl` writes it back as OTLP JSON lines.

::

    spans = spans_for_request(load_spans(telemetry_dir), request_id)
    print(render_tree(spans))
    Path("trace.json").write_text(json.dumps(to_jaeger(spans)))
"""

from __future__ import annotations

from harness.traces.jaeger import to_jaeger
from harness.traces.records import (
    EventRecord,
    LinkRecord,
    SpanRecord,
    causal_order,
    decode_any_value,
    decode_attributes,
    encode_any_value,
    encode_attributes,
    load_spans,
    parse_otlp_json,
    span_files,
    spans_for_request,
    trace_id_of,
    write_otlp_jsonl,
)
from harness.traces.tree import key_attributes, render_tree

__all__ = [
    "EventRecord",
    "LinkRecord",
    "SpanRecord",
    "causal_order",
    "decode_any_value",
    "decode_attributes",
    "encode_any_value",
    "encode_attributes",
    "key_attributes",
    "load_spans",
    "parse_otlp_json",
    "render_tree",
    "span_files",
    "spans_for_request",
    "to_jaeger",
    "trace_id_of",
    "write_otlp_jsonl",
]
