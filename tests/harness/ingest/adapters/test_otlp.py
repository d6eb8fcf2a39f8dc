"""OTLP JSON spans: the platform's span files, line by line or as one document."""

from __future__ import annotations

import json

from harness import traces
from harness.ingest import ingest


def test_span_files_give_the_spans_load_spans_gives(telemetry_dir):
    found = ingest([telemetry_dir])
    expected = traces.load_spans(telemetry_dir)
    assert found.evidence.spans == expected
    assert any(s.open for s in expected)  # the start record of the step never finished
    assert {r.kind for r in found.sources} == {"otlp-json"}
    assert all(r.unparsed_count == 0 and r.lines_parsed == r.lines_read for r in found.sources)


def test_a_pretty_printed_otlp_document_is_read_whole(telemetry_dir, tmp_path):
    [first, *_] = traces.span_files(telemetry_dir)
    line = first.read_text().splitlines()[0]
    doc = tmp_path / "export.json"
    doc.write_text(json.dumps(json.loads(line), indent=2))
    found = ingest([doc])
    assert found.evidence.spans == traces.causal_order(traces.parse_otlp_json(json.loads(line)))
    assert found.sources[0].kind == "otlp-json"


def test_lines_that_are_not_spans_are_kept_unparsed(telemetry_dir, tmp_path):
    [first, *_] = traces.span_files(telemetry_dir)
    lines = first.read_text().splitlines()
    mixed = tmp_path / "spans.jsonl"
    bad = '{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": 1}]}]}]}'
    mixed.write_text("\n".join([lines[0], '{"other": 1}', bad, "{half"]) + "\n")
    [report] = ingest([mixed]).sources
    assert report.kind == "otlp-json"
    assert [u.line for u in report.unparsed] == [2, 3, 4]
    assert report.lines_parsed == 1
