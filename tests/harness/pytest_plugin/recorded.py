"""A request's evidence as the plugin records it: written to a run directory, read back.

:func:`healthy` builds one /run request whose trace has parents linked as NanoGrid's
processes record them (controller root, subscribe, send, the worker's process span and its
publish, wait, response), its wire events and log lines, plus traffic of nobody's request;
:func:`write` puts any part of it in the evidence contract's files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from harness import traces
from harness.evidence import RESULTS_FILE, TRACE_FILE, WIRE_FILE, append_call, write_logs
from harness.traces import SpanRecord
from harness.wire.model import WireRecorder
from nanogrid.telemetry import semconv as sc
from tests.harness.analysis.builder import RunBuilder


@dataclass
class Recorded:
    builder: RunBuilder
    root: SpanRecord
    subscribe: SpanRecord
    send: SpanRecord
    process: SpanRecord
    publish: SpanRecord

    @property
    def request_id(self) -> str:
        return self.builder.request_id


def _child(b: RunBuilder, span: SpanRecord, parent: SpanRecord) -> SpanRecord:
    linked = dataclasses.replace(span, parent_span_id=parent.span_id)
    b.spans[b.spans.index(span)] = linked
    return linked


def healthy(status: str = "SUCCESS") -> Recorded:
    """A request answered ``status``; times in ms from the root span's start."""
    b = RunBuilder()
    channel = {sc.MESSAGING_DESTINATION: b.channel, sc.MESSAGING_SYSTEM: "redis"}
    root = b.span("POST /run", 0, 100, kind="server")
    subscribe = _child(b, b.span(f"subscribe {b.channel}", 5, 8, attrs=channel), root)
    send = _child(b, b.span("send nanogrid-tasks", 9, 12, kind="producer"), root)
    worker = {"worker": "worker-1"}
    process = _child(
        b, b.worker_span("process nanogrid-tasks", 15, 90, kind="consumer", **worker), send
    )
    publish_attrs = {**channel, sc.PUBLISH_RECEIVERS: 1}
    publish = b.worker_span(f"publish {b.channel}", 60, 62, attrs=publish_attrs, **worker)
    publish = _child(b, publish, process)
    _child(b, b.span(f"wait {b.channel}", 13, 63), root)
    _child(b, b.span("response", 95, 96), root)
    b.call("run", 0, 100, 200, {"status": status, "requestId": b.request_id})
    b.exchange(5, "controller->redis", "SUBSCRIBE", b.channel, answer_ms=7)
    b.exchange(61, "worker->redis", "PUBLISH", b.channel, answer_ms=61.5, receivers=1)
    b.pushed(62, status)
    b.exchange(1, "worker->sqs", "SQS.ReceiveMessage", "nanogrid-tasks", answer_ms=14)
    b.log(0, "controller", sc.RUN_CALLED, "/run called")
    b.log(61, "worker-1", sc.RESULT_PUBLISHED, "published", fields={"receivers": 1})
    b.log(70, "controller", None, "a line of no request", request=False)
    return Recorded(b, root, subscribe, send, process, publish)


def write(run_dir: Path, recorded: Recorded, spans: list[SpanRecord] | None = None) -> None:
    """Write the run's files: its calls, logs, wire, and ``spans`` (default: all of them)."""
    b = recorded.builder
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / RESULTS_FILE).unlink(missing_ok=True)
    for call in b.calls:
        append_call(run_dir, call)
    write_logs(run_dir, b.logs)
    WireRecorder(b.wire).write_jsonl(run_dir / WIRE_FILE)
    traces.write_otlp_jsonl(b.spans if spans is None else spans, run_dir / TRACE_FILE)
