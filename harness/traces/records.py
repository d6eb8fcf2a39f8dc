"""Spans as the harness reads them: OTLP JSON lines in, :class:`SpanRecord` out, and back.

Each NanoGrid process writes ``{"resourceSpans": [...]}`` per line (hex ids) into the
telemetry directory; :func:`load_spans` reads them, :func:`write_otlp_jsonl` writes one
request's spans back (report bundles).

A process writes each span as it ends, so children come before their parents, and a long
step also as it starts (a *start record*: no end time, ``nanogrid.span.state=started``;
see :mod:`nanogrid.telemetry.crashsafe`). :func:`load_spans` merges the two records of a
span, keeps a span that only started as *open* (:attr:`SpanRecord.ended` false: its
process died or is still in it), and orders parents before children.
"""

from __future__ import annotations

import base64
import heapq
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nanogrid.telemetry import semconv
from nanogrid.telemetry.semconv import SPAN_STATE, SPAN_STATE_STARTED

logger = logging.getLogger(__name__)

#: OTLP ``Span.SpanKind`` and ``Status.StatusCode`` values.
KIND_NAMES = {
    0: "unspecified",
    1: "internal",
    2: "server",
    3: "client",
    4: "producer",
    5: "consumer",
}
STATUS_NAMES = {0: "UNSET", 1: "OK", 2: "ERROR"}
STATUS_ERROR = 2


@dataclass(frozen=True)
class EventRecord:
    name: str
    ts_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkRecord:
    trace_id: str
    span_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SpanRecord:
    """One span as read from OTLP JSON; ids are lowercase hex, times in ns since the epoch.

    ``open``: only the span's start record was found (it started and never ended, as far
    as the files tell); its ``end_ns`` and duration are 0. The start record's
    ``nanogrid.span.state`` marker is read into ``open``, not kept in ``attributes``.
    """

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    service: str
    start_ns: int
    end_ns: int
    status_code: int = 0
    status_message: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    events: tuple[EventRecord, ...] = ()
    links: tuple[LinkRecord, ...] = ()
    scope: str = ""
    open: bool = False
    # The OTLP JSON this record came from, to write it back unchanged.
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    raw_resource: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    raw_scope: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ended(self) -> bool:
        """Whether the span's end was recorded (false for an open span)."""
        return not self.open

    @property
    def duration_ns(self) -> int:
        """End minus start; 0 for an open span."""
        return max(self.end_ns - self.start_ns, 0) if self.ended else 0

    @property
    def is_error(self) -> bool:
        return self.status_code == STATUS_ERROR


def span_files(telemetry_dir: Path) -> list[Path]:
    """The span files (``*.jsonl``) of a telemetry directory, sorted by name."""
    return sorted(Path(telemetry_dir).glob("*.jsonl"))


def load_spans(paths: Path | Iterable[Path]) -> list[SpanRecord]:
    """Every span in the given files (a directory stands for its ``*.jsonl`` files).

    A line that is not valid JSON (a process may be writing it) is skipped and logged.
    Records are merged by (trace id, span id): an ended record supersedes a start record,
    a span with only a start record is kept open, the same record read twice is kept once.
    Spans come in :func:`causal_order`.
    """
    paths = [paths] if isinstance(paths, Path) else list(paths)
    files = [f for p in paths for f in (span_files(p) if p.is_dir() else [p])]
    seen: dict[tuple[str, str], SpanRecord] = {}
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                records = parse_otlp_json(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                logger.warning("%s:%d: not an OTLP JSON line: %s", path, number, exc)
                continue
            for record in records:
                key = (record.trace_id, record.span_id)
                known = seen.get(key)
                if known is None or (known.open and record.ended):
                    seen[key] = record
    return causal_order(seen.values())


def causal_order(spans: Iterable[SpanRecord]) -> list[SpanRecord]:
    """The spans by start time, except that a parent always comes before its children.

    Within a trace a span waits for its parent, if present; a span whose parent is
    missing (or whose parents form a cycle) keeps its place by start time.
    """
    spans = list(spans)
    present = {(s.trace_id, s.span_id) for s in spans}
    waiting: dict[tuple[str, str], list[int]] = {}
    ready: list[tuple[int, int, int]] = []
    for index, span in enumerate(spans):
        parent = (span.trace_id, span.parent_span_id)
        if span.parent_span_id and span.parent_span_id != span.span_id and parent in present:
            waiting.setdefault(parent, []).append(index)
        else:
            heapq.heappush(ready, (span.start_ns, span.end_ns, index))
    ordered: list[SpanRecord] = []
    while ready:
        span = spans[heapq.heappop(ready)[2]]
        ordered.append(span)
        for child in waiting.pop((span.trace_id, span.span_id), []):
            heapq.heappush(ready, (spans[child].start_ns, spans[child].end_ns, child))
    # Only a parent cycle (malformed input) leaves spans waiting: keep them all the same.
    cycle = sorted(index for indexes in waiting.values() for index in indexes)
    ordered += sorted((spans[i] for i in cycle), key=lambda s: (s.start_ns, s.end_ns))
    return ordered


def parse_otlp_json(data: Mapping[str, Any]) -> list[SpanRecord]:
    """The spans of one OTLP JSON ``ExportTraceServiceRequest`` object."""
    records = []
    for resource_spans in data.get("resourceSpans", []):
        resource = resource_spans.get("resource", {})
        service = str(decode_attributes(resource.get("attributes", [])).get("service.name", ""))
        for scope_spans in resource_spans.get("scopeSpans", []):
            scope = scope_spans.get("scope", {})
            for span in scope_spans.get("spans", []):
                records.append(_span_record(span, service, resource, scope))
    return records


def _span_record(
    span: Mapping[str, Any], service: str, resource: dict[str, Any], scope: dict[str, Any]
) -> SpanRecord:
    status = span.get("status", {})
    attributes = decode_attributes(span.get("attributes", []))
    is_open = attributes.get(SPAN_STATE) == SPAN_STATE_STARTED
    if is_open:
        del attributes[SPAN_STATE]
    return SpanRecord(
        trace_id=_hex_id(span["traceId"]),
        span_id=_hex_id(span["spanId"]),
        parent_span_id=_hex_id(span.get("parentSpanId", "")),
        name=span.get("name", ""),
        kind=int(span.get("kind", 0)),
        service=service,
        start_ns=int(span.get("startTimeUnixNano", 0)),
        end_ns=0 if is_open else int(span.get("endTimeUnixNano", 0)),
        status_code=int(status.get("code", 0)),
        status_message=status.get("message", ""),
        attributes=attributes,
        events=tuple(
            EventRecord(
                e.get("name", ""),
                int(e.get("timeUnixNano", 0)),
                decode_attributes(e.get("attributes", [])),
            )
            for e in span.get("events", [])
        ),
        links=tuple(
            LinkRecord(
                _hex_id(k["traceId"]),
                _hex_id(k["spanId"]),
                decode_attributes(k.get("attributes", [])),
            )
            for k in span.get("links", [])
        ),
        scope=scope.get("name", ""),
        open=is_open,
        raw=dict(span),
        raw_resource=resource,
        raw_scope=scope,
    )


def _hex_id(value: str) -> str:
    """Hex as the file-exporter spec says; base64 (protobuf's JSON mapping) is converted."""
    if not value:
        return ""
    try:
        bytes.fromhex(value)
    except ValueError:
        return base64.b64decode(value).hex()
    return value.lower()


def decode_attributes(items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """OTLP ``KeyValue`` list to a plain dict."""
    return {item["key"]: decode_any_value(item.get("value", {})) for item in items}


def decode_any_value(value: Mapping[str, Any]) -> Any:
    """An OTLP ``AnyValue`` to the Python value (64-bit ints arrive as strings)."""
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [decode_any_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return decode_attributes(value["kvlistValue"].get("values", []))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


trace_id_of = semconv.trace_id_of  # the one requestId -> trace id conversion


def spans_for_request(spans: Iterable[SpanRecord], request_id: str) -> list[SpanRecord]:
    """The spans of one request's trace, in :func:`causal_order`."""
    wanted = trace_id_of(request_id)
    return causal_order(s for s in spans if s.trace_id == wanted)


def process_key(span: SpanRecord) -> str:
    """Identifies the process (service and resource) that wrote a span."""
    return span.service + json.dumps(span.raw_resource, sort_keys=True)


def write_otlp_jsonl(spans_or_lines: Iterable[SpanRecord | str], path: Path) -> int:
    """Write spans (or OTLP JSON lines as read) as OTLP JSON lines; returns lines written.

    Spans are grouped by resource and scope, one line per resource, with each span's
    original OTLP JSON; an open span is written as a start record, as it was read.
    """
    lines: list[str] = []
    groups: dict[str, tuple[dict[str, Any], dict[str, list[SpanRecord]]]] = {}
    for item in spans_or_lines:
        if isinstance(item, str):
            lines.append(item.rstrip("\n"))
            continue
        _, scopes = groups.setdefault(process_key(item), (_raw_resource(item), {}))
        scopes.setdefault(json.dumps(item.raw_scope, sort_keys=True), []).append(item)
    for resource, scopes in groups.values():
        scope_spans = [
            {
                "scope": members[0].raw_scope or {"name": members[0].scope},
                "spans": [m.raw or _raw_span(m) for m in members],
            }
            for members in scopes.values()
        ]
        line = {"resourceSpans": [{"resource": resource, "scopeSpans": scope_spans}]}
        lines.append(json.dumps(line, separators=(",", ":")))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def _raw_resource(span: SpanRecord) -> dict[str, Any]:
    if span.raw_resource:
        return span.raw_resource
    return {"attributes": encode_attributes({"service.name": span.service})}


def _raw_span(span: SpanRecord) -> dict[str, Any]:
    """OTLP JSON of a record built in code rather than read from a file."""
    attributes = (
        {**span.attributes, SPAN_STATE: SPAN_STATE_STARTED} if span.open else span.attributes
    )
    raw: dict[str, Any] = {
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": str(span.start_ns),
        "attributes": encode_attributes(attributes),
        "events": [
            {
                "timeUnixNano": str(e.ts_ns),
                "name": e.name,
                "attributes": encode_attributes(e.attributes),
            }
            for e in span.events
        ],
        "links": [
            {
                "traceId": k.trace_id,
                "spanId": k.span_id,
                "attributes": encode_attributes(k.attributes),
            }
            for k in span.links
        ],
        "status": {"code": span.status_code, "message": span.status_message},
    }
    if span.ended:
        raw["endTimeUnixNano"] = str(span.end_ns)
    if span.parent_span_id:
        raw["parentSpanId"] = span.parent_span_id
    return raw


def encode_attributes(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A plain dict to an OTLP ``KeyValue`` list."""
    return [{"key": key, "value": encode_any_value(value)} for key, value in values.items()]


def encode_any_value(value: Any) -> dict[str, Any]:
    """A Python value to an OTLP ``AnyValue``."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [encode_any_value(v) for v in value]}}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": encode_attributes(value)}}
    return {"stringValue": str(value)}
