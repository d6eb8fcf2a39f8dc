"""OTLP JSON spans: one ``{"resourceSpans": [...]}`` per line, as the platform's processes
and OpenTelemetry's file exporter write them (what :func:`harness.traces.load_spans`
reads), or one such object pretty-printed as a whole file.

A span's start record (a long step's, written as it starts) and its end record are both
yielded; :mod:`harness.ingest.assemble` merges them as ``load_spans`` does.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterator
from typing import Any

from harness import traces
from harness.ingest.adapters.base import Context, json_line
from harness.ingest.records import Record, SpanEntry, Unparsed
from harness.ingest.source import Source

KEY = "resourceSpans"
#: What a hostile but well-formed JSON object makes the OTLP decoder raise.
DECODE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, OverflowError)


class OtlpAdapter:
    name = "otlp-json"
    formats = 'OTLP JSON lines ({"resourceSpans": [...]} per line)'

    def sniff(self, source: Source) -> int:
        lines = sum(1 for text in source.head if _is_otlp_line(text))
        if lines:
            return lines
        document = source.document()
        return len(source.head) if isinstance(document, dict) and KEY in document else 0

    def read(self, source: Source, ctx: Context) -> Iterator[Record]:
        document = source.document()
        if isinstance(document, dict) and KEY in document:
            source.take_document()
            yield from _spans(document, 0)
            return
        for line in source.lines():
            value = json_line(source, line)
            if isinstance(value, Unparsed):
                yield value
                continue
            if isinstance(value, dict) and KEY in value:
                yield from _spans(value, line.number, line.text)
            else:
                yield Unparsed(line.number, line.text, "JSON, but not OTLP spans")


def _is_otlp_line(text: str) -> bool:
    return text.lstrip().startswith("{") and f'"{KEY}"' in text


def _spans(value: dict[str, Any], number: int, text: str = "") -> Iterator[Record]:
    try:
        spans = traces.parse_otlp_json(value)
    except DECODE_ERRORS as exc:
        yield Unparsed(number, text or reprlib.repr(value), f"OTLP JSON not decodable: {exc!r}")
        return
    for span in spans:
        if well_typed(span):
            yield SpanEntry(number, span)
        else:
            yield Unparsed(number, text or reprlib.repr(span.raw), "OTLP span of the wrong types")


def well_typed(span: traces.SpanRecord) -> bool:
    """Whether the decoded span has the types the analysis relies on (names are text)."""
    texts = (span.trace_id, span.span_id, span.parent_span_id, span.name, span.service)
    return (
        all(isinstance(text, str) for text in (*texts, span.status_message, span.scope))
        and all(isinstance(key, str) for key in span.attributes)
        and all(isinstance(e.name, str) for e in span.events)
    )
