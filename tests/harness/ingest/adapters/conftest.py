"""Spans written by the platform's own telemetry (its OTLP JSON file exporter)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from opentelemetry import trace

from nanogrid.telemetry import extract_sqs, inject_sqs, setup_telemetry, start_request_span
from nanogrid.telemetry import semconv as sc


def run_request(telemetry_dir: Path, rid: str) -> None:
    """A controller and a worker tracing one request, with a step left open (a crash)."""
    controller = setup_telemetry("nanogrid-controller", telemetry_dir, set_global=False)
    worker = setup_telemetry(
        "nanogrid-worker",
        telemetry_dir,
        set_global=False,
        resource_attributes={sc.SERVICE_INSTANCE: "worker-1"},
    )
    ctl, wrk = controller.tracer("c"), worker.tracer("w")
    with start_request_span(ctl, "POST /run", rid, "fn-1") as root:
        root.add_event(sc.EV_SUBSCRIBE_CONFIRMED, {"channel": f"result:{rid}"})
        with ctl.start_as_current_span(
            "send nanogrid-tasks",
            kind=trace.SpanKind.PRODUCER,
            attributes={sc.MESSAGING_SYSTEM: "aws_sqs", sc.MESSAGING_DESTINATION: "q"},
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
            wrk.start_as_current_span(
                sc.SPAN_EXECUTE,
                attributes={
                    sc.EXIT_CODE: 2,
                    sc.COMMAND_ARGS: ["python", "main.py"],
                    sc.DURATION_MS: 312.5,
                    sc.TIMED_OUT: False,
                },
            ) as run,
        ):
            run.set_status(trace.StatusCode.ERROR, "exit code 2")
            wrk.start_span(sc.SPAN_DOWNLOAD)  # never ended: only its start record is written
    controller.shutdown()
    worker.shutdown()


@pytest.fixture
def telemetry_dir(tmp_path: Path) -> Path:
    """Span files of two requests, as the platform's processes write them."""
    folder = tmp_path / "telemetry"
    for _ in range(2):
        run_request(folder, str(uuid.uuid4()))
    return folder
