"""AWS error answers, judged by botocore: real clients against a server that sends them.

The expected statuses and codes are typed out here, not read from ``PRESETS``: they are
what each service returns (its botocore model, the AWS documentation), so a wrong preset
fails these tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import socketserver
import threading
import time
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import QueryParser, ResponseParser, RestJSONParser, RpcV2CBORParser
from botocore.retries import standard

from harness.faults.aws_errors import (
    DEFAULT_SERVICE,
    PRESETS,
    AwsErrorAnswer,
    Protocol,
    describe,
    error_response,
    protocol_of,
)
from harness.faults.errors import InvalidFault
from harness.faults.kinds import aws_error
from harness.wire.http import HttpDecoder, HttpMessage, aws_operation, error_code

PRESET_NAMES = ("throttling", "internal", "unavailable", "access_denied")
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/nanogrid-tasks"
SIGNED = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{}/aws4_request, Signature=0"

#: (client service, preset) -> (status, Error.Code, exception class botocore raises).
EXPECTED = {
    # SQS (JSON, awsQueryCompatible): the code is the x-amzn-query-error one
    ("sqs", "throttling"): (403, "RequestThrottled", "RequestThrottled"),
    ("sqs", "internal"): (500, "InternalFailure", "ClientError"),
    ("sqs", "unavailable"): (503, "ServiceUnavailable", "ClientError"),
    ("sqs", "access_denied"): (403, "AccessDenied", "ClientError"),
    ("s3", "throttling"): (503, "SlowDown", "ClientError"),
    ("s3", "internal"): (500, "InternalError", "ClientError"),
    ("s3", "unavailable"): (503, "ServiceUnavailable", "ClientError"),
    ("s3", "access_denied"): (403, "AccessDenied", "AccessDenied"),
    ("dynamodb", "throttling"): (
        400,
        "ProvisionedThroughputExceededException",
        "ProvisionedThroughputExceededException",
    ),
    ("dynamodb", "internal"): (500, "InternalServerError", "InternalServerError"),
    ("dynamodb", "unavailable"): (503, "ServiceUnavailable", "ClientError"),
    ("dynamodb", "access_denied"): (400, "AccessDeniedException", "ClientError"),
    ("cloudwatch", "throttling"): (400, "Throttling", "ClientError"),
    ("cloudwatch", "internal"): (500, "InternalServiceError", "InternalServiceFault"),
    ("cloudwatch", "unavailable"): (503, "ServiceUnavailable", "ClientError"),
    ("cloudwatch", "access_denied"): (403, "AccessDenied", "ClientError"),
}

#: call -> (client service, AWS operation name, the call).
CALLS: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
    "sqs.receive_message": (
        "sqs",
        "SQS.ReceiveMessage",
        lambda c: c.receive_message(QueueUrl=QUEUE_URL, WaitTimeSeconds=0),
    ),
    "sqs.send_message": (
        "sqs",
        "SQS.SendMessage",
        lambda c: c.send_message(QueueUrl=QUEUE_URL, MessageBody="hello"),
    ),
    "s3.get_object": ("s3", "S3.GetObject", lambda c: c.get_object(Bucket="b", Key="k")),
    "s3.put_object": (
        "s3",
        "S3.PutObject",
        lambda c: c.put_object(Bucket="b", Key="k", Body=b"payload"),
    ),
    "s3.head_object": ("s3", "S3.HeadObject", lambda c: c.head_object(Bucket="b", Key="k")),
    "dynamodb.get_item": (
        "dynamodb",
        "DynamoDB.GetItem",
        lambda c: c.get_item(TableName="runs", Key={"id": {"S": "1"}}),
    ),
    "dynamodb.put_item": (
        "dynamodb",
        "DynamoDB.PutItem",
        lambda c: c.put_item(TableName="runs", Item={"id": {"S": "1"}}),
    ),
    "cloudwatch.put_metric_data": (
        "cloudwatch",
        "CloudWatch.PutMetricData",
        lambda c: c.put_metric_data(
            Namespace="NanoGrid", MetricData=[{"MetricName": "runs", "Value": 1.0}]
        ),
    ),
}


# --- a server that answers every request with an AWS error ---------------------------------


class ErrorServer(socketserver.ThreadingTCPServer):
    """Decodes requests with :class:`HttpDecoder` and sends ``answer(request)`` verbatim."""

    allow_reuse_address = True

    def __init__(self, answer: Callable[[HttpMessage], AwsErrorAnswer]) -> None:
        super().__init__(("127.0.0.1", 0), _ErrorHandler)
        self.answer = answer
        self.lock = threading.Lock()
        self.requests: list[tuple[int, HttpMessage]] = []  # (connection number, request)
        self.answers: list[AwsErrorAnswer] = []
        self.connections = 0
        self.open: set[socket.socket] = set()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread = threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.shutdown()
        with self.lock:  # wake handlers waiting on kept-alive connections
            for sock in self.open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self.server_close()  # joins the handler threads
        self._thread.join()


class _ErrorHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: ErrorServer = self.server  # type: ignore[assignment]
        sock: socket.socket = self.request
        sock.settimeout(10)  # a hung test must not hang the teardown forever
        with server.lock:
            server.connections += 1
            number = server.connections
            server.open.add(sock)
        try:
            self._serve(server, sock, number)
        except OSError:
            pass  # the client went away: not the server's business
        finally:
            with server.lock:
                server.open.discard(sock)

    @staticmethod
    def _serve(server: ErrorServer, sock: socket.socket, number: int) -> None:
        decoder = HttpDecoder(response=False)
        while (data := sock.recv(65536)) and decoder.broken is None:
            done = decoder.feed(data, time.monotonic_ns())
            # decided on its head, as the fault proxy decides one that waits for 100 Continue
            waiting = [h for h in decoder.heads if _expects_continue(h) and not h.complete]
            for request in done + waiting:
                answer = server.answer(request)
                with server.lock:
                    server.requests.append((number, request))
                    server.answers.append(answer)
                sock.sendall(answer.raw)
                if b"\r\nConnection: close\r\n" in answer.raw:
                    return


def _expects_continue(request: HttpMessage) -> bool:
    return "100-continue" in request.headers.get("expect", "").lower()


@pytest.fixture(scope="module", autouse=True)
def clean_aws_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No profile, config file, endpoint or retry setting of the machine reaches the clients."""
    empty = tmp_path_factory.mktemp("aws") / "none"
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith("AWS_") and name != "AWS_CA_BUNDLE":
                env.delenv(name)
        env.setenv("AWS_CONFIG_FILE", str(empty))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
        yield


@pytest.fixture(scope="module")
def boto_session(clean_aws_env: None) -> boto3.session.Session:
    return boto3.session.Session()  # one per module: its loader keeps the parsed models


@pytest.fixture
def serve() -> Iterator[Callable[..., ErrorServer]]:
    """Factory: ``serve("throttling", status=...)`` starts a server closed at teardown."""
    servers: list[ErrorServer] = []

    def start(error: str = "throttling", **overrides: Any) -> ErrorServer:
        server = ErrorServer(lambda request: describe(request, error, **overrides))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def make_client(boto_session: boto3.session.Session) -> Iterator[Callable[..., Any]]:
    """Factory: ``make_client("sqs", server, attempts=1)``; closed before the servers."""
    clients: list[Any] = []

    def make(service: str, server: ErrorServer, *, attempts: int = 1, session: Any = None) -> Any:
        config = Config(
            retries={"total_max_attempts": attempts, "mode": "standard"},
            s3={"addressing_style": "path"},
            connect_timeout=2,
            read_timeout=5,
        )
        chosen: Any = session or boto_session
        client = chosen.client(
            service,
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def refused(client: Any, call: Callable[[Any], Any]) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(client)
    return caught.value


def fault_type(error: ClientError) -> str:
    """Error.Type, which botocore sets from x-amzn-query-error (its stubs do not list it)."""
    fields: dict[str, Any] = dict(error.response["Error"])
    return str(fields["Type"])


def parse(parser: ResponseParser, response: HttpMessage, body: bytes | None = None) -> Any:
    """What botocore's ``parser`` makes of an error ``response`` (no output shape)."""
    raw = {"status_code": response.status, "headers": response.headers}
    shape: Any = None
    return parser.parse({**raw, "body": bytes(response.body) if body is None else body}, shape)


def decode(raw: bytes, method: str = "POST") -> HttpMessage:
    """The one complete response ``raw`` holds, read as the harness's tap reads it."""
    decoder = HttpDecoder(response=True, request_method=lambda seq: method)
    messages = decoder.feed(raw, 0)
    assert decoder.broken is None
    assert len(messages) == 1
    assert messages[0].complete
    assert decoder.offset == len(raw)  # nothing after the message
    return messages[0]


def request(
    target: str = "/",
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> HttpMessage:
    """A decoded request, as the proxy hands it over."""
    msg = HttpMessage(seq=0, method=method, target=target, headers=headers or {})
    msg.body, msg.body_bytes, msg.complete = bytearray(body), len(body), True
    return msg


def json_request(target: str, service: str = "dynamodb", **headers: str) -> HttpMessage:
    base = {"x-amz-target": target, "content-type": "application/x-amz-json-1.0"}
    base["authorization"] = SIGNED.format(service)
    return request(headers={**base, **headers}, body=b"{}")


# --- what a real client reads ----------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize("call_name", CALLS)
def test_botocore_reads_the_status_and_code_the_service_sends(
    serve, make_client, call_name, preset
):
    service, operation, call = CALLS[call_name]
    status, code, exception = EXPECTED[service, preset]
    head = call_name == "s3.head_object"
    server = serve(preset)

    error = refused(make_client(service, server), call)

    [(_, seen)], [answer] = server.requests, server.answers
    assert aws_operation(seen)[0] == operation
    assert (answer.status, answer.code) == (status, code)
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
    id_header = "x-amz-request-id" if service == "s3" else "x-amzn-requestid"
    assert error.response["ResponseMetadata"]["HTTPHeaders"][id_header] == answer.request_id
    if head:  # no body: botocore (as with S3 itself) knows only the status
        assert error.response["Error"]["Code"] == str(status)
        assert type(error).__name__ == "ClientError"
        return
    assert error.response["ResponseMetadata"]["RequestId"] == answer.request_id
    assert error.response["Error"]["Code"] == code
    assert error.response["Error"]["Message"] == answer.message
    assert type(error).__name__ == exception
    assert error_code(decode(answer.raw)) == code  # and the wire tap records the same code
    if service in ("sqs", "cloudwatch"):
        assert fault_type(error) == ("Receiver" if status >= 500 else "Sender")


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize(
    "call_name",
    [
        "sqs.receive_message",
        "s3.get_object",
        "s3.head_object",
        "dynamodb.put_item",
        "cloudwatch.put_metric_data",
    ],
)
def test_botocore_retries_all_but_access_denied_on_one_kept_alive_connection(
    serve, make_client, call_name, preset
):
    service, operation, call = CALLS[call_name]
    server = serve(preset)

    refused(make_client(service, server, attempts=2), call)

    expected = 1 if preset == "access_denied" else 2
    assert [aws_operation(r)[0] for _, r in server.requests] == [operation] * expected
    assert {number for number, _ in server.requests} == {1}  # the framing let it reuse it


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize(
    "call_name",
    ["sqs.send_message", "s3.put_object", "dynamodb.get_item", "cloudwatch.put_metric_data"],
)
def test_botocore_takes_throttling_and_only_throttling_for_throttling(
    serve, make_client, call_name, preset
):
    service, _, call = CALLS[call_name]
    client = make_client(service, serve(preset))
    error = refused(client, call)

    operation = client.meta.service_model.operation_model(error.operation_name)
    context = standard.RetryContext(
        attempt_number=1, operation_model=operation, parsed_response=error.response
    )
    detector = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
    assert detector.is_throttling_error_from_context(context) is (preset == "throttling")


def test_a_put_answered_on_its_head_closes_the_connection_and_the_next_put_is_answered(
    serve, make_client
):
    server = serve("throttling")
    client = make_client("s3", server)
    put = CALLS["s3.put_object"][2]

    first, second = refused(client, put), refused(client, put)

    assert [e.response["Error"]["Code"] for e in (first, second)] == ["SlowDown"] * 2
    assert [number for number, _ in server.requests] == [1, 2]
    assert all(_expects_continue(r) and not r.complete for _, r in server.requests)
    assert all(b"\r\nConnection: close\r\n" in answer.raw for answer in server.answers)


# --- the other protocols CloudWatch's model lists, as botocore would speak them -------------


@pytest.fixture
def cloudwatch_speaking(tmp_path, monkeypatch, boto_session):
    """Factory: a boto3 session whose CloudWatch model lists only ``protocol``."""

    def make(protocol: str) -> boto3.session.Session:
        loader = boto_session._session.get_component("data_loader")
        version = loader.determine_latest_version("cloudwatch", "service-2")
        model = json.loads(json.dumps(loader.load_service_model("cloudwatch", "service-2")))
        model["metadata"]["protocol"], model["metadata"]["protocols"] = protocol, [protocol]
        path = tmp_path / protocol / "cloudwatch" / version / "service-2.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(model))
        monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path / protocol))
        return boto3.session.Session(botocore_session=botocore.session.get_session())

    return make


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize(
    ("model_protocol", "wire"),
    [("smithy-rpc-v2-cbor", Protocol.CBOR), ("query", Protocol.QUERY)],
)
def test_cloudwatch_errors_in_cbor_and_query_read_as_in_json(
    serve, make_client, cloudwatch_speaking, model_protocol, wire, preset
):
    status, code, exception = EXPECTED["cloudwatch", preset]
    server = serve(preset)
    client = make_client("cloudwatch", server, session=cloudwatch_speaking(model_protocol))

    error = refused(client, CALLS["cloudwatch.put_metric_data"][2])

    [(_, seen)], [answer] = server.requests, server.answers
    assert protocol_of(seen) is wire
    assert aws_operation(seen)[0] == "CloudWatch.PutMetricData"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error.response["Error"]["Code"] == code
    assert error.response["Error"]["Message"] == answer.message
    assert fault_type(error) == ("Receiver" if status >= 500 else "Sender")
    assert type(error).__name__ == exception
    assert error_code(decode(answer.raw)) == code


# --- overrides ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call_name", "preset", "overrides", "status", "code", "exception"),
    [
        (
            "dynamodb.put_item",
            "internal",
            {"status": 400, "code": "ConditionalCheckFailedException", "message": "no"},
            400,
            "ConditionalCheckFailedException",
            "ConditionalCheckFailedException",
        ),
        ("s3.get_object", "throttling", {"status": 429}, 429, "SlowDown", "ClientError"),
        ("s3.get_object", "access_denied", {"code": "NoSuchKey"}, 403, "NoSuchKey", "NoSuchKey"),
        ("sqs.send_message", "access_denied", {"status": 503}, 503, "AccessDenied", "ClientError"),
        (
            "sqs.send_message",
            "throttling",
            {"code": "OverLimit", "message": "too many"},
            403,
            "OverLimit",
            "OverLimit",
        ),
        (
            "cloudwatch.put_metric_data",
            "internal",
            {"code": "LimitExceeded", "status": 400},
            400,
            "LimitExceeded",
            "LimitExceededFault",
        ),
    ],
)
def test_status_code_and_message_override_the_preset(
    serve, make_client, call_name, preset, overrides, status, code, exception
):
    service, _, call = CALLS[call_name]
    server = serve(preset, **overrides)

    error = refused(make_client(service, server), call)

    [answer] = server.answers
    assert (answer.status, answer.code) == (status, code)
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert error.response["Error"]["Code"] == code
    assert type(error).__name__ == exception
    if "message" in overrides:
        assert error.response["Error"]["Message"] == overrides["message"]
    if service == "sqs":
        assert fault_type(error) == ("Receiver" if status >= 500 else "Sender")


def test_an_overridden_status_takes_its_own_reason_phrase():
    s3_get = request("/b/k", method="GET", headers={"authorization": SIGNED.format("s3")})

    assert error_response(s3_get, "throttling").startswith(b"HTTP/1.1 503 Slow Down\r\n")
    assert error_response(s3_get, "throttling", status=429).startswith(
        b"HTTP/1.1 429 Too Many Requests\r\n"
    )
    assert error_response(s3_get, status=499).startswith(b"HTTP/1.1 499 Error\r\n")


def test_an_unknown_preset_is_refused_naming_the_known_ones():
    with pytest.raises(InvalidFault) as caught:
        describe(json_request("DynamoDB_20120810.GetItem"), "teapot")

    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == (
        "unknown AWS error preset 'teapot'; known: throttling, internal, unavailable, access_denied"
    )


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"status": 200}, "status must be an HTTP error status"),
        ({"status": 600}, "status must be an HTTP error status"),
        ({"code": "Bad\r\nX-Injected: 1"}, "code must be"),
        ({"code": "com.amazonaws.sqs#Shape"}, "code must be"),
        ({"code": ""}, "code must be"),
    ],
)
def test_a_bad_status_or_code_is_refused(overrides, problem):
    with pytest.raises(ValueError, match=problem):
        error_response(json_request("AmazonSQS.SendMessage", "sqs"), "throttling", **overrides)


def test_presets_cover_every_service_and_match_the_fault_kind():
    assert tuple(PRESETS) == PRESET_NAMES == aws_error.PRESETS
    for row in PRESETS.values():
        assert set(row) == {"SQS", "S3", "DynamoDB", "CloudWatch", DEFAULT_SERVICE}


# --- the response's form -------------------------------------------------------------------


def test_a_head_answer_has_no_body_and_says_so():
    headers = {"authorization": SIGNED.format("s3")}
    head = describe(request("/b/k", method="HEAD", headers=headers), "throttling")
    get = describe(request("/b/k", method="GET", headers=headers), "throttling")

    assert head.raw.endswith(b"\r\n\r\n")
    assert b"\r\nContent-Length: 0\r\n" in head.raw
    assert decode(head.raw, "HEAD").headers["content-type"] == "application/xml"
    assert decode(head.raw, "GET").body_bytes == 0  # even a reader that forgot it was HEAD
    assert decode(get.raw, "GET").body_bytes > 0
    assert error_code(decode(get.raw, "GET")) == "SlowDown"


def test_query_protocol_xml_carries_type_code_message_and_request_id():
    send = request(
        "/123456789012/nanogrid-tasks",
        headers={
            "content-type": "application/x-www-form-urlencoded; charset=utf-8",
            "authorization": SIGNED.format("sqs"),
        },
        body=b"Action=SendMessage&Version=2012-11-05&MessageBody=hi",
    )
    assert aws_operation(send)[0] == "SQS.SendMessage"

    answer = describe(send, "access_denied", message="no <access> & no entry")
    response = decode(answer.raw)

    assert protocol_of(send) is Protocol.QUERY
    assert response.status == 403
    assert response.headers["content-type"] == "text/xml"
    assert response.headers["x-amzn-requestid"] == answer.request_id
    assert "x-amzn-query-error" not in response.headers  # the XML says it all
    ns = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}
    root = ET.fromstring(bytes(response.body))
    assert root.tag == "{http://queue.amazonaws.com/doc/2012-11-05/}ErrorResponse"
    assert root.findtext("sqs:Error/sqs:Type", namespaces=ns) == "Sender"
    assert root.findtext("sqs:Error/sqs:Code", namespaces=ns) == "AccessDenied"
    assert root.findtext("sqs:Error/sqs:Message", namespaces=ns) == "no <access> & no entry"
    assert root.findtext("sqs:RequestId", namespaces=ns) == answer.request_id
    parsed = parse(QueryParser(), response)
    assert parsed["Error"]["Code"] == "AccessDenied"
    assert parsed["ResponseMetadata"]["RequestId"] == answer.request_id


def test_json_answers_keep_the_json_version_and_the_service_shape_prefix():
    logs = json_request("Logs_20140328.PutLogEvents", "logs")
    logs.headers["content-type"] = "application/x-amz-json-1.1"
    get_item = json_request("DynamoDB_20120810.GetItem")

    logs_answer = decode(error_response(logs, "internal"))
    ddb_answer = decode(error_response(get_item, "throttling"))

    assert logs_answer.headers["content-type"] == "application/x-amz-json-1.1"
    assert (
        json.loads(bytes(logs_answer.body))["__type"] == "com.amazon.coral.service#InternalFailure"
    )
    assert ddb_answer.headers["content-type"] == "application/x-amz-json-1.0"
    assert json.loads(bytes(ddb_answer.body)) == {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": PRESETS["throttling"]["DynamoDB"].message,
    }
    assert ddb_answer.headers["x-amz-crc32"] == str(zlib.crc32(bytes(ddb_answer.body)))
    assert "x-amzn-query-error" not in ddb_answer.headers


def test_query_compatible_json_answers_carry_the_query_error_header():
    answer = decode(error_response(json_request("AmazonSQS.ReceiveMessage", "sqs"), "internal"))

    assert answer.headers["x-amzn-query-error"] == "InternalFailure;Receiver"
    assert json.loads(bytes(answer.body))["__type"] == "com.amazon.coral.service#InternalFailure"


#: message length -> the head of a CBOR text string of that length, in its shortest form.
SHORTEST_TEXT_HEAD = {
    0: b"\x60",
    23: b"\x77",
    24: b"\x78\x18",
    255: b"\x78\xff",
    256: b"\x79\x01\x00",
    65535: b"\x79\xff\xff",
    65536: b"\x7a\x00\x01\x00\x00",
}


@pytest.mark.parametrize("size", SHORTEST_TEXT_HEAD)
def test_cbor_bodies_of_any_message_length_parse_in_botocore(size):
    put = request(
        "/service/GraniteServiceVersion20100801/operation/PutMetricData",
        headers={"smithy-protocol": "rpc-v2-cbor", "content-type": "application/cbor"},
    )
    answer = describe(put, "throttling", message="m" * size)
    response = decode(answer.raw)

    assert response.headers["content-type"] == "application/cbor"
    assert response.headers["smithy-protocol"] == "rpc-v2-cbor"
    body = answer.raw.partition(b"\r\n\r\n")[2]  # whole: the decoder keeps only 64 KiB
    assert response.body_bytes == len(body)
    assert body.endswith(SHORTEST_TEXT_HEAD[size] + b"m" * size)  # CBOR's preferred form
    parsed = parse(RpcV2CBORParser(), response, body)
    assert parsed["Error"] == {
        "Code": "Throttling",
        "Message": "m" * size,
        "QueryErrorCode": "ThrottlingException",
        "Type": "Sender",
    }


def test_a_request_in_no_aws_protocol_gets_a_rest_json_error():
    plain = request("/health", method="GET")

    answer = describe(plain, "access_denied")
    response = decode(answer.raw, "GET")

    assert protocol_of(plain) is Protocol.REST_JSON
    assert (response.status, response.headers["x-amzn-errortype"]) == (403, "AccessDeniedException")
    parsed = parse(RestJSONParser(), response)
    assert parsed["Error"]["Code"] == "AccessDeniedException"


@pytest.mark.parametrize(
    ("connection", "answered"),
    [("", "keep-alive"), ("close", "close"), ("keep-alive", "keep-alive"), ("TE, Close", "close")],
)
def test_the_connection_stays_open_unless_the_request_asked_to_close(connection, answered):
    get_item = json_request("DynamoDB_20120810.GetItem")
    if connection:
        get_item.headers["connection"] = connection

    assert decode(error_response(get_item)).headers["connection"] == answered


def test_every_answer_has_its_own_request_id():
    get_item = json_request("DynamoDB_20120810.GetItem")

    ids = {describe(get_item).request_id for _ in range(3)}

    assert len(ids) == 3


def test_content_length_counts_the_body_bytes_of_a_non_ascii_message():
    answer = decode(error_response(json_request("DynamoDB_20120810.GetItem"), message="ü" * 10))

    assert answer.body_bytes == int(answer.headers["content-length"]) == len(bytes(answer.body))
    assert json.loads(bytes(answer.body))["message"] == "ü" * 10
