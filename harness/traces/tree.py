"""One trace as a text tree: service, start offset, duration, status, key attributes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from harness.traces.records import KIND_NAMES, STATUS_NAMES, EventRecord, SpanRecord

#: Attributes worth a glance in the tree (prefixes and exact names).
KEY_PREFIXES = ("nanogrid.", "messaging.", "process.", "error.", "exception.")
KEY_NAMES = frozenset(
    {
        "http.request.method",
        "http.response.status_code",
        "http.route",
        "http.status_code",
        "db.operation",
        "db.statement",
        "rpc.method",
        "rpc.service",
        "aws.request_id",
    }
)
# Shown once in the tree's header rather than on every line.
HEADER_ATTRIBUTES = ("nanogrid.request_id", "nanogrid.function_id")
#: Shown in place of the duration of a span that started and never finished.
OPEN_MARK = "[open]"


def _children(spans: list[SpanRecord]) -> tuple[list[SpanRecord], dict[str, list[SpanRecord]]]:
    """Roots (no parent, or a parent not among ``spans``) and each span's children."""
    ids = {s.span_id for s in spans}
    roots: list[SpanRecord] = []
    children: dict[str, list[SpanRecord]] = {}
    for span in sorted(spans, key=lambda s: (s.start_ns, s.end_ns)):
        if span.parent_span_id and span.parent_span_id in ids:
            children.setdefault(span.parent_span_id, []).append(span)
        else:
            roots.append(span)
    return roots, children


def render_tree(spans: Iterable[SpanRecord]) -> str:
    """The spans as an indented tree: service, start offset from the first span (ms),
    duration, status, key attributes and events. A span whose parent is missing is shown
    at the top level, flagged; an open span (started, never finished) shows ``[open]``
    instead of a duration."""
    spans = list(spans)
    if not spans:
        return "(no spans)"
    roots, children = _children(spans)
    origin = min(s.start_ns for s in spans)
    lines = [_header(spans)]

    def walk(span: SpanRecord, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        lines.append(prefix + branch + _describe(span, origin, orphan=top))
        inner = prefix + ("" if top else ("   " if last else "│  "))
        kids = children.get(span.span_id, [])
        for event in span.events:
            lines.append(inner + ("│  " if kids else "   ") + _describe_event(event, origin))
        for index, child in enumerate(kids):
            walk(child, inner, index == len(kids) - 1, False)

    for root in roots:
        walk(root, "", True, True)
    return "\n".join(lines)


def _header(spans: list[SpanRecord]) -> str:
    first = spans[0]
    ids = {
        k: next((s.attributes[k] for s in spans if k in s.attributes), "")
        for k in HEADER_ATTRIBUTES
    }
    services = sorted({s.service for s in spans})
    return (
        f"trace {first.trace_id}  request={ids[HEADER_ATTRIBUTES[0]]} "
        f"function={ids[HEADER_ATTRIBUTES[1]]}  spans={len(spans)} services={','.join(services)}"
    )


def _describe(span: SpanRecord, origin: int, orphan: bool) -> str:
    status = STATUS_NAMES.get(span.status_code, str(span.status_code))
    if span.status_message:
        status += f"({span.status_message})"
    missing = f"  [parent {span.parent_span_id} missing]" if orphan and span.parent_span_id else ""
    attrs = " ".join(f"{k}={_short(v)}" for k, v in key_attributes(span).items())
    duration = f"{span.duration_ns / 1e6:.1f}ms" if span.ended else OPEN_MARK
    return (
        f"{span.name} [{span.service}] {KIND_NAMES.get(span.kind, span.kind)} "
        f"+{(span.start_ns - origin) / 1e6:.1f}ms {duration} {status}"
        + (f"  {attrs}" if attrs else "")
        + missing
    )


def _describe_event(event: EventRecord, origin: int) -> str:
    attrs = " ".join(f"{k}={_short(v)}" for k, v in event.attributes.items())
    text = f"· {event.name} +{(event.ts_ns - origin) / 1e6:.1f}ms"
    return text + (f"  {attrs}" if attrs else "")


def key_attributes(span: SpanRecord) -> dict[str, Any]:
    """The attributes shown in the tree (nanogrid.*, messaging.*, http status, ...)."""
    return {
        k: v
        for k, v in span.attributes.items()
        if k not in HEADER_ATTRIBUTES and (k in KEY_NAMES or k.startswith(KEY_PREFIXES))
    }


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
