"""Jaeger JSON exports: the harness's own export (``nanogrid-harness trace --jaeger``) read
back gives the spans of the OTLP files it was made from."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness import traces
from harness.analysis.facts import instance_of
from harness.ingest import ingest


def _us(ns: int) -> int:
    return ns // 1000


def comparable(span: traces.SpanRecord) -> tuple[Any, ...]:
    """What Jaeger JSON keeps of a span (times in µs, links within the trace)."""
    return (
        span.trace_id,
        span.span_id,
        span.parent_span_id,
        span.name,
        span.kind,
        span.service,
        instance_of(span),
        _us(span.start_ns),
        span.status_code,
        span.status_message,
        span.attributes,
        tuple((e.name, _us(e.ts_ns), e.attributes) for e in span.events),
        span.scope,
        span.open,
    )


@pytest.fixture
def exported(telemetry_dir, tmp_path):
    spans = traces.load_spans(telemetry_dir)
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(traces.to_jaeger(spans), indent=1))  # as the CLI writes it
    return spans, path


def test_jaeger_export_round_trips_to_the_otlp_spans(exported):
    spans, path = exported
    found = ingest([path])
    assert found.sources[0].kind == "jaeger-json"
    assert sorted(map(comparable, found.evidence.spans)) == sorted(map(comparable, spans))
    by_id = {s.span_id: s for s in found.evidence.spans}
    for span in spans:
        back = by_id[span.span_id]
        if span.ended:
            assert abs(back.end_ns - span.end_ns) < 2000  # µs precision, start and duration cut
        else:
            assert back.end_ns == 0


def test_status_kind_and_array_attributes_survive(exported):
    _spans, path = exported
    [execute, *_] = [s for s in ingest([path]).evidence.spans if s.name == "execute"]
    assert execute.is_error
    assert execute.status_message == "exit code 2"
    assert execute.attributes["process.command_args"] == ["python", "main.py"]
    assert execute.attributes["process.exit.code"] == 2
    assert any(s.open for s in ingest([path]).evidence.spans)


def test_error_tag_alone_marks_an_error_and_short_ids_are_padded(write):
    doc = {
        "data": [
            {
                "traceID": "abc",
                "spans": [
                    {
                        "traceID": "abc",
                        "spanID": "1f",
                        "operationName": "GET /x",
                        "references": [],
                        "startTime": 1_764_661_219_996_000,
                        "duration": 5000,
                        "tags": [
                            {"key": "error", "type": "bool", "value": True},
                            {"key": "span.kind", "type": "string", "value": "server"},
                            {"key": "http.status_code", "type": "int64", "value": 500},
                        ],
                        "logs": [],
                        "processID": "p1",
                    }
                ],
                "processes": {"p1": {"serviceName": "api", "tags": []}},
            }
        ]
    }
    [span] = ingest([write("jaeger.json", json.dumps(doc))]).evidence.spans
    assert (span.trace_id, span.span_id) == ("0" * 29 + "abc", "0" * 14 + "1f")
    assert (span.status_code, span.kind, span.service) == (2, 2, "api")
    assert span.attributes == {"http.status_code": 500}
    assert span.end_ns - span.start_ns == 5_000_000


def test_a_malformed_span_is_kept_unparsed_not_fatal(write):
    doc = {
        "data": [
            {
                "traceID": "ab",
                "spans": [
                    {"spanID": "zz", "startTime": 1},
                    {"spanID": "01", "startTime": 1, "operationName": "ok"},
                ],
                "processes": {},
            }
        ]
    }
    found = ingest([write("jaeger.json", json.dumps(doc))])
    assert [s.name for s in found.evidence.spans] == ["ok"]
    [report] = found.sources
    assert report.unparsed_count == 1
    assert report.unparsed[0].line == 0
