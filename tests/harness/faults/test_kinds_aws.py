"""Faults on AWS requests, against the emulator through a protocol-aware proxy: each kind,
each schedule, and what they leave alone."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError, ResponseStreamingError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.faults import EventKind, Fault, FaultLedger, FaultProxy
from tests.harness.faults.conftest import recv_exactly, send_in_pieces, wait_until


@pytest.fixture
def aws_proxy(backend, ledger: FaultLedger) -> Iterator[FaultProxy]:
    url = urlsplit(backend.endpoints.aws_endpoint_url)
    assert url.hostname is not None
    assert url.port is not None
    with FaultProxy("worker->aws", url.hostname, url.port, ledger, protocol="http") as proxy:
        yield proxy


@pytest.fixture
def via_proxy(backend, aws_proxy) -> Callable[..., Any]:
    """``via_proxy("sqs", attempts=1, read_timeout=5)``: a client whose calls go through."""

    def make(service: str, attempts: int = 1, read_timeout: float = 10) -> Any:
        return boto3.client(
            service,
            endpoint_url=f"http://127.0.0.1:{aws_proxy.listen_port}",
            region_name=backend.endpoints.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(
                retries={"total_max_attempts": attempts, "mode": "standard"},
                read_timeout=read_timeout,
                connect_timeout=5,
            ),
        )

    return make


@pytest.fixture
def queue(aws) -> Iterator[str]:
    url = aws("sqs").create_queue(QueueName=f"kinds-{id(object())}")["QueueUrl"]
    yield url
    aws("sqs").delete_queue(QueueUrl=url)


@pytest.fixture
def bucket(aws, backend) -> Iterator[str]:
    name = f"kinds-{id(object())}"
    region = backend.endpoints.region
    where = {} if region == "us-east-1" else {"LocationConstraint": region}
    aws("s3").create_bucket(Bucket=name, **({"CreateBucketConfiguration": where} if where else {}))
    yield name
    s3 = aws("s3")
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def hits(ledger: FaultLedger, fault: str) -> list[dict[str, Any]]:
    return [e.detail for e in ledger.select(EventKind.MESSAGE_HIT, fault=fault)]


def error_of(call: Callable[[], object]) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_error_on_send_is_the_services_own_and_nothing_is_enqueued(
    aws_proxy, via_proxy, aws, queue, ledger
):
    aws_proxy.add(Fault("throttled", "aws_error", operation="SQS.SendMessage"))
    sqs = via_proxy("sqs")
    code, status = error_of(lambda: sqs.send_message(QueueUrl=queue, MessageBody="task"))
    assert (code, status) == ("RequestThrottled", 403)
    assert aws("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages") is None
    assert sqs.get_queue_url(QueueName=queue.rsplit("/", 1)[1])["QueueUrl"]  # others pass
    [hit] = hits(ledger, "throttled")
    assert hit["message"] == "SQS.SendMessage"
    assert hit["action"] == "answer"
    assert hit["code"] == code


@pytest.mark.parametrize(
    ("service", "operation", "preset", "code"),  # as harness.faults.aws_errors.PRESETS
    [
        ("s3", "S3.GetObject", "access_denied", "AccessDenied"),
        ("s3", "S3.PutObject", "throttling", "SlowDown"),
        ("dynamodb", "DynamoDB.GetItem", "throttling", "ProvisionedThroughputExceededException"),
        ("cloudwatch", "CloudWatch.PutMetricData", "internal", "InternalServiceError"),
    ],
)
def test_error_presets_reach_the_client_as_that_services_error(
    aws_proxy, via_proxy, bucket, service, operation, preset, code
):
    aws_proxy.add(Fault("e", "aws_error", operation=operation, error=preset))
    client = via_proxy(service)
    calls: dict[str, Callable[[], object]] = {
        "S3.GetObject": lambda: client.get_object(Bucket=bucket, Key="k"),
        "S3.PutObject": lambda: client.put_object(Bucket=bucket, Key="k", Body=b"zip"),
        "DynamoDB.GetItem": lambda: client.get_item(TableName="t", Key={"k": {"S": "v"}}),
        "CloudWatch.PutMetricData": lambda: client.put_metric_data(
            Namespace="n", MetricData=[{"MetricName": "m", "Value": 1.0}]
        ),
    }
    got, status = error_of(calls[operation])
    assert got == code
    assert status >= 400


def test_put_answered_with_an_error_leaves_no_object(aws_proxy, via_proxy, aws, bucket):
    aws_proxy.add(Fault("e", "aws_error", operation="PutObject", error="throttling"))
    s3 = via_proxy("s3")
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="f.zip", Body=b"PK")) == (
        "SlowDown",
        503,
    )
    assert aws("s3").list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_first_n_matches_lets_a_retry_through(aws_proxy, via_proxy, aws, queue, ledger):
    aws_proxy.add(Fault("once", "aws_error", operation="SendMessage", first_n_matches=1))
    sqs = via_proxy("sqs", attempts=3)
    assert sqs.send_message(QueueUrl=queue, MessageBody="task")["MessageId"]
    assert len(hits(ledger, "once")) == 1  # the retry passed


def test_custom_status_code_and_message(aws_proxy, via_proxy, bucket):
    aws_proxy.add(
        Fault("e", "aws_error", operation="S3.GetObject", status=409, code="Busy", message="m")
    )
    s3 = via_proxy("s3")
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="k")) == ("Busy", 409)


def test_delay_beyond_the_read_timeout_times_the_call_out_and_spares_others(
    aws_proxy, via_proxy, queue, ledger
):
    aws_proxy.add(Fault("slow", "aws_delay", operation="SQS.ReceiveMessage", delay_ms=3000))
    sqs = via_proxy("sqs", read_timeout=0.5)
    assert sqs.send_message(QueueUrl=queue, MessageBody="task")["MessageId"]
    with pytest.raises(ReadTimeoutError):
        sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)
    [hit] = hits(ledger, "slow")
    assert hit["targets"] == [queue.rsplit("/", 1)[1]]


def test_truncated_body_is_cut_and_the_head_call_intact(aws_proxy, via_proxy, aws, bucket, ledger):
    aws("s3").put_object(Bucket=bucket, Key="f.zip", Body=b"PK" + bytes(500))
    aws_proxy.add(Fault("short", "aws_truncate", operation="S3.GetObject", keep_bytes=10))
    s3 = via_proxy("s3")
    assert s3.head_object(Bucket=bucket, Key="f.zip")["ContentLength"] == 502
    body = s3.get_object(Bucket=bucket, Key="f.zip")["Body"]
    with pytest.raises(ResponseStreamingError):
        body.read()
    [hit] = hits(ledger, "short")
    assert hit["action"] == "truncate"
    assert wait_until(
        lambda: [
            e
            for e in ledger.select(EventKind.CONNECTION_CLOSED)
            if "cut after 10 body bytes" in str(e.detail["reason"])
        ]
    )


def test_target_pattern_narrows_the_match(aws_proxy, via_proxy, aws, bucket):
    aws("s3").put_object(Bucket=bucket, Key="code/a.zip", Body=b"a")
    aws("s3").put_object(Bucket=bucket, Key="other/b", Body=b"b")
    aws_proxy.add(Fault("e", "aws_error", operation="GetObject", target=f"{bucket}/code/*"))
    s3 = via_proxy("s3")
    assert s3.get_object(Bucket=bucket, Key="other/b")["Body"].read() == b"b"
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="code/a.zip"))[1] == 503


def request(method: bytes, path: bytes, target: bytes, body: bytes) -> bytes:
    head = b"%s %s HTTP/1.1\r\nHost: x\r\nX-Amz-Target: %s\r\nContent-Length: %d\r\n\r\n"
    return head % (method, path, target, len(body)) + body


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    bodies=st.lists(st.binary(max_size=300), min_size=1, max_size=6),
    cuts=st.lists(st.integers(1, 200), min_size=1, max_size=6),
)
def test_unmatched_and_delayed_requests_are_byte_identical(echo, ledger, bodies, cuts):
    """Behind an HTTP-speaking proxy with faults on AWS requests, an echo server receives
    exactly the bytes sent, however they are chunked; a delay changes when, not what."""
    targets = [b"AmazonSQS.SendMessage", b"DynamoDB_20120810.GetItem"]
    stream = b"".join(request(b"POST", b"/", targets[i % 2], body) for i, body in enumerate(bodies))
    before = echo.received
    with FaultProxy("client->echo", "127.0.0.1", echo.port, ledger, protocol="http") as proxy:
        proxy.add(Fault("never", "aws_error", operation="S3.*"))
        proxy.add(Fault("late", "aws_delay", operation="GetItem", delay_ms=5))
        with socket.create_connection(proxy.address, timeout=5) as sock:
            send_in_pieces(sock, stream, cuts)
            assert recv_exactly(sock, len(stream)) == stream
    assert echo.received - before == len(stream)
