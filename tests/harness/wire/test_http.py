"""The HTTP decoder and tap, on recorded botocore <-> moto traffic and AWS-style messages."""

from __future__ import annotations

import selectors
import socket
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.server import ThreadedMotoServer

from harness.wire.http import HttpDecoder, HttpMessage, HttpTap, aws_operation
from harness.wire.model import (
    DETAIL_BYTES,
    DETAIL_COMPLETE,
    DETAIL_ERROR_CODE,
    DETAIL_INTERIM,
    DETAIL_MESSAGE_IDS,
    DETAIL_METHOD,
    DETAIL_PATH,
    DETAIL_QUERY,
    DETAIL_REASON,
    DETAIL_SEQ,
    DETAIL_STATUS,
    DETAIL_TTFB_NS,
    DETAIL_TTLB_NS,
    DIRECTION_DOWNSTREAM,
    DIRECTION_UPSTREAM,
    KIND_REQUEST,
    KIND_RESPONSE,
    KIND_UNDECODED,
    PROTOCOL_HTTP,
    Emitter,
    WireEvent,
)

UP, DOWN = DIRECTION_UPSTREAM, DIRECTION_DOWNSTREAM
Transcript = list[tuple[str, bytes]]
BIG = 1_100_000  # over botocore's 1 MB threshold for Expect: 100-continue


# --- recording real traffic ------------------------------------------------------------


class Relay(socketserver.ThreadingTCPServer):
    """Forwards each connection to ``upstream``, recording what each direction carried."""

    allow_reuse_address = True

    def __init__(self, upstream_port: int) -> None:
        super().__init__(("127.0.0.1", 0), _RelayHandler)
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.transcripts: list[Transcript] = []
        self.port: int = self.server_address[1]
        self._thread = threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()  # joins the handler threads
        self._thread.join()


class _RelayHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        relay: Relay = self.server  # type: ignore[assignment]
        transcript: Transcript = []
        with relay.lock:
            relay.transcripts.append(transcript)
        client = self.request
        with socket.create_connection(("127.0.0.1", relay.upstream_port), timeout=10) as server:
            peers = {client: (server, UP), server: (client, DOWN)}
            with selectors.DefaultSelector() as selector:
                for sock in peers:
                    selector.register(sock, selectors.EVENT_READ)
                while selector.get_map() and (ready := selector.select(timeout=10)):
                    for key, _ in ready:
                        source: Any = key.fileobj
                        other, direction = peers[source]
                        data = source.recv(65536)
                        if data:
                            with relay.lock:
                                transcript.append((direction, data))
                            other.sendall(data)
                        else:
                            selector.unregister(source)
                            other.shutdown(socket.SHUT_WR)


@pytest.fixture(scope="module")
def moto_port() -> Iterator[int]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield server._server.server_address[1]
    finally:
        server.stop()


def _calls(port: int) -> dict[str, Any]:
    """The clients, and the calls to record (after the setup they need)."""
    kwargs = {
        "endpoint_url": f"http://127.0.0.1:{port}",
        "region_name": "us-east-1",
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
        "config": Config(retries={"total_max_attempts": 1}),
    }
    sqs, s3, ddb = (boto3.client(s, **kwargs) for s in ("sqs", "s3", "dynamodb"))
    sns, cw = boto3.client("sns", **kwargs), boto3.client("cloudwatch", **kwargs)
    queue = sqs.create_queue(QueueName="nanogrid-tasks")["QueueUrl"]
    s3.create_bucket(Bucket="code")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    calls = {
        "send": lambda: sqs.send_message(QueueUrl=queue, MessageBody="task-1"),
        "receive": lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0),
        "no_queue": lambda: sqs.get_queue_url(QueueName="missing"),
        "no_table": lambda: ddb.get_item(TableName="functions", Key={"id": {"S": "f"}}),
        "publish": lambda: sns.publish(TopicArn=topic, Message="m"),
        "metric": lambda: cw.put_metric_data(
            Namespace="NanoGrid", MetricData=[{"MetricName": "runs", "Value": 1}]
        ),
        "put": lambda: s3.put_object(Bucket="code", Key="fn/a.zip", Body=b"z" * BIG),
        "get": lambda: s3.get_object(Bucket="code", Key="fn/a.zip")["Body"].read(),
        "head": lambda: s3.head_object(Bucket="code", Key="fn/a.zip"),
        "no_key": lambda: s3.get_object(Bucket="code", Key="fn/missing.zip"),
        "list": lambda: s3.list_objects_v2(Bucket="code", Prefix="fn/"),
    }
    return {"clients": (sqs, s3, ddb, sns, cw), "calls": calls}


@pytest.fixture(scope="module")
def recorded(moto_port) -> dict[str, tuple[Any, Transcript]]:
    """Each call's result (or ClientError) and the one connection it used."""
    relay = Relay(moto_port)
    setup = _calls(relay.port)
    out: dict[str, tuple[Any, Transcript]] = {}
    try:
        for name, call in setup["calls"].items():
            before = len(relay.transcripts)
            try:
                result: Any = call()
            except ClientError as exc:
                result = exc
            [transcript] = relay.transcripts[before:]  # moto closes every connection
            out[name] = (result, transcript)
    finally:
        for client in setup["clients"]:
            client.close()
        relay.close()
    return out


def replay(transcript: Transcript) -> list[WireEvent]:
    events: list[WireEvent] = []
    tap = HttpTap(Emitter("worker->aws", 1, PROTOCOL_HTTP, events.append))
    for ts, (direction, data) in enumerate(transcript, start=1):
        tap.feed(direction, data, ts * 1000)
    tap.close((len(transcript) + 1) * 1000)
    return events


def shape(events: list[WireEvent]) -> list[tuple[Any, ...]]:
    untimed = [{k: v for k, v in e.detail.items() if not k.endswith("_ns")} for e in events]
    return [
        (e.direction, e.kind, e.name, e.target, d) for e, d in zip(events, untimed, strict=True)
    ]


def exchange(events: list[WireEvent]) -> tuple[WireEvent, WireEvent]:
    [request] = [e for e in events if e.kind == KIND_REQUEST]
    [response] = [e for e in events if e.kind == KIND_RESPONSE]
    assert not [e for e in events if e.kind == KIND_UNDECODED]
    assert request.detail[DETAIL_SEQ] == response.detail[DETAIL_SEQ] == 0
    assert response.detail[DETAIL_TTLB_NS] >= response.detail[DETAIL_TTFB_NS] >= 0
    return request, response


@pytest.mark.parametrize(
    ("call", "name", "target", "status", "error_code"),
    [
        ("send", "SQS.SendMessage", "nanogrid-tasks", 200, None),
        ("receive", "SQS.ReceiveMessage", "nanogrid-tasks", 200, None),
        ("no_queue", "SQS.GetQueueUrl", "missing", 400, "AWS.SimpleQueueService.NonExistentQueue"),
        ("no_table", "DynamoDB.GetItem", "functions", 400, "ResourceNotFoundException"),
        ("publish", "SNS.Publish", "alerts", 200, None),
        ("metric", "CloudWatch.PutMetricData", "NanoGrid", 200, None),
        ("put", "S3.PutObject", "code/fn/a.zip", 200, None),
        ("get", "S3.GetObject", "code/fn/a.zip", 200, None),
        ("head", "S3.HeadObject", "code/fn/a.zip", 200, None),
        ("no_key", "S3.GetObject", "code/fn/missing.zip", 404, "NoSuchKey"),
        ("list", "S3.ListObjectsV2", "code", 200, None),
    ],
)
def test_recorded_calls_are_named_and_answered(recorded, call, name, target, status, error_code):
    result, transcript = recorded[call]
    request, response = exchange(replay(transcript))
    assert (request.name, request.target) == (name, target)
    assert (response.name, response.target) == (name, target)
    assert response.detail[DETAIL_STATUS] == status
    assert response.detail.get(DETAIL_ERROR_CODE) == error_code
    if isinstance(result, ClientError):  # the code the client saw is the one recorded
        assert result.response["Error"]["Code"] == error_code


def test_message_ids_are_those_the_client_got(recorded):
    for call in ("send", "publish"):
        result, transcript = recorded[call]
        _, response = exchange(replay(transcript))
        assert response.detail[DETAIL_MESSAGE_IDS] == [result["MessageId"]]
    result, transcript = recorded["receive"]
    _, response = exchange(replay(transcript))
    assert response.detail[DETAIL_MESSAGE_IDS] == [m["MessageId"] for m in result["Messages"]]


def test_bodies_are_counted_whole(recorded):
    request, response = exchange(replay(recorded["put"][1]))
    assert (request.detail[DETAIL_METHOD], request.detail[DETAIL_BYTES]) == ("PUT", BIG)
    assert response.detail[DETAIL_INTERIM][0] == 100  # botocore waited for 100 Continue
    _, response = exchange(replay(recorded["get"][1]))
    assert response.detail[DETAIL_BYTES] == BIG
    _, response = exchange(replay(recorded["head"][1]))
    assert response.detail[DETAIL_BYTES] == 0  # HEAD: a Content-Length, and no body
    request, _ = exchange(replay(recorded["list"][1]))
    assert request.detail[DETAIL_PATH] == "/code"
    assert "list-type=2" in request.detail[DETAIL_QUERY]


@pytest.mark.parametrize("call", ["send", "no_queue", "head", "no_key"])
def test_every_split_of_a_recorded_call_gives_the_same_events(recorded, call):
    transcript = recorded[call][1]
    expected = shape(replay(transcript))
    for i, (direction, data) in enumerate(transcript):
        for offset in range(1, len(data)):
            pieces = [(direction, data[:offset]), (direction, data[offset:])]
            split = [*transcript[:i], *pieces, *transcript[i + 1 :]]
            assert shape(replay(split)) == expected, (call, i, offset)


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_random_chunkings_of_recorded_calls_give_the_same_events(recorded, data):
    for _, transcript in recorded.values():
        chunked: Transcript = []
        for direction, chunk in transcript:
            cuts = sorted(data.draw(st.lists(st.integers(0, len(chunk)), max_size=4)))
            for start, end in zip([0, *cuts], [*cuts, len(chunk)], strict=True):
                chunked.append((direction, chunk[start:end]))
        assert shape(replay(chunked)) == shape(replay(transcript))


# --- AWS-style messages ------------------------------------------------------------------


def request(method: str, target: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1:4566"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def response(status: int, headers: dict[str, str], body: bytes = b"", length: bool = True) -> bytes:
    lines = [f"HTTP/1.1 {status} X", *(f"{k}: {v}" for k, v in headers.items())]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, "
    "SignedHeaders=host, Signature=abc",
    "X-Amz-Date": "20260101T000000Z",
}
QUERY_SEND = request(
    "POST",
    "/",
    {**SIGNED, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    b"Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Flocalhost%2F123%2Ftasks"
    b"&MessageBody=hi",
)
QUERY_SENT = response(
    200,
    {"Content-Type": "text/xml"},
    b"<SendMessageResponse><SendMessageResult><MessageId>m-1</MessageId>"
    b"</SendMessageResult></SendMessageResponse>",
)
JSON_ERROR = response(
    400,
    {"Content-Type": "application/x-amz-json-1.0"},
    b'{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"no"}',
)
RECEIVE = request(
    "POST",
    "/",
    {
        **SIGNED,
        "X-Amz-Target": "AmazonSQS.ReceiveMessage",
        "Content-Type": "application/x-amz-json-1.0",
    },
    b'{"QueueUrl": "http://localhost/123/tasks", "WaitTimeSeconds": 20}',
)
CHUNKS = [b'{"Messages":[{"MessageId":', b'"m-1"},{"MessageId', b'":"m-2"}]}']
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
    + b"".join(b"%x;ext=1\r\n%s\r\n" % (len(chunk), chunk) for chunk in CHUNKS)
    + b"0\r\nX-Trailer: t\r\n\r\n"
)
CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/PutMetricData"
CBOR_TYPE = b"com.amazonaws.cloudwatch#InvalidParameterValueException"
CBOR_ERROR = response(
    400,
    {"smithy-protocol": "rpc-v2-cbor"},
    b"\xbf\x66__type\x78" + bytes([len(CBOR_TYPE)]) + CBOR_TYPE + b"\xff",
)
S3_SIGNED = {"Authorization": SIGNED["Authorization"].replace("/sqs/", "/s3/")}
GET_ZIP = request("GET", "/code/fn/a.zip", S3_SIGNED)
PUT = request("PUT", "/code/k", {**S3_SIGNED, "Expect": "100-continue"}, b"abc")
ZIP = response(200, {"Content-Type": "application/zip"}, b"PK\x03\x04" + bytes(400))


@pytest.mark.parametrize(
    ("name", "transcript", "expected"),
    [
        (
            "query protocol, XML body",
            [(UP, QUERY_SEND), (DOWN, QUERY_SENT)],
            [("SQS.SendMessage", "tasks", {DETAIL_MESSAGE_IDS: ["m-1"], DETAIL_STATUS: 200})],
        ),
        (
            "json protocol error, chunked body, pipelined keep-alive",
            [(UP, RECEIVE + RECEIVE), (DOWN, JSON_ERROR + CHUNKED)],
            [
                ("SQS.ReceiveMessage", "tasks", {DETAIL_ERROR_CODE: "QueueDoesNotExist"}),
                (
                    "SQS.ReceiveMessage",
                    "tasks",
                    {DETAIL_MESSAGE_IDS: ["m-1", "m-2"], DETAIL_BYTES: len(b"".join(CHUNKS))},
                ),
            ],
        ),
        (
            "rpc-v2-cbor error",
            [(UP, request("POST", CBOR_PATH, SIGNED, b"\xa0")), (DOWN, CBOR_ERROR)],
            [
                (
                    "CloudWatch.PutMetricData",
                    "",
                    {DETAIL_ERROR_CODE: "InvalidParameterValueException"},
                )
            ],
        ),
        (
            "expect 100-continue, then a HEAD on the same connection",
            [
                (UP, PUT[:-3]),
                (DOWN, b"HTTP/1.1 100 Continue\r\n\r\n"),
                (UP, PUT[-3:]),
                (DOWN, response(200, {"ETag": '"e"'})),
                (UP, request("HEAD", "/code/k", S3_SIGNED)),
                (DOWN, response(200, {"Content-Length": "5000"}, length=False)),
                (UP, GET_ZIP),
                (DOWN, ZIP),
            ],
            [
                ("S3.PutObject", "code/k", {DETAIL_INTERIM: [100], DETAIL_STATUS: 200}),
                ("S3.HeadObject", "code/k", {DETAIL_BYTES: 0}),
                ("S3.GetObject", "code/fn/a.zip", {DETAIL_BYTES: 404}),
            ],
        ),
        (
            "a body that ends with the connection",
            [(UP, GET_ZIP), (DOWN, response(200, {"Connection": "close"}, b"abc", length=False))],
            [("S3.GetObject", "code/fn/a.zip", {DETAIL_BYTES: 3})],
        ),
        (
            "a body cut by the close",
            [(UP, GET_ZIP), (DOWN, ZIP[:-100])],
            [("S3.GetObject", "code/fn/a.zip", {DETAIL_BYTES: 304, DETAIL_COMPLETE: False})],
        ),
    ],
)
def test_aws_style_exchanges(name, transcript, expected):
    events = replay(transcript)
    assert not [e for e in events if e.kind == KIND_UNDECODED], name
    responses = [e for e in events if e.kind == KIND_RESPONSE]
    assert len(responses) == len(expected)
    for event, (operation, target, detail) in zip(responses, expected, strict=True):
        assert (event.name, event.target) == (operation, target)
        assert {k: event.detail.get(k) for k in detail} == detail
    requests = [e for e in events if e.kind == KIND_REQUEST]
    assert [e.name for e in requests] == [operation for operation, _, _ in expected]
    for i, (direction, data) in enumerate(transcript):
        for offset in range(1, len(data)):
            pieces = [(direction, data[:offset]), (direction, data[offset:])]
            assert shape(replay([*transcript[:i], *pieces, *transcript[i + 1 :]])) == shape(events)


def test_time_to_first_and_last_byte():
    events = replay([(UP, GET_ZIP), (DOWN, ZIP[:100]), (DOWN, ZIP[100:])])
    [response_] = [e for e in events if e.kind == KIND_RESPONSE]
    # The request's last byte came at ts 1000, the response's first at 2000, its last at 3000.
    assert (response_.detail[DETAIL_TTFB_NS], response_.detail[DETAIL_TTLB_NS]) == (1000, 2000)


def test_garbage_is_one_undecoded_event_per_direction():
    events = replay([(UP, GET_ZIP + b"\x16\x03\x01garbage"), (DOWN, b"SSH-2.0-OpenSSH\r\n")])
    undecoded = [
        (e.direction, e.detail[DETAIL_REASON][:8]) for e in events if e.kind == KIND_UNDECODED
    ]
    assert undecoded == [(UP, "not HTTP"), (DOWN, "not HTTP")]
    assert [e.kind for e in events].count(KIND_REQUEST) == 1


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400), st.binary(max_size=400), st.integers(1, 64))
def test_random_bytes_never_raise(upstream, downstream, size):
    tap = HttpTap(Emitter("fuzz", 1, PROTOCOL_HTTP, lambda event: None))
    for direction, data in (
        (UP, b"GET / HTTP/1.1\r\n" + upstream),
        (DOWN, b"HTTP/1.1 " + downstream),
    ):
        for start in range(0, len(data), size):
            tap.feed(direction, data[start : start + size], start)
    tap.close(10_000)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(RECEIVE + CHUNKED) - 1), st.binary(min_size=1, max_size=3))
def test_mutated_messages_never_raise(at, junk):
    tap = HttpTap(Emitter("fuzz", 1, PROTOCOL_HTTP, lambda event: None))
    data = RECEIVE + CHUNKED
    mutated = data[:at] + junk + data[at + len(junk) :]
    tap.feed(UP, mutated[: len(RECEIVE)], 1)
    tap.feed(DOWN, mutated[len(RECEIVE) :], 2)
    tap.close(3)


def test_the_decoder_keeps_only_the_start_of_a_body():
    decoder = HttpDecoder(response=True, keep=10)
    [message] = decoder.feed(response(200, {}, b"x" * 1000), 5)
    assert (bytes(message.body), message.body_bytes, message.complete) == (b"x" * 10, 1000, True)


# --- naming ------------------------------------------------------------------------------


def named(method: str, target: str, headers: dict[str, str], body: bytes = b"") -> tuple[str, str]:
    message = HttpMessage(seq=0, method=method, target=target, complete=True)
    message.headers = {k.lower(): v for k, v in headers.items()}
    message.body += body
    message.body_bytes = len(body)
    return aws_operation(message)


@pytest.mark.parametrize(
    ("method", "target", "headers", "body", "expected"),
    [
        (
            "POST",
            "/",
            {
                "X-Amz-Target": "DynamoDB_20120810.PutItem",
                "Content-Type": "application/x-amz-json-1.0",
            },
            b'{"TableName":"fns"}',
            ("DynamoDB.PutItem", "fns"),
        ),
        (
            "POST",
            "/",
            {"X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData"},
            b"",
            ("CloudWatch.PutMetricData", ""),
        ),
        (
            "POST",
            "/",
            {"X-Amz-Target": "Kinesis_20131202.PutRecord"},
            b"",
            ("Kinesis.PutRecord", ""),
        ),
        (
            "POST",
            "/",
            {**SIGNED, "Content-Type": "application/x-www-form-urlencoded"},
            b"Action=DeleteMessage&QueueUrl=http%3A%2F%2Fh%2F1%2Fq",
            ("SQS.DeleteMessage", "q"),
        ),
        (
            "POST",
            "/1/q",
            {**SIGNED, "Content-Type": "application/x-www-form-urlencoded"},
            b"Action=DeleteMessage",
            ("SQS.DeleteMessage", "q"),
        ),
        (
            "GET",
            "/?Action=ListMetrics&Version=2010-08-01",
            {"Authorization": SIGNED["Authorization"].replace("/sqs/", "/monitoring/")},
            b"",
            ("CloudWatch.ListMetrics", ""),
        ),
        ("GET", "/code/fn/a%20b.zip", S3_SIGNED, b"", ("S3.GetObject", "code/fn/a b.zip")),
        (
            "PUT",
            "/code/k",
            {**S3_SIGNED, "x-amz-copy-source": "/code/j"},
            b"",
            ("S3.CopyObject", "code/k"),
        ),
        ("PUT", "/code", S3_SIGNED, b"", ("S3.CreateBucket", "code")),
        ("GET", "/code", S3_SIGNED, b"", ("S3.ListObjects", "code")),
        ("DELETE", "/code/k", S3_SIGNED, b"", ("S3.DeleteObject", "code/k")),
        ("POST", "/code/k?uploads", S3_SIGNED, b"", ("S3.CreateMultipartUpload", "code/k")),
        ("PUT", "/code/k?partNumber=1&uploadId=u", S3_SIGNED, b"", ("S3.UploadPart", "code/k")),
        ("PUT", "/code?versioning", S3_SIGNED, b"", ("S3.PutBucketVersioning", "code")),
        ("POST", "/code?delete", S3_SIGNED, b"", ("S3.DeleteObjects", "code")),
        ("GET", "/", S3_SIGNED, b"", ("S3.ListBuckets", "")),
        (
            "GET",
            "/fn/a.zip",
            {"Host": "code.s3.us-east-1.amazonaws.com", "x-amz-date": "x"},
            b"",
            ("S3.GetObject", "code/fn/a.zip"),
        ),
        (
            "HEAD",
            "/code/k?X-Amz-Credential=a%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=s",
            {},
            b"",
            ("S3.HeadObject", "code/k"),
        ),
        (
            "POST",
            "/2015-03-31/functions/f/invocations",
            {"Authorization": SIGNED["Authorization"].replace("/sqs/", "/lambda/")},
            b"",
            ("Lambda.POST", ""),
        ),
        ("POST", "/functions/f/run?wait=1", {}, b"", ("POST /functions/f/run", "")),
    ],
)
def test_operations_are_named(method, target, headers, body, expected):
    assert named(method, target, headers, body) == expected


def test_signatures_are_cut_from_the_recorded_query():
    events = replay([(UP, request("GET", "/code/k?X-Amz-Signature=secret&x=1", S3_SIGNED))])
    [request_] = [e for e in events if e.kind == KIND_REQUEST]
    assert request_.detail[DETAIL_QUERY] == "X-Amz-Signature=-&x=1"
