"""Taps and their guard, wire events and the recorder."""

from __future__ import annotations

import inspect
import json
import threading

import pytest

from harness.wire.http import HttpTap
from harness.wire.model import (
    DETAIL_BYTES_DOWNSTREAM,
    DETAIL_BYTES_UPSTREAM,
    DETAIL_OFFSET,
    DETAIL_REASON,
    DETAIL_UNDECODED_DOWNSTREAM,
    DETAIL_UNDECODED_UPSTREAM,
    DIRECTION_BOTH,
    DIRECTION_DOWNSTREAM,
    DIRECTION_UPSTREAM,
    KIND_CLOSED,
    KIND_COMMAND,
    KIND_REPLY,
    KIND_UNDECODED,
    PROTOCOL_BYTES,
    PROTOCOL_HTTP,
    PROTOCOL_REDIS,
    PROTOCOLS,
    Emitter,
    WireEvent,
    WireRecorder,
)
from harness.wire.resp import RedisTap
from harness.wire.tap import ByteTap, GuardedTap, Tap, make_tap

UP, DOWN = DIRECTION_UPSTREAM, DIRECTION_DOWNSTREAM


def emitter(events: list[WireEvent], protocol: str = PROTOCOL_REDIS) -> Emitter:
    return Emitter("worker->redis", 3, protocol, events.append)


IMPLEMENTATIONS = [
    ByteTap(emitter([])),
    GuardedTap(ByteTap(emitter([])), emitter([])),
    RedisTap(emitter([])),
    HttpTap(emitter([], PROTOCOL_HTTP)),
]


@pytest.mark.parametrize("tap", IMPLEMENTATIONS, ids=lambda t: type(t).__name__)
def test_every_tap_implements_the_protocol(tap):
    for method in ("feed", "close"):
        expected = inspect.signature(getattr(Tap, method)).parameters
        actual = inspect.signature(getattr(type(tap), method)).parameters
        assert list(actual) == list(expected), method


@pytest.mark.parametrize(
    ("protocol", "decoder"),
    [(PROTOCOL_REDIS, RedisTap), (PROTOCOL_HTTP, HttpTap), (PROTOCOL_BYTES, None), (None, None)],
)
def test_make_tap_builds_the_protocol_decoder_behind_the_guard(protocol, decoder):
    tap = make_tap(protocol, "p", 1, lambda event: None)
    if decoder is None:
        assert type(tap) is ByteTap
    else:
        assert isinstance(tap, GuardedTap)
        assert isinstance(tap._decoder, decoder)


def test_every_protocol_has_a_tap_and_no_other():
    for protocol in PROTOCOLS:
        make_tap(protocol, "p", 1, lambda event: None)
    with pytest.raises(ValueError, match="gopher"):
        make_tap("gopher", "p", 1, lambda event: None)


def test_a_byte_tap_counts_and_records_the_close_once():
    events: list[WireEvent] = []
    tap = ByteTap(emitter(events, PROTOCOL_BYTES))
    tap.feed(UP, b"abc", 1)
    tap.feed(DOWN, b"de", 2)
    tap.feed(UP, b"f", 3)
    tap.close(4)
    tap.close(5)
    assert events == [
        WireEvent(
            ts_ns=4,
            path="worker->redis",
            connection=3,
            direction=DIRECTION_BOTH,
            protocol=PROTOCOL_BYTES,
            kind=KIND_CLOSED,
            detail={
                DETAIL_BYTES_UPSTREAM: 4,
                DETAIL_BYTES_DOWNSTREAM: 2,
                DETAIL_UNDECODED_UPSTREAM: 0,
                DETAIL_UNDECODED_DOWNSTREAM: 0,
            },
        )
    ]


class Exploding:
    """A decoder that fails on a given chunk, and on close."""

    def __init__(self, fail_on: bytes) -> None:
        self.fail_on = fail_on
        self.fed: list[tuple[str, bytes]] = []

    def feed(self, direction: str, data: bytes, ts_ns: int) -> None:
        if data == self.fail_on:
            raise RuntimeError("decoder bug")
        self.fed.append((direction, data))

    def close(self, ts_ns: int) -> None:
        raise KeyError("close bug")


def test_the_guard_turns_a_decoder_failure_into_one_undecoded_event():
    events: list[WireEvent] = []
    decoder = Exploding(fail_on=b"boom")
    tap = GuardedTap(decoder, emitter(events))
    tap.feed(UP, b"12345", 1)
    tap.feed(UP, b"boom", 2)  # raises inside: the direction is given up from this chunk
    tap.feed(UP, b"after", 3)
    tap.feed(DOWN, b"still decoded", 4)
    tap.close(5)  # raises inside too: the close is recorded all the same
    assert decoder.fed == [(UP, b"12345"), (DOWN, b"still decoded")]
    [undecoded, closed] = events
    assert (undecoded.kind, undecoded.direction, undecoded.ts_ns) == (KIND_UNDECODED, UP, 2)
    assert undecoded.detail[DETAIL_OFFSET] == 5
    assert "RuntimeError('decoder bug')" in undecoded.detail[DETAIL_REASON]
    assert closed.kind == KIND_CLOSED
    assert closed.detail[DETAIL_UNDECODED_UPSTREAM] == len(b"boomafter")
    assert closed.detail[DETAIL_UNDECODED_DOWNSTREAM] == 0


def test_a_failing_sink_never_reaches_the_proxy(caplog):
    def sink(event: WireEvent) -> None:
        raise OSError("disk full")

    tap = make_tap(PROTOCOL_REDIS, "worker->redis", 1, sink)
    tap.feed(UP, b"*1\r\n$4\r\nPING\r\n", 1)
    tap.feed(DOWN, b"+PONG\r\n", 2)
    tap.close(3)
    assert [r.getMessage() for r in caplog.records] == [
        "wire worker->redis#1: the event sink failed"
    ]


# --- events and the recorder ---------------------------------------------------------------

EVENT = WireEvent(
    ts_ns=1_700_000_000_000_000_000,
    path="worker->redis",
    connection=2,
    direction=DOWN,
    protocol=PROTOCOL_REDIS,
    kind=KIND_REPLY,
    name="PUBLISH",
    target="result:r1",
    detail={"receivers": 0, "latency_ns": 1500},
)


def test_an_event_round_trips_through_json():
    assert WireEvent.from_dict(json.loads(json.dumps(EVENT.to_dict()))) == EVENT


def test_the_recorder_marks_selects_and_round_trips_jsonl(tmp_path):
    recorder = WireRecorder()
    recorder.record(EVENT)
    mark = recorder.mark()
    other = WireEvent(1, "controller->redis", 1, UP, PROTOCOL_REDIS, KIND_COMMAND, "SUBSCRIBE")
    recorder(other)
    assert recorder.since(mark) == [other]
    assert recorder.select(KIND_REPLY) == [EVENT]
    assert recorder.select(path="controller->redis", name="SUBSCRIBE") == [other]
    assert recorder.select(protocol=PROTOCOL_HTTP) == []
    recorder.write_jsonl(tmp_path / "wire.jsonl")
    assert WireRecorder.read_jsonl(tmp_path / "wire.jsonl").events == [EVENT, other]
    assert not list(tmp_path.glob("*.tmp"))


def test_the_recorder_is_thread_safe():
    recorder = WireRecorder()

    def record() -> None:
        for _ in range(2000):
            recorder.record(EVENT)

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(recorder.events) == 8000
