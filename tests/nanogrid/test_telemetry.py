from __future__ import annotations

import asyncio
import contextvars
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from harness.traces import load_spans
from nanogrid.telemetry import (
    FUNCTION_ID,
    REQUEST_ID,
    Telemetry,
    current_request_id,
    extract_dict,
    extract_sqs,
    inject_dict,
    inject_sqs,
    instrument_libraries,
    request_id_from_sqs,
    request_scope,
    set_function_id,
    setup_telemetry,
    start_request_span,
    traces_url,
)


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    tel = setup_telemetry("test", in_memory=True, set_global=False)
    yield tel
    tel.shutdown()


def finished(tel: Telemetry):
    assert tel.memory_exporter is not None
    return tel.memory_exporter.get_finished_spans()


def test_trace_id_is_the_request_id_for_root_and_children(telemetry):
    tracer = telemetry.tracer("t")
    rid = str(uuid.uuid4())
    with start_request_span(tracer, "POST /run", rid) as root, tracer.start_as_current_span("x"):
        pass
    spans = finished(telemetry)
    assert [s.name for s in spans] == ["x", "POST /run"]
    assert {s.context.trace_id for s in spans} == {uuid.UUID(rid).int}
    assert spans[1].parent is None
    assert spans[0].parent.span_id == root.get_span_context().span_id


def test_root_span_ignores_an_ambient_span(telemetry):
    tracer = telemetry.tracer("t")
    rid = str(uuid.uuid4())
    with tracer.start_as_current_span("ambient"), start_request_span(tracer, "req", rid):
        pass
    request = next(s for s in finished(telemetry) if s.name == "req")
    assert request.parent is None
    assert request.context.trace_id == uuid.UUID(rid).int


def test_trace_ids_are_random_outside_a_request(telemetry):
    tracer = telemetry.tracer("t")
    rid = str(uuid.uuid4())
    with request_scope(rid):
        pass
    for _ in range(2):
        with tracer.start_as_current_span("idle"):
            pass
    ids = {s.context.trace_id for s in finished(telemetry)}
    assert len(ids) == 2
    assert uuid.UUID(rid).int not in ids
    assert all(REQUEST_ID not in (s.attributes or {}) for s in finished(telemetry))


def test_invalid_request_id_falls_back_to_a_random_trace_id(telemetry):
    with start_request_span(telemetry.tracer("t"), "req", "not-a-uuid"):
        pass
    (span,) = finished(telemetry)
    assert span.context.trace_id != 0
    assert span.attributes[REQUEST_ID] == "not-a-uuid"


def test_every_span_carries_request_and_function_ids(telemetry):
    tracer = telemetry.tracer("t")
    rid = str(uuid.uuid4())
    with start_request_span(tracer, "process", rid):
        with tracer.start_as_current_span("before function id known"):
            pass
        set_function_id("fn-1")
        ctx = contextvars.copy_context()
        worker = threading.Thread(target=ctx.run, args=(_span_in_thread, tracer))
        worker.start()
        worker.join()
    spans = {s.name: s.attributes for s in finished(telemetry)}
    assert set(spans) == {"process", "before function id known", "in thread"}
    assert all(attrs[REQUEST_ID] == rid for attrs in spans.values())
    # the root was open when the function id became known; the early child had ended
    assert spans["process"][FUNCTION_ID] == "fn-1"
    assert spans["in thread"][FUNCTION_ID] == "fn-1"
    assert FUNCTION_ID not in spans["before function id known"]


def _span_in_thread(tracer: trace.Tracer) -> None:
    with tracer.start_as_current_span("in thread"):
        pass


def test_span_under_a_request_parent_outside_the_scope_copies_its_ids(telemetry):
    tracer = telemetry.tracer("t")
    rid = str(uuid.uuid4())
    with start_request_span(tracer, "root", rid, "fn-2") as root:
        parent = trace.set_span_in_context(root)
    # no request scope any more, but the OpenTelemetry parent is known
    with tracer.start_as_current_span("late", context=parent):
        assert current_request_id() is None
    late = next(s for s in finished(telemetry) if s.name == "late")
    assert late.attributes[REQUEST_ID] == rid
    assert late.attributes[FUNCTION_ID] == "fn-2"


def test_concurrent_asyncio_requests_keep_their_own_trace(telemetry):
    tracer = telemetry.tracer("t")
    rids = [str(uuid.uuid4()) for _ in range(3)]

    async def one(rid: str) -> None:
        with start_request_span(tracer, "req", rid):
            await asyncio.sleep(0)
            with tracer.start_as_current_span("child"):
                await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(*(one(r) for r in rids))

    asyncio.run(main())
    spans = finished(telemetry)
    assert len(spans) == 6
    for span in spans:
        assert span.context.trace_id == uuid.UUID(span.attributes[REQUEST_ID]).int


def test_exception_sets_error_status_and_event(telemetry):
    with (
        pytest.raises(ValueError, match="boom"),
        start_request_span(telemetry.tracer("t"), "req", str(uuid.uuid4())),
    ):
        raise ValueError("boom")
    (span,) = finished(telemetry)
    assert span.status.status_code == trace.StatusCode.ERROR
    assert [e.name for e in span.events] == ["exception"]


def test_sqs_inject_extract_round_trip(telemetry):
    tracer = telemetry.tracer("t")
    rid = str(uuid.uuid4())
    with start_request_span(tracer, "send", rid, kind=trace.SpanKind.PRODUCER) as producer:
        attrs = inject_sqs({"kept": {"DataType": "String", "StringValue": "v"}})
    assert attrs["kept"]["StringValue"] == "v"
    assert attrs["requestId"] == {"DataType": "String", "StringValue": rid}
    traceparent = attrs["traceparent"]["StringValue"]
    assert attrs["traceparent"]["DataType"] == "String"
    assert traceparent.split("-")[1] == uuid.UUID(rid).hex
    assert request_id_from_sqs(attrs) == rid

    parent = extract_sqs(attrs)
    remote = trace.get_current_span(parent).get_span_context()
    assert remote.is_remote
    assert remote.trace_id == uuid.UUID(rid).int
    assert remote.span_id == producer.get_span_context().span_id
    with start_request_span(tracer, "process", rid, kind=trace.SpanKind.CONSUMER, parent=parent):
        pass
    process = next(s for s in finished(telemetry) if s.name == "process")
    assert process.parent.span_id == producer.get_span_context().span_id
    assert process.context.trace_id == uuid.UUID(rid).int


def test_inject_sqs_outside_a_span_adds_only_the_request_id():
    attrs = inject_sqs(request_id="r-1")
    assert attrs == {"requestId": {"DataType": "String", "StringValue": "r-1"}}
    assert not trace.get_current_span(extract_sqs(attrs)).get_span_context().is_valid


def test_inject_sqs_stays_within_the_ten_attribute_limit(telemetry):
    full = {f"a{i}": {"DataType": "String", "StringValue": "x"} for i in range(9)}
    with start_request_span(telemetry.tracer("t"), "send", str(uuid.uuid4())):
        attrs = inject_sqs(full)
    assert len(attrs) == 10
    assert "requestId" in attrs


def test_extract_sqs_tolerates_missing_and_malformed_attributes():
    for attrs in (None, {}, {"traceparent": {"DataType": "Number", "NumberValue": "1"}}):
        assert not trace.get_current_span(extract_sqs(attrs)).get_span_context().is_valid
    assert request_id_from_sqs(None) is None


def test_dict_inject_extract_round_trip(telemetry):
    tracer = telemetry.tracer("t")
    rid = str(uuid.uuid4())
    with start_request_span(tracer, "publish", rid) as span:
        carrier = inject_dict()
    assert set(carrier) == {"traceparent"}
    remote = trace.get_current_span(extract_dict(json.loads(json.dumps(carrier))))
    assert remote.get_span_context().trace_id == uuid.UUID(rid).int
    assert remote.get_span_context().span_id == span.get_span_context().span_id
    assert inject_dict() == {}
    for junk in (None, {}, {"traceparent": "garbage"}, "text"):
        assert not trace.get_current_span(extract_dict(junk)).get_span_context().is_valid


def test_file_exporter_writes_otlp_json_lines(tmp_path):
    tel = setup_telemetry("svc", telemetry_dir=tmp_path, set_global=False)
    tracer = tel.tracer("t")
    rid = str(uuid.uuid4())
    with start_request_span(tracer, "root", rid, "fn") as root:
        root.add_event("confirmed", {"n": 1})
        with tracer.start_as_current_span("child", attributes={"ok": True, "ratio": 0.5}):
            pass
    tel.shutdown()

    path = tmp_path / f"svc-{os.getpid()}.jsonl"
    assert tel.span_file == path
    lines = path.read_text().splitlines()
    spans = [s for line in lines for s in _otlp_spans(json.loads(line))]
    assert [s["name"] for s in spans] == ["child", "root"]  # one line each, as they end
    assert len(lines) == 2
    for span in spans:
        assert span["traceId"] == uuid.UUID(rid).hex
        assert len(span["spanId"]) == 16
        int(span["spanId"], 16)
        assert isinstance(span["kind"], int)
    child = next(s for s in spans if s["name"] == "child")
    assert child["parentSpanId"] == next(s for s in spans if s["name"] == "root")["spanId"]

    records = {r.name: r for r in load_spans(tmp_path)}
    assert records["child"].attributes == {
        "ok": True,
        "ratio": 0.5,
        REQUEST_ID: rid,
        FUNCTION_ID: "fn",
    }
    assert records["root"].service == "svc"
    assert records["root"].events[0].name == "confirmed"
    assert records["root"].events[0].attributes == {"n": 1}


def _otlp_spans(data):
    return [span for rs in data["resourceSpans"] for ss in rs["scopeSpans"] for span in ss["spans"]]


class _Receiver(BaseHTTPRequestHandler):
    requests: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.path, self.headers["Content-Type"], body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def otlp_receiver() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_otlp_http_export_reaches_a_receiver(otlp_receiver):
    host, port = otlp_receiver.server_address[:2]
    tel = setup_telemetry("ctl", otlp_endpoint=f"http://{host}:{port}", set_global=False)
    rid = str(uuid.uuid4())
    with start_request_span(tel.tracer("t"), "POST /run", rid), tel.tracer("t").start_span("s"):
        pass
    tel.shutdown()

    assert otlp_receiver.requests
    names, trace_ids = set(), set()
    for path, content_type, body in otlp_receiver.requests:
        assert path == "/v1/traces"
        assert content_type == "application/x-protobuf"
        request = ExportTraceServiceRequest.FromString(body)
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                names.update(s.name for s in ss.spans)
                trace_ids.update(s.trace_id for s in ss.spans)
    assert names == {"POST /run", "s"}
    assert trace_ids == {uuid.UUID(rid).bytes}


def test_a_down_otlp_endpoint_never_breaks_nor_blocks(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # the port is closed now: connections are refused
    tel = setup_telemetry(
        "ctl", tmp_path, otlp_endpoint=f"http://127.0.0.1:{port}", set_global=False
    )
    started = time.monotonic()
    for _ in range(50):
        with start_request_span(tel.tracer("t"), "req", str(uuid.uuid4())):
            pass
    spans_time = time.monotonic() - started
    tel.flush()
    tel.shutdown()
    assert spans_time < 1.0
    assert time.monotonic() - started < 8.0
    assert len(load_spans(tmp_path)) == 50  # the file export does not suffer


def test_shutdown_is_idempotent(telemetry):
    telemetry.shutdown()
    telemetry.shutdown()
    with telemetry.tracer("t").start_as_current_span("after"):
        pass


def test_global_provider_follows_the_latest_telemetry():
    first = setup_telemetry("one", in_memory=True)
    second = setup_telemetry("two", in_memory=True)
    tracer = trace.get_tracer("global-user")
    try:
        with tracer.start_as_current_span("to second"):
            pass
        assert [s.name for s in finished(second)] == ["to second"]
        assert finished(first) == ()
        second.shutdown()
        with tracer.start_as_current_span("nowhere") as span:
            assert not span.is_recording()
    finally:
        first.shutdown()
        second.shutdown()


def test_instrumented_botocore_spans_carry_the_request_id():
    from botocore.session import get_session
    from botocore.stub import Stubber
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    was_instrumented = BotocoreInstrumentor().is_instrumented_by_opentelemetry
    tel = setup_telemetry("worker", in_memory=True)
    instrument_libraries()
    instrument_libraries()  # idempotent
    try:
        client = get_session().create_client(
            "sqs", region_name="ap-northeast-2", aws_access_key_id="x", aws_secret_access_key="x"
        )
        rid = str(uuid.uuid4())
        with Stubber(client) as stub, start_request_span(tel.tracer("t"), "req", rid, "fn"):
            stub.add_response("list_queues", {"QueueUrls": []})
            client.list_queues()
        aws = [s for s in finished(tel) if s.name != "req"]
        assert aws, "botocore made no span"
        assert all(s.attributes[REQUEST_ID] == rid for s in aws)
        assert all(s.context.trace_id == uuid.UUID(rid).int for s in aws)
    finally:
        tel.shutdown()
        if not was_instrumented:
            BotocoreInstrumentor().uninstrument()


def test_instrument_libraries_instruments_a_fastapi_app_once():
    from fastapi import FastAPI

    app = FastAPI()
    instrument_libraries(app)
    instrument_libraries(app)
    assert app._is_instrumented_by_opentelemetry


def test_traces_url_appends_the_signal_path():
    assert traces_url("http://h:4318") == "http://h:4318/v1/traces"
    assert traces_url("http://h:4318/") == "http://h:4318/v1/traces"
    assert traces_url("http://h:4318/v1/traces") == "http://h:4318/v1/traces"


def test_sigterm_flushes_spans_then_exits(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys, time, uuid
        from pathlib import Path
        from nanogrid.telemetry import setup_telemetry, start_request_span
        tel = setup_telemetry("sig", Path({str(tmp_path)!r}), set_global=False)
        tel.install_sigterm_flush()
        with start_request_span(tel.tracer("t"), "before sigterm", str(uuid.uuid4())):
            pass
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.terminate()
        assert proc.wait(timeout=10) == 143
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert [s.name for s in load_spans(tmp_path)] == ["before sigterm"]


def test_a_silent_otlp_endpoint_bounds_shutdown(tmp_path):
    # Listening but never accepting: connects succeed, no answer ever comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        tel = setup_telemetry(
            "ctl", tmp_path, otlp_endpoint=f"http://127.0.0.1:{port}", set_global=False
        )
        started = time.monotonic()
        with start_request_span(tel.tracer("t"), "req", str(uuid.uuid4())):
            pass
        assert time.monotonic() - started < 0.5
        tel.shutdown(timeout=1.0)
        assert time.monotonic() - started < 3.0
    assert [s.name for s in load_spans(tmp_path)] == ["req"]


def _official_otlp_json(spans):
    """The official protobuf encoder through protobuf's JSON mapping, ids fixed to hex."""
    import base64

    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    data = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for span in _otlp_spans(data):
        for item in [span, *span.get("links", [])]:
            for key in ("traceId", "spanId", "parentSpanId"):
                if key in item:
                    item[key] = base64.b64decode(item[key]).hex()
    return data


def test_otlp_json_encoding_matches_the_official_encoder(telemetry):
    from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, TraceFlags, TraceState

    from nanogrid.telemetry import encode_otlp_json

    tracer = telemetry.tracer("t")
    other = telemetry.provider.get_tracer("other", "1.2", schema_url="https://s")
    remote = SpanContext(
        0xABC,
        0xDEF,
        is_remote=True,
        trace_flags=TraceFlags(1),
        trace_state=TraceState([("k", "v")]),
    )
    parent = trace.set_span_in_context(NonRecordingSpan(remote))
    attrs = {"s": "x", "b": False, "i": -3, "f": 0.0, "l": ["a", "b"], "n": [1, 2], "e": []}
    with tracer.start_as_current_span(
        "remote child", context=parent, links=[Link(remote, {"a": 1})]
    ):
        with other.start_as_current_span(
            "local", kind=trace.SpanKind.CLIENT, attributes=attrs
        ) as s:
            s.add_event("ev", {"k": True})
            s.set_status(trace.StatusCode.ERROR, "why")
    with tracer.start_as_current_span("root", kind=trace.SpanKind.CONSUMER):
        pass
    spans = finished(telemetry)
    mine, official = encode_otlp_json(spans), _official_otlp_json(spans)
    assert (
        json.dumps(mine, indent=1, sort_keys=True).splitlines()
        == json.dumps(official, indent=1, sort_keys=True).splitlines()
    )


def test_the_line_encoder_writes_what_encode_otlp_json_gives(telemetry):
    from nanogrid.telemetry import encode_otlp_json
    from nanogrid.telemetry.otlp_json import OtlpJsonLineEncoder

    other = setup_telemetry("other", in_memory=True, set_global=False)
    try:
        plain = telemetry.tracer("t")
        versioned = telemetry.provider.get_tracer("v", "1.2", schema_url="https://s")
        for tracer in (plain, versioned, other.tracer("o"), plain):
            with tracer.start_as_current_span("s", attributes={"k": [1, 2]}):
                pass
        spans = [*finished(telemetry), *finished(other)]
    finally:
        other.shutdown()
    encoder = OtlpJsonLineEncoder()
    for batch in (spans[:1], spans, spans[::-1], spans):  # the last one from the cache
        expected = json.dumps(encode_otlp_json(batch), separators=(",", ":"))
        assert encoder.encode(batch) == expected
