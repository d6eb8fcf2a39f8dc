"""The fault proxy against a real threaded echo server: one test per fault kind and stream."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from harness.faults import (
    Direction,
    EventKind,
    Fault,
    FaultKind,
    FaultProxy,
    InvalidFault,
    ProxyError,
    UnknownFault,
)
from tests.harness.faults.conftest import free_port, recv_exactly, round_trip, wait_until

UP, DOWN, BOTH = Direction.UPSTREAM, Direction.DOWNSTREAM, Direction.BOTH


def test_forwards_both_ways_and_records_the_connection(echo_proxy, connect, ledger):
    with connect(echo_proxy.listen_port) as sock:
        assert round_trip(sock, b"hello") == b"hello"
    wait_until(lambda: ledger.select(EventKind.CONNECTION_CLOSED))

    opened = ledger.select(EventKind.CONNECTION_OPENED)
    closed = ledger.select(EventKind.CONNECTION_CLOSED)
    assert [e.connection for e in opened] == [1]
    assert closed[0].connection == 1
    assert closed[0].detail == {"reason": "eof", "bytes_upstream": 5, "bytes_downstream": 5}
    assert echo_proxy.connections == []


def test_down_refuses_connects_and_closes_open_connections(echo_proxy, connect):
    sock = connect(echo_proxy.listen_port)
    assert round_trip(sock, b"before") == b"before"

    echo_proxy.add(Fault("redis-down", FaultKind.DOWN))

    with pytest.raises(ConnectionRefusedError):
        connect(echo_proxy.listen_port)
    assert sock.recv(1) == b""  # the open connection was closed
    echo_proxy.remove("redis-down")
    assert round_trip(connect(echo_proxy.listen_port), b"after") == b"after"


def test_connect_timeout_drops_new_connects_but_spares_open_ones(echo_proxy, connect, ledger):
    sock = connect(echo_proxy.listen_port)
    echo_proxy.add(Fault("security-group", FaultKind.CONNECT_TIMEOUT))

    with pytest.raises(TimeoutError):
        connect(echo_proxy.listen_port, timeout=0.2)
    assert round_trip(sock, b"still fine") == b"still fine"

    echo_proxy.remove("security-group")
    assert round_trip(connect(echo_proxy.listen_port), b"after") == b"after"
    # The connection parked to fill the accept queue is never proxied.
    assert [e.connection for e in ledger.select(EventKind.CONNECTION_OPENED)] == [1, 2]


@pytest.mark.parametrize(
    ("direction", "server_gets_data"), [(UP, False), (DOWN, True), (BOTH, False)]
)
def test_blackhole_keeps_the_connection_open_but_silent(
    echo, echo_proxy, connect, direction, server_gets_data
):
    sock = connect(echo_proxy.listen_port, timeout=0.2)
    echo_proxy.add(Fault("silent", FaultKind.BLACKHOLE, direction))

    sock.sendall(b"lost")
    with pytest.raises(TimeoutError):
        sock.recv(16)
    if server_gets_data:
        wait_until(lambda: echo.received == 4)
    else:
        assert echo.received == 0

    echo_proxy.remove("silent")
    sock.settimeout(2)
    assert round_trip(sock, b"back") == b"back"  # same connection, never closed


def test_reset_aborts_an_open_connection_with_rst(echo_proxy, connect):
    sock = connect(echo_proxy.listen_port)
    assert round_trip(sock, b"ok") == b"ok"

    echo_proxy.add(Fault("rst", FaultKind.RESET))

    with pytest.raises(ConnectionResetError):
        sock.recv(1)


def test_reset_applies_to_new_connections(echo_proxy, connect):
    echo_proxy.add(Fault("rst", FaultKind.RESET))
    # The handshake completes; the RST may then meet the connect call or the first read.
    with pytest.raises(ConnectionResetError):
        round_trip(connect(echo_proxy.listen_port), b"x")


def test_reset_after_bytes_upstream_lets_only_that_many_through(echo, echo_proxy, connect):
    echo_proxy.add(Fault("rst", FaultKind.RESET, UP, after_bytes=5))
    sock = connect(echo_proxy.listen_port)
    sock.sendall(b"0123456789")
    with pytest.raises(ConnectionResetError):
        recv_exactly(sock, 10)
    assert echo.received <= 5


def test_reset_after_bytes_downstream_cuts_the_reply(echo_proxy, connect):
    echo_proxy.add(Fault("rst", FaultKind.RESET, DOWN, after_bytes=5))
    sock = connect(echo_proxy.listen_port)
    sock.sendall(b"0123456789")
    received = bytearray()

    def read_until_error() -> None:
        while chunk := sock.recv(16):
            received.extend(chunk)

    with pytest.raises(ConnectionResetError):
        read_until_error()
    assert b"01234".startswith(bytes(received))


@pytest.mark.parametrize(("direction", "legs"), [(UP, 1), (DOWN, 1), (BOTH, 2)])
def test_latency_delays_each_leg(echo_proxy, connect, direction, legs):
    sock = connect(echo_proxy.listen_port)
    assert round_trip(sock, b"warm") == b"warm"
    echo_proxy.add(Fault("slow", FaultKind.LATENCY, direction, latency_ms=80))

    started = time.monotonic()
    assert round_trip(sock, b"ping") == b"ping"
    assert time.monotonic() - started >= legs * 0.080


def test_latency_with_jitter_stays_above_latency_minus_jitter(echo_proxy, connect):
    echo_proxy.add(Fault("jitter", FaultKind.LATENCY, DOWN, latency_ms=60, jitter_ms=30, seed=3))
    sock = connect(echo_proxy.listen_port)
    started = time.monotonic()
    for _ in range(3):
        assert round_trip(sock, b"p") == b"p"
    assert time.monotonic() - started >= 3 * 0.030


@pytest.mark.parametrize("direction", [UP, DOWN, BOTH])
def test_bandwidth_caps_throughput(echo_proxy, connect, direction):
    rate_kb_s, payload = 200.0, bytes(range(256)) * 80  # 20 480 bytes: >= 0.1 s
    echo_proxy.add(Fault("thin-pipe", FaultKind.BANDWIDTH, direction, rate_kb_s=rate_kb_s))
    sock = connect(echo_proxy.listen_port, timeout=5)

    started = time.monotonic()
    assert round_trip(sock, payload) == payload
    assert time.monotonic() - started >= len(payload) / (rate_kb_s * 1000)


@pytest.mark.parametrize("direction", [UP, DOWN])
def test_slicer_delivers_data_intact_in_delayed_pieces(echo_proxy, connect, direction):
    payload = bytes(range(256)) * 8  # 2048 bytes, 21 pieces of 100
    echo_proxy.add(Fault("slices", FaultKind.SLICER, direction, slice_bytes=100, slice_delay_ms=5))
    sock = connect(echo_proxy.listen_port, timeout=5)

    started = time.monotonic()
    assert round_trip(sock, payload) == payload
    assert time.monotonic() - started >= 20 * 0.005


def test_first_n_connections_only_hits_the_first_two(echo_proxy, connect, ledger):
    echo_proxy.add(Fault("flaky", FaultKind.RESET, first_n_connections=2))

    for _ in range(2):
        with pytest.raises(ConnectionResetError):
            round_trip(connect(echo_proxy.listen_port), b"x")
    assert round_trip(connect(echo_proxy.listen_port), b"third") == b"third"
    assert [e.connection for e in ledger.select(EventKind.FAULT_HIT)] == [1, 2]


def test_start_after_and_duration_bound_the_fault(echo_proxy, ledger):
    fault = Fault("blip", FaultKind.DOWN, start_after_s=0.3, duration_s=0.3)
    echo_proxy.add(fault)
    attempts = _poll_connects(echo_proxy, until=lambda log: "refused" in log and log[-1] == "ok")

    added, active, expired = (
        ledger.select(kind, fault="blip")[0].ts_ns
        for kind in (EventKind.FAULT_ADDED, EventKind.FAULT_ACTIVE, EventKind.FAULT_EXPIRED)
    )
    assert active - added >= 0.3e9
    assert expired - added >= 0.6e9
    refused_ends = [end for end, outcome in attempts if outcome == "refused"]
    assert min(refused_ends) >= active


def _poll_connects(proxy: FaultProxy, until, timeout: float = 3.0) -> list[tuple[int, str]]:
    """Connect repeatedly; return (end time ns, "ok" | "refused") until ``until(outcomes)``."""
    log: list[tuple[int, str]] = []

    def attempt() -> bool:
        try:
            socket.create_connection(proxy.address, timeout=1).close()
            outcome = "ok"
        except ConnectionRefusedError:
            outcome = "refused"
        log.append((time.time_ns(), outcome))
        return bool(until([o for _, o in log]))

    wait_until(attempt, timeout=timeout)
    return log


def test_faults_added_before_start_are_armed_at_start(echo, ledger):
    proxy = FaultProxy("early", "127.0.0.1", echo.port, ledger)
    proxy.add(Fault("down-from-start", FaultKind.DOWN))
    with proxy:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(proxy.address, timeout=1)
    assert [e.event for e in ledger.events[:2]] == [EventKind.FAULT_ADDED, EventKind.FAULT_ACTIVE]


def test_unreachable_upstream_closes_the_client_and_is_recorded(make_proxy, connect, ledger):
    proxy = make_proxy(free_port(), name="client->nowhere")
    sock = connect(proxy.listen_port)
    assert sock.recv(1) == b""
    refused = wait_until(lambda: ledger.select(EventKind.CONNECTION_REFUSED))
    assert refused[0].connection == 1
    assert "ConnectionRefusedError" in refused[0].detail["reason"]


def test_stop_closes_connections_and_leaves_no_thread(echo, connect):
    proxy = FaultProxy("short-lived", "127.0.0.1", echo.port).start()
    sock = connect(proxy.listen_port)
    assert round_trip(sock, b"x") == b"x"
    proxy.stop()

    assert sock.recv(1) == b""
    assert not [t for t in threading.enumerate() if t.name == "FaultProxy[short-lived]"]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", sock.getpeername()[1]), timeout=1)
    with pytest.raises(ProxyError):
        proxy.start()


def test_misuse_is_reported_clearly(echo_proxy):
    echo_proxy.add(Fault("one", FaultKind.BLACKHOLE))
    with pytest.raises(InvalidFault, match="already has a fault 'one'"):
        echo_proxy.add(Fault("one", FaultKind.LATENCY, latency_ms=1))
    with pytest.raises(UnknownFault):
        echo_proxy.remove("two")
    echo_proxy.clear()
    assert echo_proxy.faults == ()
    with pytest.raises(ProxyError, match="not started"):
        _ = FaultProxy("idle", "127.0.0.1", 1).listen_port


def test_close_connections_makes_clients_connect_again(echo_proxy, connect, ledger):
    sock = connect(echo_proxy.listen_port)
    assert round_trip(sock, b"open") == b"open"
    echo_proxy.close_connections("client host restarted")
    assert sock.recv(1) == b""  # closed by the proxy

    def closed_with_reason() -> bool:
        closed = [e for e in ledger.events if e.event == EventKind.CONNECTION_CLOSED]
        return any("client host restarted" in str(e.detail) for e in closed)

    assert wait_until(closed_with_reason)
    assert round_trip(connect(echo_proxy.listen_port), b"again") == b"again"
