"""Faults on Redis messages, against a real Redis through a protocol-aware proxy: each kind,
each stream, each schedule, and what they leave alone."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.faults import Direction, EventKind, Fault, FaultLedger, FaultProxy, InvalidFault
from tests.harness.faults.conftest import recv_exactly, send_in_pieces, wait_until


@pytest.fixture
def redis_proxy(redis_port: int, ledger: FaultLedger) -> Iterator[FaultProxy]:
    with FaultProxy("controller->redis", "127.0.0.1", redis_port, ledger, protocol="redis") as p:
        yield p


@pytest.fixture
def direct(redis_port: int) -> Iterator[redis.Redis]:
    """A client straight to Redis (no proxy), to see what the server saw."""
    with redis.Redis(port=redis_port, socket_timeout=5) as client:
        client.flushall()
        client.config_resetstat()
        yield client


@pytest.fixture
def client(redis_proxy: FaultProxy, redis_client) -> Callable[..., redis.Redis]:
    """``client(timeout=5)``: a client through the proxy, no retries."""
    return lambda timeout=5.0: redis_client(redis_proxy.listen_port, timeout)


def calls(direct: redis.Redis, command: str) -> int:
    """How often the server ran ``command`` since the fixture reset the stats."""
    stats = direct.info("commandstats").get(f"cmdstat_{command.lower()}")
    return int(stats["calls"]) if stats else 0


def message_hits(ledger: FaultLedger, fault: str) -> list[dict[str, object]]:
    return [e.detail for e in ledger.select(EventKind.MESSAGE_HIT, fault=fault)]


def test_delayed_subscribe_misses_a_publish_made_meanwhile(redis_proxy, client, direct, ledger):
    redis_proxy.add(
        Fault("late", "redis_delay", command="SUBSCRIBE", key="result:*", delay_ms=1500)
    )
    pubsub = client().pubsub()
    pubsub.subscribe("result:r1")  # sent; held by the proxy
    # While it is held, the server has no subscriber: the publish reaches nobody.
    assert direct.publish("result:r1", "early") == 0
    first = pubsub.get_message(timeout=5)
    assert first is not None
    assert first["type"] == "subscribe"
    assert wait_until(lambda: direct.publish("result:r1", "late") == 1)
    message = pubsub.get_message(timeout=5)
    assert message is not None
    assert message["data"] == b"late"
    pubsub.close()
    [hit] = message_hits(ledger, "late")
    assert hit["action"] == "delay"
    assert hit["message"] == "SUBSCRIBE"
    assert hit["targets"] == ["result:r1"]


def test_delay_leaves_other_commands_and_keys_alone(redis_proxy, client, direct, ledger):
    redis_proxy.add(Fault("late", "redis_delay", command="SUBSCRIBE", delay_ms=60_000))
    r = client(timeout=2)
    assert r.set("result:x", "1")
    assert r.get("result:x") == b"1"
    assert message_hits(ledger, "late") == []


def test_dropped_command_never_reaches_the_server_and_the_client_waits(
    redis_proxy, client, direct, ledger
):
    redis_proxy.add(Fault("lost", "redis_drop", command="GET", key="result:*"))
    direct.set("result:r1", "FAILED")
    with pytest.raises(redis.TimeoutError):
        client(timeout=0.5).get("result:r1")
    assert calls(direct, "get") == 0
    assert client().get("other") is None  # another key passes
    assert calls(direct, "get") == 1
    assert message_hits(ledger, "lost")[0]["targets"] == ["result:r1"]


def test_error_answers_in_the_servers_place_in_order_with_the_rest(
    redis_proxy, client, direct, ledger
):
    redis_proxy.add(
        Fault("oom", "redis_error", command="SET", key="result:*", error="OOM no memory left")
    )
    pipe = client().pipeline(transaction=False)
    pipe.set("a", "1").set("result:r1", "x").get("a").set("b", "2")
    first, failed, got, last = pipe.execute(raise_on_error=False)
    assert first is True
    assert got == b"1"
    assert last is True
    assert isinstance(failed, redis.ResponseError)
    assert str(failed) == "no memory left"
    assert direct.exists("result:r1") == 0
    assert direct.get("b") == b"2"
    assert calls(direct, "set") == 2
    [hit] = message_hits(ledger, "oom")
    assert hit["action"] == "answer"
    assert hit["error"] == "OOM"


def test_error_default_is_loading_and_bad_errors_are_refused(redis_proxy, client):
    redis_proxy.add(Fault("loading", "redis_error", command="PING"))
    with pytest.raises(redis.BusyLoadingError):
        client().ping()
    with pytest.raises(InvalidFault, match="upper-case code"):
        Fault("bad", "redis_error", error="no code")
    with pytest.raises(InvalidFault, match="one line"):
        Fault("bad", "redis_error", error="ERR a\r\n+OK")


def test_close_at_a_command_cuts_the_connection_before_the_server_sees_it(
    redis_proxy, client, direct, ledger
):
    redis_proxy.add(Fault("cut", "redis_close", command="PUBLISH", key="result:*"))
    r = client()
    assert r.ping() is True
    with pytest.raises(redis.ConnectionError):
        r.publish("result:r1", "x")
    assert calls(direct, "publish") == 0
    assert message_hits(ledger, "cut")[0]["action"] == "close"
    [closed] = wait_until(lambda: ledger.select(EventKind.CONNECTION_CLOSED))
    assert "PUBLISH" in str(closed.detail["reason"])


def test_pushed_message_dropped_on_its_channel_only(redis_proxy, client, direct, ledger):
    redis_proxy.add(Fault("lost", "redis_message_drop", channel="result:*"))
    pubsub = client().pubsub()
    pubsub.subscribe("result:r1", "other")
    for _ in range(2):
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"
    assert direct.publish("result:r1", "gone") == 1  # the server delivered it
    assert direct.publish("other", "kept") == 1
    message = pubsub.get_message(timeout=5)
    assert message is not None
    assert (message["channel"], message["data"]) == (b"other", b"kept")
    pubsub.close()
    [hit] = message_hits(ledger, "lost")
    assert hit["action"] == "drop"
    assert hit["message"] == "message"
    assert hit["targets"] == ["result:r1"]


def test_pushed_message_delayed_arrives_later_intact(redis_proxy, client, direct, ledger):
    redis_proxy.add(Fault("slow", "redis_message_delay", channel="result:*", delay_ms=700))
    pubsub = client().pubsub()
    pubsub.psubscribe("result:*")
    assert pubsub.get_message(timeout=5)["type"] == "psubscribe"
    assert direct.publish("result:r1", '{"status": "FAILED"}') == 1
    assert pubsub.get_message(timeout=0) is None  # not yet, though the server sent it
    message = pubsub.get_message(timeout=5)
    assert message is not None
    assert message["data"] == b'{"status": "FAILED"}'
    assert message["channel"] == b"result:r1"
    pubsub.close()
    assert message_hits(ledger, "slow")[0]["message"] == "pmessage"


def test_first_n_matches_then_the_command_passes(redis_proxy, client, direct):
    redis_proxy.add(Fault("twice", "redis_error", command="INCR*", first_n_matches=2))
    r = client()
    outcomes = []
    for _ in range(4):
        try:
            outcomes.append(r.incr("n"))
        except redis.BusyLoadingError:
            outcomes.append("error")
    assert outcomes == ["error", "error", 1, 2]


def errors_with(proxy: FaultProxy, client: redis.Redis, seed: int, name: str) -> list[bool]:
    proxy.add(Fault(name, "redis_error", command="ECHO", probability=0.5, seed=seed))
    pattern = []
    for i in range(24):
        try:
            client.echo(str(i))
            pattern.append(False)
        except redis.BusyLoadingError:
            pattern.append(True)
    proxy.remove(name)
    return pattern


def test_probability_is_seeded_and_reproducible(redis_proxy, client):
    r = client()
    first = errors_with(redis_proxy, r, 7, "a")
    assert first == errors_with(redis_proxy, r, 7, "b")
    assert first != errors_with(redis_proxy, r, 8, "c")
    assert 0 < sum(first) < len(first)


def test_schedule_start_after_and_duration_bound_the_fault(redis_proxy, client, ledger):
    r = client()
    redis_proxy.add(Fault("later", "redis_error", command="PING", start_after_s=3600))
    assert r.ping() is True  # pending: not acting yet
    redis_proxy.add(Fault("brief", "redis_error", command="ECHO", duration_s=0.3))
    wait_until(lambda: ledger.select(EventKind.FAULT_EXPIRED, fault="brief"), timeout=5)
    assert r.echo("x") == b"x"
    assert message_hits(ledger, "later") == []
    assert message_hits(ledger, "brief") == []


def test_a_fault_added_on_an_open_connection_acts_on_its_next_command(redis_proxy, client):
    r = client()
    assert r.ping() is True
    redis_proxy.add(Fault("now", "redis_error", command="PING"))
    with pytest.raises(redis.BusyLoadingError):
        r.ping()
    redis_proxy.remove("now")
    assert r.ping() is True


def test_kinds_check_direction_and_protocol(redis_proxy, echo, make_proxy):
    with pytest.raises(InvalidFault, match="direction must be downstream"):
        Fault("x", "redis_message_drop", Direction.UPSTREAM)
    with pytest.raises(InvalidFault, match="applies to faults on messages only"):
        Fault("x", "latency", latency_ms=5, first_n_matches=1)
    with pytest.raises(InvalidFault, match="probability must be in"):
        Fault("x", "redis_drop", probability=0)
    with pytest.raises(InvalidFault, match="speaks bytes only"):
        make_proxy(echo.port).add(Fault("x", "redis_drop"))
    with pytest.raises(InvalidFault, match="acts on http messages"):
        redis_proxy.add(Fault("x", "aws_delay", delay_ms=5))


def resp(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


commands = st.lists(
    st.tuples(
        st.sampled_from([b"GET", b"SET", b"PUBLISH", b"SUBSCRIBE", b"EVALSHA"]),
        st.lists(st.binary(max_size=40), max_size=3),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(commands=commands, cuts=st.lists(st.integers(1, 64), min_size=1, max_size=8), data=st.data())
def test_unmatched_traffic_is_byte_identical_and_a_dropped_command_is_only_that(
    echo, ledger, commands, cuts, data
):
    """Behind a Redis-speaking proxy with faults on messages installed, an echo server
    receives exactly the bytes sent, whatever the chunking, but for the one dropped
    command; the client reads back the same bytes."""
    frames = [resp(name, *args) for name, args in commands]
    dropped = data.draw(st.integers(-1, len(frames) - 1))  # -1: nothing matches
    names = [b"KEEP%d" % i for i in range(len(frames))]
    if dropped >= 0:
        names[dropped] = b"DROPME"
    frames = [resp(names[i], *args) for i, (_, args) in enumerate(commands)]
    stream = b"".join(frames)
    expected = b"".join(f for i, f in enumerate(frames) if i != dropped)
    before = echo.received  # the echo server lives across hypothesis examples
    with FaultProxy("client->echo", "127.0.0.1", echo.port, ledger, protocol="redis") as proxy:
        proxy.add(Fault("drop", "redis_drop", command="DROPME"))
        proxy.add(Fault("never", "redis_error", command="NOSUCH"))
        with socket.create_connection(proxy.address, timeout=5) as sock:
            send_in_pieces(sock, stream, cuts)
            got = recv_exactly(sock, len(expected))
    assert got == expected
    assert echo.received - before == len(expected)
