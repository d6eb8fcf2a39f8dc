"""Whatever a file holds, ingesting it either gives evidence or the documented
"nothing usable" error, never another exception."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.analysis import diagnose
from harness.ingest import NothingUsable, ingest
from harness.ingest.adapters.jsonlog import (
    LEVEL_KEYS,
    MESSAGE_KEYS,
    REQUEST_KEYS,
    TIME_KEYS,
    WRITER_KEYS,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
known_keys = st.sampled_from(
    [
        *TIME_KEYS,
        *LEVEL_KEYS,
        *MESSAGE_KEYS,
        *WRITER_KEYS,
        *REQUEST_KEYS,
        "event",
        "name",
        "hostname",
        "pid",
        "status",
        "requestId",
        "exitCode",
        "error",
        "kind",
        "body",
        "startNs",
        "endNs",
        "data",
        "resourceSpans",
        "spans",
        "traceID",
        "levelno",
        "severity_number",
        "source",
    ]
)
records = st.dictionaries(known_keys | st.text(max_size=6), json_values, max_size=8)


def ingest_bytes(content: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            found = ingest([path])
        except NothingUsable:
            return
        assert found.sources[0].path == path
        diagnose(found.evidence)  # what came out is evidence the analysis can read


@SETTINGS
@given(st.binary(max_size=2048), st.sampled_from(["worker.log", "x.json", "controller.jsonl"]))
def test_arbitrary_bytes(content, name):
    ingest_bytes(content, name)


@SETTINGS
@given(st.lists(records, min_size=1, max_size=4), st.booleans())
def test_arbitrary_json_objects_as_lines_or_a_document(objects, as_document):
    if as_document:
        content = json.dumps(objects if len(objects) > 1 else objects[0], indent=1)
    else:
        content = "".join(json.dumps(o) + "\n" for o in objects)
    ingest_bytes(content.encode("utf-8", "surrogatepass"), "evidence.json")


@SETTINGS
@given(st.lists(st.text(max_size=80), min_size=1, max_size=6))
def test_arbitrary_text_lines_after_a_log_line(lines):
    head = "07:40:19.996 [INFO] Successfully downloaded zip file: 34 bytes\n"
    ingest_bytes((head + "\n".join(lines)).encode("utf-8", "surrogatepass"), "worker.log")


span_fields = st.dictionaries(
    st.sampled_from(
        [
            "traceID",
            "spanID",
            "operationName",
            "references",
            "startTime",
            "duration",
            "tags",
            "logs",
            "processID",
            "process",
            "parentSpanID",
            "traceId",
            "spanId",
            "name",
            "kind",
            "startTimeUnixNano",
            "endTimeUnixNano",
            "attributes",
            "events",
            "links",
            "status",
            "parentSpanId",
        ]
    ),
    json_values
    | st.sampled_from(["01", "ab" * 8, 1_764_661_219_996_000])
    | st.lists(records, max_size=2),
    max_size=12,
)


@SETTINGS
@given(st.lists(span_fields, min_size=1, max_size=3), st.booleans())
def test_arbitrary_spans_in_jaeger_and_otlp_shapes(spans, jaeger):
    if jaeger:
        doc = {"data": [{"traceID": "ab", "spans": spans, "processes": {"p1": {"serviceName": 1}}}]}
        content = json.dumps(doc, indent=1)
    else:
        doc = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": spans}]}]}
        content = json.dumps(doc) + "\n"
    ingest_bytes(content.encode(), "spans.json")
