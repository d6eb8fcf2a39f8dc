"""The fault proxy in front of a real Redis (valkey-server), as the platform will use it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from harness.faults import Direction, EventKind, Fault, FaultKind, FaultProxy
from tests.harness.faults.conftest import wait_until


@pytest.fixture
def redis_proxy(redis_port: int, make_proxy: Callable[..., FaultProxy]) -> FaultProxy:
    return make_proxy(redis_port, name="controller->redis")


def test_ping_through_the_proxy(redis_proxy, redis_client):
    assert redis_client(redis_proxy.listen_port).ping() is True


def test_down_is_connection_refused(redis_proxy, redis_client):
    redis_proxy.add(Fault("redis-down", FaultKind.DOWN))
    with pytest.raises(redis.ConnectionError) as raised:
        redis_client(redis_proxy.listen_port).ping()
    assert isinstance(raised.value.__context__, ConnectionRefusedError)


def test_connect_timeout_is_a_timeout_connecting(redis_proxy, redis_client):
    redis_proxy.add(Fault("security-group", FaultKind.CONNECT_TIMEOUT))
    with pytest.raises(redis.TimeoutError, match="connecting"):
        redis_client(redis_proxy.listen_port, timeout=0.2).ping()


def test_blackhole_is_a_read_timeout(redis_proxy, redis_client):
    redis_proxy.add(Fault("silent", FaultKind.BLACKHOLE, Direction.DOWNSTREAM))
    with pytest.raises(redis.TimeoutError, match="reading"):
        redis_client(redis_proxy.listen_port, timeout=0.2).ping()


def test_reset_is_a_connection_error(redis_proxy, redis_client):
    redis_proxy.add(Fault("rst", FaultKind.RESET))
    with pytest.raises(redis.ConnectionError):
        redis_client(redis_proxy.listen_port).ping()


@pytest.fixture
def subscriber(redis_proxy, redis_client) -> Iterator[redis.client.PubSub]:
    """A SUBSCRIBE to ``result:test-channel`` through the proxy, confirmed before use."""
    pubsub = redis_client(redis_proxy.listen_port).pubsub()
    pubsub.subscribe("result:test-channel")
    confirmed = wait_until(lambda: pubsub.get_message(timeout=0.05))
    assert confirmed["type"] == "subscribe"
    yield pubsub
    pubsub.close()


def test_blackhole_added_on_an_open_subscription_swallows_the_publish(
    redis_port, redis_proxy, redis_client, subscriber, ledger
):
    publisher = redis_client(redis_port)  # the worker's path is fine
    redis_proxy.add(Fault("silent", FaultKind.BLACKHOLE, Direction.DOWNSTREAM))

    assert publisher.publish("result:test-channel", b"lost") == 1  # "subscribers=1"
    assert subscriber.get_message(timeout=0.3) is None
    hit = wait_until(lambda: ledger.select(EventKind.FAULT_HIT, fault="silent"))
    assert hit[0].connection == redis_proxy.connections[0]

    redis_proxy.remove("silent")
    assert publisher.publish("result:test-channel", b"seen") == 1
    message = wait_until(lambda: subscriber.get_message(timeout=0.05))
    assert message["data"] == b"seen"


def test_reset_added_on_an_open_subscription_breaks_it(redis_port, redis_proxy, subscriber):
    redis_proxy.add(Fault("rst", FaultKind.RESET))
    with pytest.raises(redis.ConnectionError):
        subscriber.get_message(timeout=1.0)


def test_redis_blocked_for_the_controller_but_fine_for_the_worker(
    redis_port, make_proxy, redis_client, ledger
):
    controller = make_proxy(redis_port, name="controller->redis")
    worker = make_proxy(redis_port, name="worker->redis")

    controller.add(Fault("sg-blocks-6379", FaultKind.CONNECT_TIMEOUT))

    assert redis_client(worker.listen_port).publish("result:x", b"done") == 0
    with pytest.raises(redis.TimeoutError):
        redis_client(controller.listen_port, timeout=0.2).ping()
    added = ledger.select(EventKind.FAULT_ADDED)
    assert [(e.proxy, e.fault) for e in added] == [("controller->redis", "sg-blocks-6379")]
