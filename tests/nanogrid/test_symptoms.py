"""The symptom a component logs is named from the exception its client library raised."""

from __future__ import annotations

import pytest
import redis
from botocore import exceptions as boto

from nanogrid.errors import DependencyError
from nanogrid.symptoms import Symptom, failure_fields, symptom_of


def _client_error(code: str, status: int) -> boto.ClientError:
    response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return boto.ClientError(response, "GetObject")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "symptom"),
    [
        (
            redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused."),
            "refused",
        ),
        (redis.TimeoutError("Timeout connecting to server"), "connect_timeout"),
        (redis.TimeoutError("Timeout reading from socket"), "blackhole"),
        (redis.ConnectionError("Connection closed by server."), "reset"),
        (
            redis.ConnectionError("Error 104 while writing to socket. Connection reset by peer."),
            "reset",
        ),
        (ConnectionRefusedError(111, "refused"), "refused"),
        (TimeoutError("timed out"), "blackhole"),
        (boto.ConnectTimeoutError(endpoint_url="http://x"), "connect_timeout"),
        (boto.ReadTimeoutError(endpoint_url="http://x"), "blackhole"),
        (boto.ConnectionClosedError(endpoint_url="http://x"), "reset"),
        (_client_error("SlowDown", 503), "throttled"),
        (_client_error("AccessDenied", 403), "denied"),
        (_client_error("InternalError", 500), "server_error"),
        (_client_error("NoSuchKey", 404), "error"),
        (ValueError("something else"), "error"),
    ],
)
def test_symptom_of_each_client_failure(exc, symptom):
    assert symptom_of(exc) == Symptom(symptom)


def test_the_cause_names_the_symptom_of_a_wrapping_error():
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as inner:
            raise boto.EndpointConnectionError(endpoint_url="http://127.0.0.1:1") from inner
    except boto.EndpointConnectionError as outer:
        wrapped = DependencyError("s3", str(outer))
        wrapped.__cause__ = outer
    assert symptom_of(wrapped) is Symptom.REFUSED


def test_failure_fields_carry_dependency_symptom_and_a_bounded_error():
    fields = failure_fields("sqs", redis.TimeoutError("Timeout connecting to server" + "x" * 500))
    assert fields["dependency"] == "sqs"
    assert fields["symptom"] == "connect_timeout"
    assert len(fields["error"]) == 300
