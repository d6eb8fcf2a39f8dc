"""The Redis result channel against a real Redis: store, publish, subscribe, wait."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from harness.procs import free_port
from nanogrid import defaults
from nanogrid.errors import DependencyError
from nanogrid.protocol import Stage
from nanogrid.results import (
    Claim,
    ResultStore,
    ResultWaiter,
    connect,
    describe_redis_error,
    dumps,
)


@pytest.fixture
def client(backend) -> Iterator[redis.Redis]:
    conn = connect(backend.endpoints.redis_url, connect_timeout=2.0, socket_timeout=5.0)
    yield conn
    conn.close()


@pytest.fixture
def store(client) -> ResultStore:
    return ResultStore(client, ttl=60)


@pytest.fixture
def request_id() -> str:
    return f"test-results-{uuid.uuid4()}"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never writes a byte; yields its port."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        server.close()


def result_json(request_id: str, status: str = "SUCCESS") -> str:
    return dumps({"requestId": request_id, "functionId": "fn", "status": status})


def test_publish_without_subscriber_reaches_nobody_but_is_stored(store, request_id):
    payload = result_json(request_id)
    assert store.store_and_publish(request_id, payload) == 0
    assert store.get(request_id) == {
        "requestId": request_id,
        "functionId": "fn",
        "status": "SUCCESS",
    }
    assert store.client.exists(defaults.result_key(request_id))
    assert store.get_stage(request_id) == Stage.COMPLETED


def test_publish_reaches_a_confirmed_waiter(client, store, request_id):
    with ResultWaiter(client, request_id, confirm_timeout=2.0) as waiter:
        waiter.subscribe()
        assert store.store_and_publish(request_id, result_json(request_id)) == 1
        outcome = waiter.wait(deadline=time.monotonic() + 5, read_stored=False)
    assert outcome.source == "pubsub"
    assert outcome.result is not None
    assert outcome.result["requestId"] == request_id


def test_stored_result_and_stage_expire(client, store, request_id):
    store.store_and_publish(request_id, result_json(request_id))
    for key in (defaults.result_key(request_id), defaults.stage_key(request_id)):
        ttl = client.ttl(key)
        assert 0 < ttl <= 60, (key, ttl)


def test_set_stage_has_ttl(client, store, request_id):
    store.set_stage(request_id, Stage.QUEUED)
    assert store.get_stage(request_id) == "QUEUED"
    assert 0 < client.ttl(defaults.stage_key(request_id)) <= 60


def test_queued_never_overwrites_a_claim_that_came_first(store, request_id):
    """The worker can claim the task (stage RUNNING) before the controller records QUEUED."""
    assert store.claim(request_id, "worker-1", 5000) is Claim.CLAIMED
    store.set_stage(request_id, Stage.QUEUED, only_new=True)
    assert store.get_stage(request_id) == "RUNNING"
    store.set_stage(request_id + "-other", Stage.QUEUED, only_new=True)
    assert store.get_stage(request_id + "-other") == "QUEUED"


def test_missing_result_reads_as_none(store, request_id):
    assert store.get(request_id) is None
    assert not store.client.exists(defaults.result_key(request_id))
    assert store.get_stage(request_id) is None


def test_subscribe_is_confirmed_when_it_returns(client, request_id):
    events: list[str] = []
    waiter = ResultWaiter(
        client, request_id, confirm_timeout=2.0, observer=lambda e, _a: events.append(e)
    )
    with waiter:
        waiter.subscribe()
        # no wait of any kind between subscribe() and PUBLISH
        assert client.publish(defaults.result_key(request_id), result_json(request_id)) == 1
    assert events == ["subscribe confirmed"]


def test_late_subscription_recovers_the_stored_result(client, store, request_id):
    assert store.store_and_publish(request_id, result_json(request_id)) == 0
    with ResultWaiter(client, request_id, confirm_timeout=2.0) as waiter:
        waiter.subscribe()
        outcome = waiter.wait(deadline=time.monotonic() + 5)
    assert outcome.source == "stored"
    assert outcome.result is not None
    assert outcome.result["requestId"] == request_id


def test_late_subscription_without_reading_the_store_hits_the_deadline(client, store, request_id):
    store.store_and_publish(request_id, result_json(request_id))
    events: list[str] = []
    with ResultWaiter(
        client, request_id, confirm_timeout=2.0, observer=lambda e, _a: events.append(e)
    ) as waiter:
        waiter.subscribe()
        started = time.monotonic()
        outcome = waiter.wait(deadline=started + 0.3, read_stored=False)
        elapsed = time.monotonic() - started
    assert (outcome.result, outcome.source, outcome.ignored) == (None, None, [])
    assert 0.3 <= elapsed < 2.0
    assert events[-1] == "deadline hit"


def test_accept_filter_ignores_failed_then_takes_success(client, store, request_id):
    only_success = lambda result: result.get("status") == "SUCCESS"  # noqa: E731
    with ResultWaiter(client, request_id, confirm_timeout=2.0) as waiter:
        waiter.subscribe()
        store.store_and_publish(request_id, result_json(request_id, "FAILED"))
        store.store_and_publish(request_id, result_json(request_id, "SUCCESS"))
        outcome = waiter.wait(deadline=time.monotonic() + 5, read_stored=False, accept=only_success)
    assert outcome.result is not None
    assert outcome.result["status"] == "SUCCESS"
    assert [r["status"] for r in outcome.ignored] == ["FAILED"]


def test_accept_filter_reports_a_record_seen_on_pubsub_then_stored_once(client, request_id):
    channel = defaults.result_key(request_id)
    failed = result_json(request_id, "FAILED")

    def store_when_received(event: str, _attrs: dict[str, object]) -> None:
        # the stored key appears only after the pub/sub message was read
        if event == "message received":
            client.set(channel, failed, ex=60)

    only_success = lambda result: result.get("status") == "SUCCESS"  # noqa: E731
    with ResultWaiter(
        client, request_id, confirm_timeout=2.0, poll_interval=0.05, observer=store_when_received
    ) as waiter:
        waiter.subscribe()
        assert client.publish(channel, failed) == 1
        outcome = waiter.wait(deadline=time.monotonic() + 0.5, accept=only_success)
    assert client.get(channel) == failed  # the stored copy was there to be read
    assert outcome.result is None
    assert [r["status"] for r in outcome.ignored] == ["FAILED"]


def test_accept_filter_reports_a_record_stored_then_seen_on_pubsub_once(client, store, request_id):
    only_success = lambda result: result.get("status") == "SUCCESS"  # noqa: E731
    with ResultWaiter(client, request_id, confirm_timeout=2.0, poll_interval=0.05) as waiter:
        waiter.subscribe()
        assert store.store_and_publish(request_id, result_json(request_id, "FAILED")) == 1
        outcome = waiter.wait(deadline=time.monotonic() + 0.5, accept=only_success)
    assert outcome.result is None
    assert [r["status"] for r in outcome.ignored] == ["FAILED"]


def test_malformed_message_is_skipped(client, request_id):
    channel = defaults.result_key(request_id)
    with ResultWaiter(client, request_id, confirm_timeout=2.0) as waiter:
        waiter.subscribe()
        client.publish(channel, "not json at all {")
        client.publish(channel, result_json(request_id))
        outcome = waiter.wait(deadline=time.monotonic() + 5, read_stored=False)
    assert outcome.result is not None
    assert outcome.result["status"] == "SUCCESS"


def test_subscribe_to_a_closed_port_is_refused():
    conn = connect(f"redis://127.0.0.1:{free_port()}/0", connect_timeout=1.0, socket_timeout=1.0)
    waiter = ResultWaiter(conn, "r", confirm_timeout=2.0)
    with pytest.raises(DependencyError, match="refused") as info:
        waiter.subscribe()
    assert info.value.dependency == "redis"
    assert waiter._pubsub is None  # closed again
    conn.close()


def test_subscribe_to_a_silent_server_times_out(silent_server):
    conn = connect(f"redis://127.0.0.1:{silent_server}/0", connect_timeout=1.0, socket_timeout=0.1)
    waiter = ResultWaiter(conn, "r", confirm_timeout=0.5)
    with pytest.raises(DependencyError, match="timed out") as info:
        waiter.subscribe()
    conn.close()
    assert info.value.dependency == "redis"
    assert waiter._pubsub is None


def test_subscribe_to_a_silent_server_times_out_within_the_confirm_timeout(silent_server):
    # socket timeout below the confirm timeout: one unanswered read fits in the bound
    # as the controller's subscriber: no retries
    conn = connect(
        f"redis://127.0.0.1:{silent_server}/0", connect_timeout=1.0, socket_timeout=0.2, retries=0
    )
    waiter = ResultWaiter(conn, "r", confirm_timeout=0.4)
    started = time.monotonic()
    with pytest.raises(DependencyError, match="timed out"):
        waiter.subscribe()
    elapsed = time.monotonic() - started
    conn.close()
    assert elapsed < 0.4 + 0.3, f"subscribe took {elapsed:.2f}s with confirm_timeout=0.4s"


@pytest.mark.parametrize(
    ("exc", "prefix"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
        (
            redis.ConnectionError("Error 111 connecting to x. Connection refused."),
            "connection refused",
        ),
        (redis.TimeoutError("Timeout reading from socket"), "timed out"),
        (TimeoutError(), "timed out"),
        (redis.ConnectionError("Timeout connecting: timed out"), "timed out"),
        (ConnectionResetError(104, "peer gone"), "connection reset"),
        (redis.ConnectionError("Connection reset by peer"), "connection reset"),
        (redis.ConnectionError("Connection closed by server."), "ConnectionError: "),
        (OSError("no route"), "OSError: no route"),
    ],
)
def test_describe_redis_error(exc, prefix):
    assert describe_redis_error(exc).startswith(prefix)


def test_connect_sets_timeouts_and_decodes(backend):
    conn = connect(backend.endpoints.redis_url, connect_timeout=1.5, socket_timeout=3.5)
    kwargs = conn.connection_pool.connection_kwargs
    assert kwargs["socket_connect_timeout"] == 1.5
    assert kwargs["socket_timeout"] == 3.5
    assert kwargs["decode_responses"] is True
    assert conn.ping() is True
    conn.close()


def test_claim_is_one_atomic_decision(store, request_id):
    from nanogrid.results import Claim, claim_key

    assert store.claim(request_id, "worker-1", 5000) is Claim.CLAIMED
    assert store.get_stage(request_id) == "RUNNING"
    assert 0 < store.client.pttl(claim_key(request_id)) <= 5000
    assert store.claim(request_id, "worker-2", 5000) is Claim.TAKEN
    assert store.client.get(claim_key(request_id)) == "worker-1"
    store.store_and_publish(request_id, result_json(request_id, "SUCCESS"))
    assert store.claim(request_id, "worker-2", 5000) is Claim.DONE
    assert store.get_stage(request_id) == "COMPLETED"  # a late claim does not rewind the stage
