"""Jaeger JSON exports (the UI's "download JSON", the query API's answer) as spans.

The file is one document: ``{"data": [trace, ...]}`` (or one trace object), each trace
``{"traceID", "spans": [...], "processes": {pid: {"serviceName", "tags"}}}`` and each span
``{"traceID", "spanID", "operationName", "references", "startTime", "duration", "tags",
"logs", "processID"}`` with times in microseconds and tags ``{key, type, value}``.

It is read back into :class:`~harness.traces.SpanRecord` as :func:`harness.traces.to_jaeger`
wrote it: the parent is the first ``CHILD_OF`` reference (else ``parentSpanID``), other
references are links; ``span.kind`` gives the kind; the status is ``otel.status_code``
(with ``otel.status_description``), else ERROR when the tag ``error`` is true;
``otel.scope.name`` is the scope; ``nanogrid.span.state=started`` marks an open span;
a log is a span event named by its ``event`` field. The process's tags become the
resource's attributes. Jaeger writes array attributes as JSON text: a string tag that is
a JSON array of scalars is read back as that array. Ids are padded to 32 / 16 hex digits
(Jaeger drops a 64-bit trace id's leading zeros).
"""

from __future__ import annotations

import json
import re
import reprlib
from collections.abc import Iterator, Mapping
from typing import Any

from harness.ingest.adapters.base import Context
from harness.ingest.adapters.otlp import DECODE_ERRORS, well_typed
from harness.ingest.records import Record, SpanEntry, Unparsed
from harness.ingest.source import Source
from harness.traces import EventRecord, LinkRecord, SpanRecord, encode_attributes
from harness.traces.records import STATUS_ERROR
from nanogrid.telemetry.semconv import SPAN_STATE, SPAN_STATE_STARTED

KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
STATUS_CODES = {"UNSET": 0, "OK": 1, "ERROR": STATUS_ERROR}
_HEX = re.compile(r"[0-9a-f]{1,32}")


class JaegerAdapter:
    name = "jaeger-json"
    formats = 'a Jaeger JSON export ({"data": [{"traceID", "spans", "processes"}]})'

    def sniff(self, source: Source) -> int:
        return len(source.head) if traces_of(source.document()) else 0

    def read(self, source: Source, ctx: Context) -> Iterator[Record]:
        found = traces_of(source.take_document())
        for trace in found:
            processes = trace.get("processes")
            processes = processes if isinstance(processes, dict) else {}
            for raw in trace.get("spans") or []:
                yield _entry(raw, trace.get("traceID"), processes)
        ctx.note(f"{len(found)} trace(s)")


def traces_of(document: Any) -> list[dict[str, Any]]:
    """The trace objects of a Jaeger document ([] when it is not one)."""
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        candidates = document["data"]
    elif isinstance(document, dict) and "traceID" in document:
        candidates = [document]
    else:
        return []
    found = [t for t in candidates if isinstance(t, dict) and isinstance(t.get("spans"), list)]
    return found if len(found) == len(candidates) and found else []


def _entry(raw: Any, trace_id: Any, processes: Mapping[str, Any]) -> Record:
    try:
        span = span_of(raw, trace_id, processes)
    except DECODE_ERRORS as exc:
        return Unparsed(0, reprlib.repr(raw), f"Jaeger span not decodable: {exc!r}")
    if not well_typed(span):
        return Unparsed(0, reprlib.repr(raw), "Jaeger span of the wrong types")
    return SpanEntry(0, span)


def span_of(raw: Mapping[str, Any], trace_id: Any, processes: Mapping[str, Any]) -> SpanRecord:
    """One Jaeger span as a SpanRecord (raises on a malformed span)."""
    tags = tag_dict(raw.get("tags") or [])
    kind = KINDS.get(str(tags.pop("span.kind", "")).lower(), 0)
    status_code, status_message = _status(tags)
    scope = str(tags.pop("otel.scope.name", "") or tags.pop("otel.library.name", ""))
    is_open = tags.pop(SPAN_STATE, None) == SPAN_STATE_STARTED
    tid = _hex(raw.get("traceID") or trace_id, 32)
    parent, links = _references(raw, tid)
    process = raw.get("process") or processes.get(str(raw.get("processID")), {})
    service = str(process.get("serviceName", ""))
    resource = {"service.name": service, **tag_dict(process.get("tags") or [])}
    start_us, duration_us = int(raw["startTime"]), int(raw.get("duration") or 0)
    return SpanRecord(
        trace_id=tid,
        span_id=_hex(raw["spanID"], 16),
        parent_span_id=parent,
        name=raw.get("operationName", ""),
        kind=kind,
        service=service,
        start_ns=start_us * 1000,
        end_ns=0 if is_open else (start_us + duration_us) * 1000,
        status_code=status_code,
        status_message=status_message,
        attributes=tags,
        events=tuple(_event(log) for log in raw.get("logs") or []),
        links=links,
        scope=scope,
        open=is_open,
        raw_resource={"attributes": encode_attributes(resource)},
        raw_scope={"name": scope} if scope else {},
    )


def _status(tags: dict[str, Any]) -> tuple[int, str]:
    code = STATUS_CODES.get(str(tags.pop("otel.status_code", "")).upper(), 0)
    message = str(tags.pop("otel.status_description", ""))
    error = tags.pop("error", None)
    if not code and (error is True or str(error).lower() == "true"):
        code = STATUS_ERROR
    return code, message


def _references(raw: Mapping[str, Any], trace_id: str) -> tuple[str, tuple[LinkRecord, ...]]:
    refs = [r for r in raw.get("references") or [] if isinstance(r, dict)]
    parent = next((r for r in refs if r.get("refType") == "CHILD_OF"), None)
    parent_id = _hex(parent["spanID"], 16) if parent else _hex(raw.get("parentSpanID"), 16)
    links = tuple(
        LinkRecord(_hex(r.get("traceID") or trace_id, 32), _hex(r["spanID"], 16))
        for r in refs
        if r is not parent
    )
    return parent_id, links


def _event(log: Mapping[str, Any]) -> EventRecord:
    fields = tag_dict(log.get("fields") or [])
    name = fields.pop("event", None) or fields.pop("message", "")
    return EventRecord(str(name), int(log.get("timestamp") or 0) * 1000, fields)


def tag_dict(tags: list[Any]) -> dict[str, Any]:
    """Jaeger ``[{key, type, value}]`` as a plain dict of typed values."""
    return {str(tag["key"]): tag_value(tag) for tag in tags}


def tag_value(tag: Mapping[str, Any]) -> Any:
    value: Any = tag["value"]
    kind = str(tag.get("type", "string")).lower()
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind == "int64":
        return int(value)
    if kind == "float64":
        return float(value)
    if kind == "binary":
        return str(value)  # base64, as OTLP's bytesValue is kept
    return _maybe_array(value) if isinstance(value, str) else value


def _maybe_array(text: str) -> Any:
    """A JSON array of scalars written as text (how Jaeger carries array attributes)."""
    if not (text.startswith("[") and text.endswith("]")) or len(text) > 65536:
        return text
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    scalars = (str, int, float, bool)
    if isinstance(value, list) and all(isinstance(v, scalars) for v in value):
        return value
    return text


def _hex(value: Any, digits: int) -> str:
    if not value:
        return ""
    text = str(value).lower()
    if not _HEX.fullmatch(text):
        raise ValueError(f"not a hex id: {text[:40]!r}")
    return text.zfill(digits)
