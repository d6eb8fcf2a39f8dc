"""One trace per request, keyed by the requestId, across the controller and the workers."""

from __future__ import annotations

import gzip
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from harness import artifacts, traces
from harness.env.embedded import EmbeddedBackend
from harness.procs import free_port
from harness.stack import Stack, StackConfig, wait_until

CONTROLLER, WORKER = "nanogrid-controller", "nanogrid-worker"


def upload(client, source: str, **form) -> str:
    function_id = f"fn-{uuid.uuid4().hex[:12]}"
    files = {"file": ("f.zip", artifacts.function_zip(source), "application/zip")}
    data = {"functionId": function_id, **{k: str(v) for k, v in form.items()}}
    assert client.post("/upload", files=files, data=data).status_code == 201
    return function_id


def spans_of(stack: Stack, request_id: str, needed: set[str]) -> list[traces.SpanRecord]:
    """The request's spans, once every name in ``needed`` has been flushed to disk."""
    found: list[traces.SpanRecord] = []

    def complete() -> bool:
        found[:] = traces.spans_for_request(traces.load_spans(stack.telemetry_dir), request_id)
        names = {s.name for s in found if s.ended}
        return needed <= names

    assert wait_until(complete, timeout=20), sorted({s.name for s in found})
    return found


def by_name(spans, name: str):
    matches = [s for s in spans if s.name == name]
    assert len(matches) == 1, [s.name for s in spans]
    return matches[0]


def assert_one_complete_trace(spans, request_id: str) -> None:
    assert {s.trace_id for s in spans} == {uuid.UUID(request_id).hex}
    assert {s.service for s in spans} == {CONTROLLER, WORKER}
    ids = {s.span_id for s in spans}
    roots = [s for s in spans if not s.parent_span_id]
    assert [r.name for r in roots] == ["POST /run"]
    assert all(s.parent_span_id in ids for s in spans if s.parent_span_id)
    assert all(s.attributes.get("nanogrid.request_id") == request_id for s in spans)


def assert_causal_order(spans, request_id: str) -> None:
    channel = f"result:{request_id}"
    send = by_name(spans, "send nanogrid-tasks")
    process = by_name(spans, "process nanogrid-tasks")
    publish = by_name(spans, f"publish {channel}")
    wait = by_name(spans, f"wait {channel}")
    subscribe = by_name(spans, f"subscribe {channel}")
    assert process.parent_span_id == send.span_id
    assert subscribe.end_ns <= send.start_ns
    assert send.start_ns <= process.start_ns
    assert publish.start_ns <= wait.end_ns
    assert publish.attributes["nanogrid.publish.receivers"] == 1
    assert send.kind == 4  # PRODUCER
    assert process.kind == 5  # CONSUMER
    assert send.attributes["messaging.system"] == "aws_sqs"


WORKER_STEPS = {"process nanogrid-tasks", "execute", "store result", "metrics"}


def test_success_is_one_trace_keyed_by_the_request_id(client, stack):
    # A package no other test uploaded: the worker's code cache misses and downloads it.
    source = f"{artifacts.MEMO_SOURCE}# {uuid.uuid4()}\n"
    body = client.post("/run", json={"functionId": upload(client, source)}).json()
    rid = body["requestId"]
    spans = spans_of(stack, rid, {"POST /run", "response", *WORKER_STEPS})
    assert_one_complete_trace(spans, rid)
    assert_causal_order(spans, rid)
    execute = by_name(spans, "execute")
    assert execute.attributes["process.exit.code"] == 0
    assert execute.attributes["nanogrid.peak_memory_bytes"] > 0
    assert by_name(spans, "download").attributes["nanogrid.zip.bytes"] > 0
    wait = by_name(spans, f"wait result:{rid}")
    assert "message received" in {e.name for e in wait.events}
    assert (
        by_name(spans, "function lookup").attributes["nanogrid.function_id"] == body["functionId"]
    )


def test_failed_run_is_traced_with_an_error_status(client, stack):
    body = client.post("/run", json={"functionId": upload(client, artifacts.FAILING_SOURCE)}).json()
    assert body["status"] == "FAILED"
    rid = body["requestId"]
    spans = spans_of(stack, rid, {"POST /run", "response", *WORKER_STEPS})
    assert_one_complete_trace(spans, rid)
    assert_causal_order(spans, rid)
    execute = by_name(spans, "execute")
    assert execute.status_code == 2  # ERROR
    assert execute.attributes["process.exit.code"] == 2
    assert by_name(spans, "response").attributes["nanogrid.status"] == "FAILED"


def test_timeout_is_traced_with_the_deadline_and_the_late_publish(client, stack):
    deadline = stack.config.run_deadline
    function_id = upload(client, artifacts.hang_source(deadline + 1), timeoutSeconds=30)
    body = client.post("/run", json={"functionId": function_id}).json()
    assert body["status"] == "TIMEOUT"
    rid = body["requestId"]
    spans = spans_of(stack, rid, {"POST /run", "response", *WORKER_STEPS})
    assert_one_complete_trace(spans, rid)
    wait = by_name(spans, f"wait result:{rid}")
    publish = by_name(spans, f"publish result:{rid}")
    assert "deadline hit" in {e.name for e in wait.events}
    assert wait.end_ns < publish.start_ns
    assert publish.attributes["nanogrid.publish.receivers"] == 0
    assert by_name(spans, "response").attributes["nanogrid.status"] == "TIMEOUT"


def test_idle_polls_and_heartbeats_make_no_traces(client, stack):
    client.get("/health")
    spans = traces.load_spans(stack.telemetry_dir)
    assert spans, "the suite's runs left no spans"
    assert not [s for s in spans if s.name in ("SQS.ReceiveMessage", "GET /health")]
    unkeyed = [
        s.name for s in spans if s.service == WORKER and "nanogrid.request_id" not in s.attributes
    ]
    assert not unkeyed


def test_upload_trace_records_the_validation_outcome(client, stack):
    files = {"file": ("function.zip", artifacts.incident_empty_zip(), "application/zip")}
    resp = client.post("/upload", files=files)
    assert resp.status_code == 400
    rid = resp.headers["x-request-id"]
    spans = spans_of(stack, rid, {"POST /upload", "validate upload"})
    validate = by_name(spans, "validate upload")
    assert validate.attributes["nanogrid.upload.outcome"] == "refused"
    assert validate.attributes["nanogrid.upload.reason"] == "EMPTY_ARCHIVE"
    assert validate.status_code == 2


class OtlpReceiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP endpoint that decodes each protobuf export into ``self.server.spans``."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                self.server.spans.extend((s.trace_id.hex(), s.name) for s in scope.spans)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def otlp_receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), OtlpReceiver)
    server.spans = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def run_memo(stack: Stack) -> dict:
    with httpx.Client(base_url=stack.controller_url, timeout=30) as http:
        return http.post("/run", json={"functionId": upload(http, artifacts.MEMO_SOURCE)}).json()


@pytest.mark.parametrize("endpoint_up", [True, False])
def test_otlp_http_export_and_a_dead_collector(tmp_path, otlp_receiver, endpoint_up):
    port = otlp_receiver.server_port if endpoint_up else free_port()
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}"}
    config = StackConfig(workers=1, poll_wait=1, controller_env=otel, worker_env=otel)
    with (
        EmbeddedBackend(tmp_path / "backend") as backend,
        Stack(backend, tmp_path, config) as stack,
    ):
        body = run_memo(stack)
        assert body["status"] == "SUCCESS"
        trace_id = uuid.UUID(body["requestId"]).hex
        if endpoint_up:
            exported = lambda: {n for t, n in otlp_receiver.spans if t == trace_id}  # noqa: E731
            assert wait_until(lambda: {"POST /run", "execute"} <= exported(), timeout=20)
