from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from opentelemetry import trace

from harness.traces import (
    SpanRecord,
    causal_order,
    load_spans,
    parse_otlp_json,
    render_tree,
    spans_for_request,
    to_jaeger,
    write_otlp_jsonl,
)
from nanogrid.telemetry import extract_sqs, inject_sqs, setup_telemetry, start_request_span

JAEGER_TAG_TYPES = {"string", "bool", "int64", "float64", "binary"}


def _run_request(telemetry_dir: Path, rid: str) -> None:
    """A controller and a worker, each with its own span file, tracing one request."""
    controller = setup_telemetry("controller", telemetry_dir, set_global=False)
    worker = setup_telemetry("worker", telemetry_dir, set_global=False)
    ctl, wrk = controller.tracer("c"), worker.tracer("w")
    with start_request_span(ctl, "POST /run", rid, "fn-1") as root:
        root.add_event("subscribe confirmed")
        with ctl.start_as_current_span(
            "send nanogrid-tasks",
            kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.system": "aws_sqs", "messaging.destination.name": "q"},
        ):
            attrs = inject_sqs()
        with (
            start_request_span(
                wrk,
                "process nanogrid-tasks",
                rid,
                kind=trace.SpanKind.CONSUMER,
                parent=extract_sqs(attrs),
            ),
            wrk.start_as_current_span("execute", attributes={"process.exit_code": 1}) as run,
        ):
            run.set_status(trace.StatusCode.ERROR, "exit code 1")
    controller.shutdown()
    worker.shutdown()


@pytest.fixture
def request_trace(tmp_path) -> tuple[str, list[SpanRecord]]:
    rid = str(uuid.uuid4())
    _run_request(tmp_path, rid)
    _run_request(tmp_path, str(uuid.uuid4()))  # another request in the same files
    return rid, spans_for_request(load_spans(tmp_path), rid)


def test_one_request_spans_both_services_with_every_parent(request_trace):
    rid, spans = request_trace
    assert [s.name for s in spans] == [
        "POST /run",
        "send nanogrid-tasks",
        "process nanogrid-tasks",
        "execute",
    ]
    assert {s.trace_id for s in spans} == {uuid.UUID(rid).hex}
    assert {s.service for s in spans} == {"controller", "worker"}
    ids = {s.span_id for s in spans}
    roots = [s for s in spans if not s.parent_span_id]
    assert [r.name for r in roots] == ["POST /run"]
    assert all(s.parent_span_id in ids for s in spans if s.parent_span_id)
    assert spans[3].status_code == 2
    assert spans[3].status_message == "exit code 1"
    assert spans[1].kind == 4


def test_render_tree_shows_services_offsets_status_and_key_attributes(request_trace):
    rid, spans = request_trace
    text = render_tree(spans)
    lines = text.splitlines()
    assert lines[0].startswith(f"trace {uuid.UUID(rid).hex}  request={rid} function=fn-1")
    assert lines[1].startswith("POST /run [controller] server +0.0ms ")
    assert "· subscribe confirmed +" in lines[2]
    send = next(line for line in lines if "send nanogrid-tasks" in line)
    assert send.startswith("└─ send nanogrid-tasks [controller] producer +")
    assert "messaging.system=aws_sqs" in send
    execute = next(line for line in lines if "execute" in line)
    assert "└─ execute [worker]" in execute
    assert "ERROR(exit code 1)" in execute
    assert "process.exit_code=1" in execute
    assert "nanogrid.request_id" not in text  # in the header, not on every line
    assert "missing" not in text


def test_render_tree_flags_a_span_whose_parent_is_missing(request_trace):
    _, spans = request_trace
    text = render_tree(spans[2:])
    assert f"[parent {spans[1].span_id} missing]" in text.splitlines()[1]
    assert render_tree([]) == "(no spans)"


def test_jaeger_json_has_the_fields_jaeger_ui_needs(request_trace):
    rid, spans = request_trace
    doc = json.loads(json.dumps(to_jaeger(spans)))
    (jtrace,) = doc["data"]
    assert jtrace["traceID"] == uuid.UUID(rid).hex
    assert jtrace["warnings"] is None
    services = {p["serviceName"] for p in jtrace["processes"].values()}
    assert services == {"controller", "worker"}
    by_id = {s["spanID"]: s for s in jtrace["spans"]}
    for record, jspan in zip(spans, jtrace["spans"], strict=True):
        assert set(jspan) >= {
            "traceID",
            "spanID",
            "operationName",
            "references",
            "startTime",
            "duration",
            "tags",
            "logs",
            "processID",
            "warnings",
            "flags",
        }
        assert jspan["operationName"] == record.name
        assert jspan["startTime"] == record.start_ns // 1000  # microseconds
        assert jspan["duration"] == record.duration_ns // 1000
        assert 1.5e15 < jspan["startTime"] < 1e17
        assert jspan["processID"] in jtrace["processes"]
        assert all(t["type"] in JAEGER_TAG_TYPES for t in jspan["tags"])
        for ref in jspan["references"]:
            assert ref["refType"] == "CHILD_OF"
            assert ref["traceID"] == jtrace["traceID"]
            assert ref["spanID"] in by_id
    root = by_id[spans[0].span_id]
    assert root["references"] == []
    assert root["logs"][0]["fields"][0] == {
        "key": "event",
        "type": "string",
        "value": "subscribe confirmed",
    }
    execute_tags = {t["key"]: t for t in by_id[spans[3].span_id]["tags"]}
    assert execute_tags["error"] == {"key": "error", "type": "bool", "value": True}
    assert execute_tags["process.exit_code"] == {
        "key": "process.exit_code",
        "type": "int64",
        "value": 1,
    }
    assert execute_tags["span.kind"]["value"] == "internal"


def test_write_otlp_jsonl_round_trips(request_trace, tmp_path):
    _, spans = request_trace
    out = tmp_path / "bundle" / "trace.otlp.jsonl"
    assert write_otlp_jsonl(spans, out) == 2  # one line per process
    again = load_spans(out)
    assert again == spans
    assert {s.service for s in again} == {"controller", "worker"}


def test_write_otlp_jsonl_of_records_built_in_code(tmp_path):
    record = SpanRecord(
        trace_id="ab" * 16,
        span_id="cd" * 8,
        parent_span_id="",
        name="x",
        kind=1,
        service="svc",
        start_ns=1_000_000,
        end_ns=3_000_000,
        attributes={"n": 3, "f": 0.5, "b": False, "l": ["a", 1], "m": {"k": "v"}},
    )
    out = tmp_path / "x.jsonl"
    write_otlp_jsonl([record], out)
    (loaded,) = load_spans(out)
    assert loaded == record


def test_load_spans_skips_broken_lines_and_converts_base64_ids(tmp_path):
    line = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "other"}},
                    ]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "s"},
                        "spans": [
                            {
                                "traceId": "q83vEjRWeJCrze8SNFZ4kA==",
                                "spanId": "EjRWeJCrze8=",
                                "name": "b64",
                                "kind": 3,
                                "startTimeUnixNano": "10",
                                "endTimeUnixNano": 25,
                                "attributes": [
                                    {"key": "big", "value": {"intValue": "9007199254740993"}}
                                ],
                            }
                        ],
                    }
                ],
            }
        ]
    }
    path = tmp_path / "other-1.jsonl"
    path.write_text(json.dumps(line) + "\n{not json\n\n")
    (span,) = load_spans([path])
    assert span.trace_id == "abcdef1234567890abcdef1234567890"
    assert span.span_id == "1234567890abcdef"
    assert span.duration_ns == 15
    assert span.attributes == {"big": 9007199254740993}
    assert span.service == "other"
    assert parse_otlp_json({}) == []


def test_trace_command_prints_the_tree_and_writes_jaeger_json(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from harness.cli import app

    rid = str(uuid.uuid4())
    _run_request(tmp_path / "telemetry", rid)
    _run_request(tmp_path / "telemetry", str(uuid.uuid4()))
    monkeypatch.delenv("NANOGRID_TELEMETRY_DIR", raising=False)
    jaeger = tmp_path / "trace.jaeger.json"
    args = ["trace", rid, "--telemetry-dir", str(tmp_path / "telemetry"), "--jaeger", str(jaeger)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "process nanogrid-tasks" in result.output
    assert uuid.UUID(rid).hex in result.output
    traces_in_file = json.loads(jaeger.read_text())["data"]
    assert [t["traceID"] for t in traces_in_file] == [uuid.UUID(rid).hex]
    missing = CliRunner().invoke(
        app, ["trace", str(uuid.uuid4()), "--telemetry-dir", str(tmp_path / "telemetry")]
    )
    assert missing.exit_code == 1
    assert "no spans" in missing.output


def span(name: str, span_id: str, parent: str = "", start: int = 1_000, **kw) -> SpanRecord:
    """A span of trace ``ab…`` built in code; ids are short hex, padded."""
    fields = {
        "trace_id": "ab" * 16,
        "span_id": span_id.rjust(16, "0"),
        "parent_span_id": parent.rjust(16, "0") if parent else "",
        "name": name,
        "kind": 1,
        "service": "svc",
        "start_ns": start,
        "end_ns": start + 500,
        **kw,
    }
    return SpanRecord(**fields)


def test_an_ended_record_supersedes_the_start_record_in_any_order(tmp_path):
    started = span("execute", "1", open=True, end_ns=0)
    ended = span("execute", "1", attributes={"process.exit.code": 0})
    write_otlp_jsonl([started], tmp_path / "a-1.jsonl")
    write_otlp_jsonl([ended], tmp_path / "b-1.jsonl")
    write_otlp_jsonl([started], tmp_path / "c-1.jsonl")  # read after the ended one
    (merged,) = load_spans(tmp_path)
    assert merged.ended
    assert merged == ended
    assert merged.duration_ns == 500


def test_a_span_with_only_a_start_record_is_open(tmp_path):
    telemetry = setup_telemetry("worker", tmp_path, set_global=False)
    step = telemetry.tracer("w").start_span("execute", attributes={"n": 1})
    try:
        (open_span,) = load_spans(tmp_path)
    finally:
        step.end()
        telemetry.shutdown()
    assert not open_span.ended
    assert open_span.open
    assert (open_span.end_ns, open_span.duration_ns) == (0, 0)
    assert open_span.start_ns > 0
    assert open_span.attributes == {"n": 1}  # the marker is read into ``open``
    assert open_span.span_id == f"{step.get_span_context().span_id:016x}"
    (closed,) = load_spans(tmp_path)
    assert closed.ended
    assert closed.span_id == open_span.span_id


def test_spans_written_child_first_are_read_parent_first(tmp_path):
    # Written as they end, children first; the worker's clock runs 1 us behind, so the
    # child also *starts* before its parent by the timestamps.
    records = [
        span("download", "3", parent="2", start=1_200),
        span("execute", "4", parent="2", start=900),
        span("process q", "2", parent="1", start=1_000),
        span("POST /run", "1", start=1_100),
        span("orphan late", "6", parent="5", start=1_050),
        span("orphan early", "7", parent="5", start=100),
    ]
    write_otlp_jsonl(records, tmp_path / "x-1.jsonl")
    names = [s.name for s in load_spans(tmp_path)]
    assert names == [
        "orphan early",
        "orphan late",
        "POST /run",
        "process q",
        "execute",
        "download",
    ]
    assert [s.name for s in spans_for_request(reversed(records), "ab" * 16)] == names


def test_a_parent_cycle_loses_no_span():
    records = [span("a", "1", parent="2", start=5), span("b", "2", parent="1", start=3)]
    assert [s.name for s in causal_order(records)] == ["b", "a"]


def test_open_spans_render_as_started_never_finished_and_round_trip(tmp_path):
    records = [
        span("process q", "1", start=1_000_000, open=True, end_ns=0),
        span("download", "2", parent="1", start=2_000_000),
        span("execute", "3", parent="1", start=3_000_000, open=True, end_ns=0),
    ]
    out = tmp_path / "x.jsonl"
    write_otlp_jsonl(records, out)
    assert load_spans(out) == records
    raw = json.loads(out.read_text())["resourceSpans"][0]["scopeSpans"][0]["spans"][2]
    assert "endTimeUnixNano" not in raw
    assert {"key": "nanogrid.span.state", "value": {"stringValue": "started"}} in raw["attributes"]
    again = tmp_path / "again.jsonl"
    write_otlp_jsonl(load_spans(out), again)
    assert load_spans(again) == records

    lines = render_tree(records).splitlines()
    assert lines[1].startswith("process q [svc] internal +0.0ms [open] UNSET")
    assert "download [svc] internal +1.0ms 0.0ms UNSET" in lines[2]
    assert "[open]" not in lines[2]
    assert "execute [svc] internal +2.0ms [open] UNSET" in lines[3]

    jspans = {s["operationName"]: s for s in to_jaeger(records)["data"][0]["spans"]}
    state = {"key": "nanogrid.span.state", "type": "string", "value": "started"}
    assert jspans["execute"]["duration"] == 0
    assert state in jspans["execute"]["tags"]
    assert state in jspans["process q"]["tags"]
    assert all(t["key"] != "nanogrid.span.state" for t in jspans["download"]["tags"])
