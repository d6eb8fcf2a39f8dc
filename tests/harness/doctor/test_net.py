"""Network failures told apart through the libraries' wrappers."""

from __future__ import annotations

import socket

import botocore.exceptions
import httpx
import pytest
import redis

from harness.doctor.net import Trouble, Where, classify, explain, tcp_connect
from harness.procs import free_port


def wrapped(outer: BaseException, inner: BaseException) -> BaseException:
    """``outer`` raised while handling ``inner``, as the libraries do."""
    try:
        try:
            raise inner
        except BaseException:
            raise outer  # noqa: B904 - the implicit __context__ is what the libraries leave
    except BaseException as exc:
        return exc


def test_a_closed_port_is_refused():
    with pytest.raises(ConnectionRefusedError) as raised:
        tcp_connect("127.0.0.1", free_port(), 1.0)
    assert classify(raised.value, connecting=True) is Trouble.REFUSED


def test_an_unknown_host_is_dns():
    with pytest.raises(socket.gaierror) as raised:
        tcp_connect("no-such-host.invalid", 6379, 1.0)
    assert classify(raised.value) is Trouble.DNS


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (redis.TimeoutError("Timeout connecting to server"), Trouble.CONNECT_TIMEOUT),
        (redis.TimeoutError("Timeout reading from 127.0.0.1:6379"), Trouble.READ_TIMEOUT),
        (
            wrapped(redis.ConnectionError("Error 111"), ConnectionRefusedError(111, "refused")),
            Trouble.REFUSED,
        ),
        (
            botocore.exceptions.ConnectTimeoutError(endpoint_url="http://aws:4566"),
            Trouble.CONNECT_TIMEOUT,
        ),
        (
            botocore.exceptions.ReadTimeoutError(endpoint_url="http://aws:4566"),
            Trouble.READ_TIMEOUT,
        ),
        (
            wrapped(
                botocore.exceptions.EndpointConnectionError(endpoint_url="http://aws:4566"),
                socket.gaierror(-2, "Name or service not known"),
            ),
            Trouble.DNS,
        ),
        (httpx.ConnectTimeout("timed out"), Trouble.CONNECT_TIMEOUT),
        (httpx.ReadTimeout("timed out"), Trouble.READ_TIMEOUT),
        (ConnectionResetError(104, "reset"), Trouble.RESET),
        (ValueError("odd"), Trouble.OTHER),
    ],
)
def test_each_library_error_is_classified(exc, kind):
    assert classify(exc) is kind


def test_a_bare_timeout_is_a_connect_timeout_only_while_connecting():
    assert classify(TimeoutError("timed out"), connecting=True) is Trouble.CONNECT_TIMEOUT
    assert classify(TimeoutError("timed out")) is Trouble.READ_TIMEOUT


def test_the_explanation_names_the_address_and_the_variable():
    where = Where("redis", "10.0.0.5", 6379, "REDIS_URL")
    detail, fix = explain(TimeoutError(), where, 2.0, 5.0, connecting=True)
    assert detail == (
        "redis: connect timed out after 2 s (SYNs unanswered: a firewall/security group drops them)"
    )
    assert fix.startswith("allow inbound TCP 6379 from this host to 10.0.0.5")
    detail, fix = explain(ConnectionRefusedError(), where, 2.0, 5.0, connecting=True)
    assert detail == (
        "redis: connection refused at 10.0.0.5:6379 (nothing listens: is redis up, is the port "
        "right?)"
    )
    assert "REDIS_URL" in fix
