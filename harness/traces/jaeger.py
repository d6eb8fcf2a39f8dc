"""Native Jaeger JSON, the format Jaeger UI's "upload JSON" opens without a backend."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from harness.traces.records import STATUS_NAMES, SpanRecord, decode_attributes, process_key
from nanogrid.telemetry.semconv import SPAN_STATE, SPAN_STATE_STARTED

_JAEGER_KINDS = {2: "server", 3: "client", 4: "producer", 5: "consumer", 1: "internal"}


def to_jaeger(spans: Iterable[SpanRecord]) -> dict[str, Any]:
    """Native Jaeger JSON (``{"data": [trace, ...]}``) that Jaeger UI's "upload JSON" opens.

    Times are microseconds. A span's parent is its first reference (``CHILD_OF``), as
    Jaeger UI reads it; links to spans of the same trace follow as ``FOLLOWS_FROM``. An
    open span (started, never finished) has duration 0 and the tag
    ``nanogrid.span.state=started``.
    """
    by_trace: dict[str, list[SpanRecord]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    return {"data": [_jaeger_trace(tid, group) for tid, group in by_trace.items()]}


def _jaeger_trace(trace_id: str, spans: list[SpanRecord]) -> dict[str, Any]:
    processes: dict[str, dict[str, Any]] = {}
    process_ids: dict[str, str] = {}
    for span in spans:
        key = process_key(span)
        if key not in process_ids:
            process_ids[key] = f"p{len(process_ids) + 1}"
            tags = decode_attributes(span.raw_resource.get("attributes", []))
            tags.pop("service.name", None)
            processes[process_ids[key]] = {"serviceName": span.service, "tags": _tags(tags)}
    ids = {s.span_id for s in spans}
    jaeger_spans = [
        _jaeger_span(s, process_ids[process_key(s)], ids)
        for s in sorted(spans, key=lambda s: s.start_ns)
    ]
    return {"traceID": trace_id, "spans": jaeger_spans, "processes": processes, "warnings": None}


def _jaeger_span(span: SpanRecord, process_id: str, ids: set[str]) -> dict[str, Any]:
    return {
        "traceID": span.trace_id,
        "spanID": span.span_id,
        "operationName": span.name,
        "references": _references(span, ids),
        "startTime": span.start_ns // 1000,
        "duration": span.duration_ns // 1000,
        "tags": _tags({**span.attributes, **_otel_tags(span)}),
        "logs": [
            {
                "timestamp": e.ts_ns // 1000,
                "fields": _tags({"event": e.name, **e.attributes}),
            }
            for e in span.events
        ],
        "processID": process_id,
        "warnings": None,
        "flags": 1,
    }


def _references(span: SpanRecord, ids: set[str]) -> list[dict[str, str]]:
    if not span.parent_span_id:
        return []  # a root: a link alone would make Jaeger UI look for a missing parent
    refs = [{"refType": "CHILD_OF", "traceID": span.trace_id, "spanID": span.parent_span_id}]
    refs += [
        {"refType": "FOLLOWS_FROM", "traceID": link.trace_id, "spanID": link.span_id}
        for link in span.links
        if link.trace_id == span.trace_id and link.span_id in ids
    ]
    return refs


def _otel_tags(span: SpanRecord) -> dict[str, Any]:
    tags: dict[str, Any] = {"otel.scope.name": span.scope}
    if span.kind in _JAEGER_KINDS:
        tags["span.kind"] = _JAEGER_KINDS[span.kind]
    if span.status_code:
        tags["otel.status_code"] = STATUS_NAMES.get(span.status_code, str(span.status_code))
    if span.status_message:
        tags["otel.status_description"] = span.status_message
    if span.is_error:
        tags["error"] = True  # what Jaeger UI marks a span red by
    if span.open:
        tags[SPAN_STATE] = SPAN_STATE_STARTED
    return tags


def _tags(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [_tag(key, value) for key, value in values.items()]


def _tag(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "type": "bool", "value": value}
    if isinstance(value, int):
        return {"key": key, "type": "int64", "value": value}
    if isinstance(value, float):
        return {"key": key, "type": "float64", "value": value}
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return {"key": key, "type": "string", "value": text}
