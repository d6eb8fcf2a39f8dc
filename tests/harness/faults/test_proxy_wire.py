"""Wire decoding through a real FaultProxy: bytes arrive intact, evidence is recorded."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator

import boto3
import pytest
import redis
from botocore.config import Config
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.server import ThreadedMotoServer

from harness.faults import Direction, Fault, FaultKind, FaultProxy, ProxyError
from harness.wire.model import (
    DETAIL_BYTES,
    DETAIL_COUNT,
    DETAIL_MESSAGE_IDS,
    DETAIL_RECEIVERS,
    DETAIL_REQUEST_ID,
    DETAIL_STATUS,
    DETAIL_TRANSACTION,
    DETAIL_UNDECODED_UPSTREAM,
    DIRECTION_DOWNSTREAM,
    DIRECTION_UPSTREAM,
    KIND_CLOSED,
    KIND_COMMAND,
    KIND_MESSAGE,
    KIND_REPLY,
    KIND_REQUEST,
    KIND_RESPONSE,
    KIND_SUBSCRIBED,
    KIND_UNDECODED,
    PROTOCOL_BYTES,
    PROTOCOL_HTTP,
    PROTOCOL_REDIS,
    WireRecorder,
)
from tests.harness.faults.conftest import round_trip, wait_until

FAULTS = {
    "none": None,
    "latency": Fault("slow", FaultKind.LATENCY, Direction.BOTH, latency_ms=3),
    "slicer": Fault("sliced", FaultKind.SLICER, Direction.BOTH, slice_bytes=997),
}


@pytest.fixture
def wire() -> WireRecorder:
    return WireRecorder()


@pytest.fixture
def wire_proxy(ledger, wire) -> Iterator[Callable[..., FaultProxy]]:
    """Factory: ``wire_proxy(port, protocol, fault=None)``, a started decoding proxy."""
    proxies: list[FaultProxy] = []

    def make(port: int, protocol: str | None, fault: Fault | None = None, **kw) -> FaultProxy:
        proxy = FaultProxy(
            f"client->{protocol}", "127.0.0.1", port, ledger, protocol=protocol, wire=wire, **kw
        )
        proxies.append(proxy)
        proxy.start()
        if fault is not None:
            proxy.add(fault)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()


@pytest.mark.parametrize("fault", FAULTS, ids=str)
@pytest.mark.parametrize("protocol", [PROTOCOL_REDIS, PROTOCOL_HTTP, None], ids=str)
def test_random_payloads_arrive_byte_for_byte(echo, wire_proxy, connect, wire, protocol, fault):
    proxy = wire_proxy(echo.port, protocol, FAULTS[fault])

    @settings(max_examples=12, deadline=None)
    @given(st.lists(st.binary(min_size=1, max_size=30_000), min_size=1, max_size=3))
    def payloads_arrive_intact(payloads: list[bytes]) -> None:
        with connect(proxy.listen_port) as sock:
            for payload in payloads:
                assert round_trip(sock, payload) == payload

    payloads_arrive_intact()
    closed = wait_until(lambda: wire.select(KIND_CLOSED))
    assert closed[0].protocol == (protocol or PROTOCOL_BYTES)


def test_a_large_command_arrives_sliced_but_intact_and_is_decoded(echo, wire_proxy, connect, wire):
    redis_proxy = wire_proxy(echo.port, PROTOCOL_REDIS, FAULTS["slicer"])
    command = (
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$50000\r\n" + random.Random(1).randbytes(50_000) + b"\r\n"
    )
    with connect(redis_proxy.listen_port) as sock:
        assert round_trip(sock, command) == command
    [set_] = wait_until(lambda: wire.select(KIND_COMMAND, name="SET"))
    assert (set_.target, set_.detail[DETAIL_BYTES]) == ("k", 50_001)


def test_a_garbage_stream_is_forwarded_intact_and_the_connection_kept(
    echo, wire_proxy, connect, wire
):
    proxy = wire_proxy(echo.port, PROTOCOL_REDIS)
    garbage = b"\x16\x03\x01\x02\x00" + random.Random(7).randbytes(5000)
    with connect(proxy.listen_port) as sock:
        for _ in range(3):
            assert round_trip(sock, garbage) == garbage
        assert round_trip(sock, b"*1\r\n$4\r\nPING\r\n") == b"*1\r\n$4\r\nPING\r\n"
    [closed] = wait_until(lambda: wire.select(KIND_CLOSED))
    undecoded = wire.select(KIND_UNDECODED)
    assert sorted(e.direction for e in undecoded) == [DIRECTION_DOWNSTREAM, DIRECTION_UPSTREAM]
    assert closed.detail[DETAIL_UNDECODED_UPSTREAM] == 3 * len(garbage) + 14
    assert not wire.select(KIND_COMMAND)


def test_decode_false_or_no_recorder_means_no_tap(echo, make_proxy, connect, ledger, wire):
    quiet = FaultProxy(
        "quiet", "127.0.0.1", echo.port, ledger, protocol=PROTOCOL_REDIS, wire=wire, decode=False
    )
    with quiet, connect(quiet.listen_port) as sock:
        assert round_trip(sock, b"*1\r\n$4\r\nPING\r\n") == b"*1\r\n$4\r\nPING\r\n"
    plain = make_proxy(echo.port)
    with connect(plain.listen_port) as sock:
        assert round_trip(sock, b"x") == b"x"
    assert plain.wire is None
    assert wire.events == []


def test_an_unknown_protocol_is_refused():
    with pytest.raises(ProxyError, match="gopher"):
        FaultProxy("p", "127.0.0.1", 1, protocol="gopher")


# --- a real Redis, through redis-py --------------------------------------------------------


@pytest.fixture
def client_on() -> Iterator[Callable[..., redis.Redis]]:
    clients: list[redis.Redis] = []

    def make(port: int, protocol: int) -> redis.Redis:
        client = redis.Redis(port=port, protocol=protocol, socket_timeout=5)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.mark.parametrize("fault", FAULTS, ids=str)
@pytest.mark.parametrize("resp", [2, 3])
def test_a_real_redis_session_is_intact_and_recorded(
    redis_port, wire_proxy, client_on, wire, resp, fault
):
    proxy = wire_proxy(redis_port, PROTOCOL_REDIS, FAULTS[fault])
    client = client_on(proxy.listen_port, resp)
    value = random.Random(resp).randbytes(200_000)
    client.set(f"blob:{resp}", value)
    assert client.get(f"blob:{resp}") == value

    pubsub = client_on(proxy.listen_port, resp).pubsub()
    channel = f"result:req-{resp}-{fault}"
    pubsub.subscribe(channel)
    assert wait_until(lambda: pubsub.get_message(timeout=0.05))["type"] == "subscribe"
    result = json.dumps({"requestId": f"req-{resp}", "status": "SUCCESS", "stdout": "x" * 90_000})
    pipe = client.pipeline(transaction=True)
    pipe.set(channel, result)
    pipe.publish(channel, result)
    assert pipe.execute() == [True, 1]
    message = wait_until(lambda: pubsub.get_message(timeout=0.05))
    assert message["data"] == result.encode()
    pubsub.close()

    [set_] = [e for e in wire.select(KIND_COMMAND, name="SET") if e.target == f"blob:{resp}"]
    assert set_.detail[DETAIL_BYTES] == len(f"blob:{resp}") + len(value)
    [get_] = wire.select(KIND_REPLY, name="GET")
    assert get_.detail[DETAIL_BYTES] == len(value)
    [published] = [
        e for e in wire.select(KIND_REPLY, name="PUBLISH") if e.detail.get(DETAIL_TRANSACTION)
    ]
    assert (published.target, published.detail[DETAIL_RECEIVERS]) == (channel, 1)
    [subscribed] = wire.select(KIND_SUBSCRIBED)
    assert (subscribed.target, subscribed.detail[DETAIL_COUNT]) == (channel, 1)
    [pushed] = wire.select(KIND_MESSAGE)
    assert pushed.target == channel
    assert (pushed.detail[DETAIL_STATUS], pushed.detail[DETAIL_REQUEST_ID]) == (
        "SUCCESS",
        f"req-{resp}",
    )
    assert pushed.detail[DETAIL_BYTES] == len(result)
    assert not wire.select(KIND_UNDECODED)


# --- a real HTTP exchange, botocore against moto's server ---------------------------------


@pytest.fixture(scope="module")
def moto_port() -> Iterator[int]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield server._server.server_address[1]
    finally:
        server.stop()


@pytest.mark.parametrize("fault", ["none", "slicer"])
def test_a_real_aws_exchange_is_intact_and_recorded(moto_port, ledger, wire, fault):
    before = set(threading.enumerate())
    payload = random.Random(3).randbytes(300_000)
    with FaultProxy(
        "worker->aws", "127.0.0.1", moto_port, ledger, protocol=PROTOCOL_HTTP, wire=wire
    ) as proxy:
        if FAULTS[fault] is not None:
            proxy.add(FAULTS[fault])
        kwargs = {
            "endpoint_url": f"http://127.0.0.1:{proxy.listen_port}",
            "region_name": "us-east-1",
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
            "config": Config(retries={"total_max_attempts": 1}),
        }
        s3, sqs = boto3.client("s3", **kwargs), boto3.client("sqs", **kwargs)
        try:
            s3.create_bucket(Bucket=f"code-{fault}")
            s3.put_object(Bucket=f"code-{fault}", Key="fn.zip", Body=payload)
            assert s3.get_object(Bucket=f"code-{fault}", Key="fn.zip")["Body"].read() == payload
            queue = sqs.create_queue(QueueName=f"tasks-{fault}")["QueueUrl"]
            sent = sqs.send_message(QueueUrl=queue, MessageBody="task")
        finally:
            s3.close()
            sqs.close()
    # moto's request threads end once their connections are closed
    wait_until(lambda: not [t for t in threading.enumerate() if t not in before and t.is_alive()])

    [put] = wire.select(KIND_REQUEST, name="S3.PutObject")
    assert (put.target, put.detail[DETAIL_BYTES]) == (f"code-{fault}/fn.zip", len(payload))
    [got] = wire.select(KIND_RESPONSE, name="S3.GetObject")
    assert got.detail[DETAIL_BYTES] == len(payload)
    [send] = wire.select(KIND_RESPONSE, name="SQS.SendMessage")
    assert (send.target, send.detail[DETAIL_MESSAGE_IDS]) == (f"tasks-{fault}", [sent["MessageId"]])
    assert not wire.select(KIND_UNDECODED)
