"""Spans reach the span file as they end, long steps as they start: a SIGKILL loses nothing
that had ended, and leaves the steps it interrupted as "started, never finished"."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from harness.traces import load_spans
from nanogrid.telemetry import (
    REQUEST_ID,
    CrashSafeSpanProcessor,
    OtlpJsonFileExporter,
    setup_telemetry,
    start_request_span,
)
from nanogrid.telemetry.crashsafe import is_long_step
from nanogrid.telemetry.semconv import LONG_STEP_PREFIXES, SPAN_STATE, SPAN_STATE_STARTED

CRASHING_WORKER = """
import os, signal, sys
from pathlib import Path
from opentelemetry.trace import SpanKind
from nanogrid.telemetry import setup_telemetry, start_request_span

telemetry = setup_telemetry("worker", telemetry_dir=Path(sys.argv[1]), set_global=False)
tracer = telemetry.tracer("crash")
with start_request_span(tracer, "process q", sys.argv[2], "fn-1", kind=SpanKind.CONSUMER):
    with tracer.start_as_current_span("download", attributes={"nanogrid.zip.bytes": 34}):
        pass
    with tracer.start_as_current_span("validate and extract"):
        pass
    with tracer.start_as_current_span("execute", attributes={"process.command_args": ["x"]}):
        os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_sigkilled_worker_leaves_its_ended_spans_and_its_open_steps(tmp_path):
    rid = str(uuid.uuid4())
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASHING_WORKER), str(tmp_path), rid],
        cwd=Path.cwd(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr

    spans = load_spans(tmp_path)
    assert [(s.name, s.ended) for s in spans] == [
        ("process q", False),
        ("download", True),
        ("validate and extract", True),
        ("execute", False),
    ]
    process, download, extract, execute = spans
    assert process.parent_span_id == ""
    assert {download.parent_span_id, extract.parent_span_id, execute.parent_span_id} == {
        process.span_id
    }
    assert {s.trace_id for s in spans} == {uuid.UUID(rid).hex}
    assert {s.service for s in spans} == {"worker"}
    # The start record carries what was known at start; the open span has no end.
    assert process.kind == 5  # CONSUMER
    assert process.attributes["nanogrid.function_id"] == "fn-1"
    assert process.attributes[REQUEST_ID] == rid
    assert execute.attributes["process.command_args"] == ["x"]
    assert SPAN_STATE not in execute.attributes
    assert (execute.end_ns, execute.duration_ns) == (0, 0)
    assert 0 < process.start_ns <= download.start_ns <= extract.start_ns <= execute.start_ns
    assert download.attributes["nanogrid.zip.bytes"] == 34
    assert download.duration_ns > 0


def _otlp_spans(path: Path) -> list[dict]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [
        span
        for line in lines
        for rs in line["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]


def test_each_span_is_written_as_it_ends_long_steps_also_as_they_start(tmp_path):
    telemetry = setup_telemetry("svc", telemetry_dir=tmp_path, set_global=False)
    tracer = telemetry.tracer("t")
    assert telemetry.span_file is not None
    try:
        with start_request_span(tracer, "process q", str(uuid.uuid4())) as process:
            written = [s["name"] for s in _otlp_spans(telemetry.span_file)]
            assert written == ["process q"]
            with tracer.start_as_current_span("store result"):
                pass
            written = [s["name"] for s in _otlp_spans(telemetry.span_file)]
            assert written == ["process q", "store result"]
            process_id = f"{process.get_span_context().span_id:016x}"
    finally:
        telemetry.shutdown()
    started, stored, ended = _otlp_spans(telemetry.span_file)
    assert "endTimeUnixNano" not in started
    assert {"key": SPAN_STATE, "value": {"stringValue": SPAN_STATE_STARTED}} in started[
        "attributes"
    ]
    assert started["spanId"] == ended["spanId"] == process_id
    assert started["startTimeUnixNano"] == ended["startTimeUnixNano"]
    assert int(ended["endTimeUnixNano"]) >= int(ended["startTimeUnixNano"])
    assert all(a["key"] != SPAN_STATE for s in (stored, ended) for a in s["attributes"])


def test_a_normal_run_reads_back_every_span_once_and_ended(tmp_path):
    telemetry = setup_telemetry("svc", telemetry_dir=tmp_path, set_global=False)
    tracer = telemetry.tracer("t")
    with start_request_span(tracer, "process q", str(uuid.uuid4())):
        for name in ("download", "validate and extract", "execute", "store result"):
            with tracer.start_as_current_span(name):
                pass
    telemetry.shutdown()
    assert telemetry.span_file is not None
    assert len(_otlp_spans(telemetry.span_file)) == 8  # 3 long steps + 5 ended records
    spans = load_spans(tmp_path)
    assert [s.name for s in spans] == [
        "process q",
        "download",
        "validate and extract",
        "execute",
        "store result",
    ]
    assert all(s.ended for s in spans)
    assert all(SPAN_STATE not in s.attributes for s in spans)


def memory_tracer(**kwargs) -> tuple[trace.Tracer, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    resource = Resource.create({"service.name": "mem"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(CrashSafeSpanProcessor(exporter, **kwargs))
    return provider.get_tracer("t", "1.0"), exporter


def test_the_start_record_is_the_span_as_known_at_start():
    tracer, exporter = memory_tracer()
    with tracer.start_as_current_span("parent") as parent:
        step = tracer.start_span("execute", kind=trace.SpanKind.CLIENT, attributes={"n": 1})
        step.set_attribute("later", True)
        (record,) = exporter.get_finished_spans()
        step.end()
    assert record.name == "execute"
    assert record.end_time is None
    assert record.start_time == step.start_time
    assert record.context == step.get_span_context()
    assert record.parent == parent.get_span_context()
    assert record.kind == trace.SpanKind.CLIENT
    assert dict(record.attributes or {}) == {"n": 1, SPAN_STATE: SPAN_STATE_STARTED}
    assert record.resource.attributes["service.name"] == "mem"
    assert record.instrumentation_scope is not None
    assert record.instrumentation_scope.version == "1.0"
    names = [(s.name, s.end_time is not None) for s in exporter.get_finished_spans()]
    assert names == [("execute", False), ("execute", True), ("parent", True)]
    ended = exporter.get_finished_spans()[1]
    assert dict(ended.attributes or {}) == {"n": 1, "later": True}


def test_which_spans_are_long_steps_is_a_parameter():
    assert LONG_STEP_PREFIXES == ("process ", "download", "execute")
    assert is_long_step("process nanogrid-tasks")
    assert is_long_step("download")
    assert not is_long_step("processing")
    assert not is_long_step("store result")
    tracer, exporter = memory_tracer(long_step=lambda name: name == "slow")
    for name in ("slow", "execute"):
        with tracer.start_as_current_span(name):
            pass
    assert [s.name for s in exporter.get_finished_spans()] == ["slow", "slow", "execute"]


class BrokenExporter(InMemorySpanExporter):
    def export(self, spans):
        raise OSError("disk full")


def test_a_failing_exporter_never_raises_into_the_caller(caplog):
    provider = TracerProvider()
    provider.add_span_processor(CrashSafeSpanProcessor(BrokenExporter()))
    tracer = provider.get_tracer("t")
    with caplog.at_level(logging.ERROR, logger="nanogrid.telemetry.crashsafe"):
        with tracer.start_as_current_span("execute"), tracer.start_as_current_span("child"):
            pass
    failures = [r.getMessage() for r in caplog.records]
    assert failures == [
        "exporting span 'execute' failed",
        "exporting span 'child' failed",
        "exporting span 'execute' failed",
    ]


def test_concurrent_spans_each_get_a_whole_line(tmp_path):
    path = tmp_path / "spans.jsonl"
    exporter = OtlpJsonFileExporter(path)
    provider = TracerProvider()
    provider.add_span_processor(CrashSafeSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        barrier.wait()
        for i in range(50):
            with tracer.start_as_current_span(f"execute {n}.{i}", attributes={"pad": "x" * 500}):
                pass

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    provider.shutdown()
    assert exporter.export([]) == SpanExportResult.SUCCESS
    spans = _otlp_spans(path)  # every line parses
    assert len(spans) == 8 * 50 * 2
    assert len(load_spans(path)) == 8 * 50


@pytest.mark.parametrize("state", ["started", "ended"])
def test_a_span_in_a_line_cut_short_by_a_kill_is_skipped(tmp_path, state):
    telemetry = setup_telemetry("svc", telemetry_dir=tmp_path, set_global=False)
    with telemetry.tracer("t").start_as_current_span("execute"):
        pass
    telemetry.shutdown()
    assert telemetry.span_file is not None
    started, ended = telemetry.span_file.read_text().splitlines()
    # A kill mid-write leaves at most the last line partial: the reader skips it.
    kept = started if state == "started" else ended
    telemetry.span_file.write_text(kept + "\n" + (ended if kept is started else started)[:40])
    (span,) = load_spans(tmp_path)
    assert span.ended is (state == "ended")
