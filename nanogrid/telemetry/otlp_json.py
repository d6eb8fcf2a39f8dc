"""Spans as OTLP JSON lines: the OpenTelemetry file-exporter format.

One ``{"resourceSpans": [...]}`` object per line, UTF-8; trace and span ids as lowercase
hex (protobuf's JSON mapping would give base64, which OTLP/JSON forbids), enums as
integers, 64-bit integers as decimal strings, fields at their default value left out. The
layout mirrors the official protobuf encoder field for field (a test compares the two);
building the dicts directly costs about a quarter of encoding to protobuf and converting
with ``MessageToDict``. A line can be replayed with ``POST /v1/traces`` and
``Content-Type: application/json``.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, SpanContext

logger = logging.getLogger(__name__)

# SpanFlags: the context says whether the parent is remote, and whether it is.
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200
#: Resources and scopes whose JSON a line encoder keeps (a process has one resource and a
#: handful of scopes; past it the cache starts over).
MAX_CACHED_PARTS = 256

_JSON = json.JSONEncoder(separators=(",", ":"))


def encode_otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """The ``ExportTraceServiceRequest`` of ``spans`` as an OTLP/JSON object."""
    grouped: dict[Any, dict[Any, list[dict[str, Any]]]] = {}
    for span in spans:
        scopes = grouped.setdefault(span.resource, {})
        scopes.setdefault(span.instrumentation_scope, []).append(_span(span))
    resource_spans = []
    for resource, scopes in grouped.items():
        scope_spans = [
            _compact({"scope": _scope(scope), "spans": encoded, "schemaUrl": _schema(scope)})
            for scope, encoded in scopes.items()
        ]
        entry = {"resource": _compact({"attributes": _attributes(resource.attributes)})}
        entry.update(_compact({"scopeSpans": scope_spans, "schemaUrl": resource.schema_url}))
        resource_spans.append(entry)
    return {"resourceSpans": resource_spans}


def _scope(scope: Any) -> dict[str, Any]:
    if scope is None:
        return {}
    return _compact(
        {"name": scope.name, "version": scope.version, "attributes": _attributes(scope.attributes)}
    )


def _schema(scope: Any) -> str | None:
    return scope.schema_url if scope is not None else None


def _span(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None  # an SDK span always has one
    return _compact(
        {
            "traceId": f"{context.trace_id:032x}",
            "spanId": f"{context.span_id:016x}",
            "traceState": context.trace_state.to_header() if context.trace_state else None,
            "parentSpanId": f"{span.parent.span_id:016x}" if span.parent else None,
            "flags": _flags(span.parent),
            "name": span.name,
            "kind": span.kind.value + 1,  # the API counts from INTERNAL = 0, OTLP from 1
            "startTimeUnixNano": _nanos(span.start_time),
            "endTimeUnixNano": _nanos(span.end_time),
            "attributes": _attributes(span.attributes),
            "droppedAttributesCount": span.dropped_attributes,
            "events": [
                _event(e.name, e.timestamp, e.attributes, e.dropped_attributes) for e in span.events
            ],
            "droppedEventsCount": span.dropped_events,
            "links": [_link(link) for link in span.links],
            "droppedLinksCount": span.dropped_links,
            "status": _compact(
                {"code": span.status.status_code.value, "message": span.status.description}
            ),
        },
        keep=("status",),
    )


def _event(name: str, ts: int, attributes: Any, dropped: int) -> dict[str, Any]:
    return _compact(
        {
            "timeUnixNano": _nanos(ts),
            "name": name,
            "attributes": _attributes(attributes),
            "droppedAttributesCount": dropped,
        }
    )


def _link(link: Link) -> dict[str, Any]:
    return _compact(
        {
            "traceId": f"{link.context.trace_id:032x}",
            "spanId": f"{link.context.span_id:016x}",
            "attributes": _attributes(link.attributes),
            "droppedAttributesCount": link.dropped_attributes,
            "flags": _flags(link.context),
        }
    )


def _flags(parent: SpanContext | None) -> int:
    return _HAS_IS_REMOTE | (_IS_REMOTE if parent is not None and parent.is_remote else 0)


def _nanos(value: int | None) -> str | None:
    return str(value) if value else None


def _attributes(attributes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [{"key": key, "value": any_value(value)} for key, value in (attributes or {}).items()]


def any_value(value: Any) -> dict[str, Any]:
    """A Python value as an OTLP/JSON ``AnyValue`` (bytes as base64, as protobuf's mapping)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Mapping):
        return {"kvlistValue": _compact({"values": _attributes(value)})}
    if isinstance(value, Sequence):
        return {"arrayValue": _compact({"values": [any_value(v) for v in value]})}
    return {}


def _compact(fields: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """Leave out fields at their default value, as protobuf's JSON mapping does.

    The values are None, str, int, list or dict: the default is the falsy one (a truth
    test costs a fifth of comparing with each default).
    """
    return {k: v for k, v in fields.items() if v or k in keep}


class OtlpJsonLineEncoder:
    """Spans as one compact OTLP JSON line, equal to ``json.dumps(encode_otlp_json(spans),
    separators=(",", ":"))``.

    Every line of a process repeats its resource and scope: their JSON is built once per
    object and reused, which roughly halves the cost of a one-span line. Thread-safe (a
    race at worst encodes a part twice).
    """

    def __init__(self) -> None:
        self._parts: dict[int, tuple[object, str, str]] = {}

    def encode(self, spans: Sequence[ReadableSpan]) -> str:
        grouped: dict[tuple[str, str], dict[tuple[str, str], list[str]]] = {}
        for span in spans:
            scopes = grouped.setdefault(self._part(span.resource, _resource_json), {})
            scope = self._part(span.instrumentation_scope, _scope_json)
            scopes.setdefault(scope, []).append(_JSON.encode(_span(span)))
        entries = (
            head
            + ",".join(start + ",".join(lines) + end for (start, end), lines in scopes.items())
            + tail
            for (head, tail), scopes in grouped.items()
        )
        return '{"resourceSpans":[' + ",".join(entries) + "]}"

    def _part(self, item: Any, build: Callable[[Any], tuple[str, str]]) -> tuple[str, str]:
        """The JSON before and after the spans of ``item`` (by identity: hashing a
        ``Resource`` costs more than encoding it)."""
        cached = self._parts.get(id(item))
        if cached is None or cached[0] is not item:
            if len(self._parts) >= MAX_CACHED_PARTS:
                self._parts.clear()
            cached = (item, *build(item))
            self._parts[id(item)] = cached  # holds ``item``, so its id is not reused
        return cached[1], cached[2]


def _resource_json(resource: Any) -> tuple[str, str]:
    encoded = _compact({"attributes": _attributes(resource.attributes)})
    head = '{"resource":' + _JSON.encode(encoded) + ',"scopeSpans":['
    return head, "]" + _schema_json(resource.schema_url) + "}"


def _scope_json(scope: Any) -> tuple[str, str]:
    encoded = _scope(scope)
    head = "{" + ('"scope":' + _JSON.encode(encoded) + "," if encoded else "") + '"spans":['
    return head, "]" + _schema_json(_schema(scope)) + "}"


def _schema_json(schema_url: str | None) -> str:
    return ',"schemaUrl":' + _JSON.encode(schema_url) if schema_url else ""


class OtlpJsonFileExporter(SpanExporter):
    """Appends each exported batch as one OTLP JSON line to ``path``, flushed at once.

    Thread-safe; a write error is logged and reported as FAILURE, never raised.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._closed = False
        self._encoder = OtlpJsonLineEncoder()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        try:
            line = self._encoder.encode(spans)
            with self._lock:
                if self._closed:
                    return SpanExportResult.FAILURE
                stream = self._open()
                stream.write(line + "\n")
                stream.flush()
        except (OSError, ValueError) as exc:
            logger.warning("cannot write spans to %s: %s", self.path, exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _open(self) -> IO[str]:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        return self._file

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            if self._file is not None:
                self._file.close()
                self._file = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
