"""The fault ledger: ordered, de-duplicated hits, and a JSON-lines round trip."""

from __future__ import annotations

import threading

import pytest

from harness.faults import Direction, EventKind, Fault, FaultKind, FaultLedger
from tests.harness.faults.conftest import round_trip, wait_until


def test_hits_are_recorded_once_per_fault_connection_stream_and_action():
    ledger = FaultLedger()
    fault = Fault("silent", FaultKind.BLACKHOLE)
    recorded = [
        ledger.record_hit("p", fault, 1, Direction.UPSTREAM, "drop", 10),
        ledger.record_hit("p", fault, 1, Direction.UPSTREAM, "drop", 20),
        ledger.record_hit("p", fault, 1, Direction.DOWNSTREAM, "drop", 30),
        ledger.record_hit("p", fault, 2, Direction.UPSTREAM, "drop", 40),
    ]
    assert recorded == [True, False, True, True]
    assert [e.detail["bytes"] for e in ledger.events] == [10, 30, 40]


def test_concurrent_records_keep_timestamps_in_list_order():
    ledger = FaultLedger()

    def burst() -> None:
        for i in range(200):
            ledger.record("p", EventKind.CONNECTION_OPENED, connection=i)

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps = [e.ts_ns for e in ledger.events]
    assert len(stamps) == 800
    assert stamps == sorted(stamps)


def test_proxy_records_added_active_and_hit_with_connection_ids_in_order(
    echo_proxy, connect, ledger
):
    sock = connect(echo_proxy.listen_port, timeout=0.2)
    wait_until(lambda: echo_proxy.connections == [1])
    echo_proxy.add(Fault("silent", FaultKind.BLACKHOLE, Direction.DOWNSTREAM))
    sock.sendall(b"12345")
    wait_until(lambda: ledger.select(EventKind.FAULT_HIT))

    events = ledger.events
    assert [e.event for e in events] == [
        EventKind.CONNECTION_OPENED,
        EventKind.FAULT_ADDED,
        EventKind.FAULT_ACTIVE,
        EventKind.FAULT_HIT,
    ]
    assert [e.ts_ns for e in events] == sorted(e.ts_ns for e in events)
    opened, added, _, hit = events
    assert added.detail == Fault("silent", "blackhole", "downstream").to_dict()  # type: ignore[arg-type]
    assert (hit.proxy, hit.fault, hit.kind) == ("client->echo", "silent", FaultKind.BLACKHOLE)
    assert (hit.connection, hit.direction) == (opened.connection, Direction.DOWNSTREAM)
    assert hit.detail == {"action": "drop", "bytes": 5}


def test_jsonl_round_trip_preserves_every_event(echo_proxy, connect, ledger, tmp_path):
    echo_proxy.add(Fault("rst", FaultKind.RESET, first_n_connections=1))
    with pytest.raises(ConnectionResetError):
        round_trip(connect(echo_proxy.listen_port), b"x")
    wait_until(lambda: ledger.select(EventKind.CONNECTION_CLOSED))

    path = tmp_path / "faults.jsonl"
    ledger.write_jsonl(path)
    loaded = FaultLedger.read_jsonl(path)

    assert loaded.events == ledger.events
    assert len(path.read_text().splitlines()) == len(ledger.events)
    assert {e.event for e in loaded.events} >= {EventKind.FAULT_HIT, EventKind.CONNECTION_CLOSED}
