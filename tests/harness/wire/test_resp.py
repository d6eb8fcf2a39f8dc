"""The RESP decoder and the Redis tap, on real redis-py / valkey-server bytes and on
hypothesis-generated RESP2/RESP3 values."""

from __future__ import annotations

import hashlib
import json
import math
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.env.embedded import redis_binary
from harness.wire import resp
from harness.wire.model import (
    DETAIL_ARGS,
    DETAIL_BYTES,
    DETAIL_COUNT,
    DETAIL_ERROR,
    DETAIL_LATENCY_NS,
    DETAIL_LENGTH,
    DETAIL_NUMKEYS,
    DETAIL_OFFSET,
    DETAIL_PATTERN,
    DETAIL_PROTOCOL_VERSION,
    DETAIL_QUEUED,
    DETAIL_REASON,
    DETAIL_RECEIVERS,
    DETAIL_REQUEST_ID,
    DETAIL_SEQ,
    DETAIL_SHA,
    DETAIL_STATUS,
    DETAIL_TRANSACTION,
    DETAIL_TYPE,
    DETAIL_UNDECODED_DOWNSTREAM,
    DETAIL_VALUE,
    DIRECTION_DOWNSTREAM,
    DIRECTION_UPSTREAM,
    KIND_CLOSED,
    KIND_COMMAND,
    KIND_ERROR,
    KIND_MESSAGE,
    KIND_REPLY,
    KIND_SUBSCRIBED,
    KIND_UNDECODED,
    KIND_UNSUBSCRIBED,
    PROTOCOL_REDIS,
    TEXT_LIMIT,
    Emitter,
    WireEvent,
)
from harness.wire.resp import MAX_BULK, MAX_DEPTH, Frame, RedisTap, RespDecoder, RespType
from harness.wire.tap import make_tap
from tests.harness.faults.conftest import free_port, wait_until

UP, DOWN = DIRECTION_UPSTREAM, DIRECTION_DOWNSTREAM
T = RespType
SENTINEL = b"end-of-exchange"
Transcript = list[tuple[str, bytes]]


# --- a test-local RESP encoder (independent of the decoder under test) -------------------


def encode(frame: Frame) -> bytes:
    out = b""
    if frame.attributes:
        out += b"|%d\r\n" % (len(frame.attributes) // 2) + b"".join(map(encode, frame.attributes))
    marker, value = frame.type.value.encode(), frame.value
    if value is None and frame.type in (T.BULK, T.ARRAY):
        return out + marker + b"-1\r\n"
    if frame.type in (T.SIMPLE, T.ERROR):
        body = value
    elif frame.type in (T.INTEGER, T.BIG_NUMBER):
        body = str(value).encode()
    elif frame.type is T.DOUBLE:
        body = repr(value).encode()
    elif frame.type is T.BOOLEAN:
        body = b"t" if value else b"f"
    elif frame.type is T.NULL:
        body = b""
    elif frame.type in (T.BULK, T.BULK_ERROR, T.VERBATIM):
        return out + marker + b"%d\r\n%s\r\n" % (len(value), value)
    else:
        width = 2 if frame.type in (T.MAP, T.ATTRIBUTE) else 1
        return out + marker + b"%d\r\n" % (len(value) // width) + b"".join(map(encode, value))
    return out + marker + body + b"\r\n"


line = st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
leaves = st.one_of(
    st.builds(Frame, st.sampled_from([T.SIMPLE, T.ERROR]), line),
    st.builds(Frame, st.just(T.INTEGER), st.integers(-(2**63), 2**63 - 1)),
    st.builds(Frame, st.just(T.BIG_NUMBER), st.integers(-(10**40), 10**40)),
    st.builds(Frame, st.just(T.BULK), st.none() | st.binary(max_size=40)),
    st.builds(Frame, st.sampled_from([T.BULK_ERROR]), st.binary(max_size=20)),
    st.builds(Frame, st.just(T.VERBATIM), st.binary(max_size=20).map(lambda b: b"txt:" + b)),
    st.builds(Frame, st.just(T.DOUBLE), st.floats(allow_nan=False)),
    st.builds(Frame, st.just(T.BOOLEAN), st.booleans()),
    st.builds(Frame, st.just(T.NULL), st.none()),
)


def _aggregates(children: st.SearchStrategy[Frame]) -> st.SearchStrategy[Frame]:
    items = st.lists(children, max_size=4).map(tuple)
    pairs = st.lists(st.tuples(children, children), max_size=3).map(
        lambda ps: tuple(x for p in ps for x in p)
    )
    return st.one_of(
        st.builds(Frame, st.sampled_from([T.ARRAY, T.SET, T.PUSH]), items),
        st.builds(Frame, st.just(T.ARRAY), st.none()),
        st.builds(Frame, st.just(T.MAP), pairs),
    )


attributes = st.lists(st.tuples(leaves, leaves), max_size=2).map(
    lambda ps: tuple(x for p in ps for x in p)
)
frames = st.recursive(leaves, _aggregates, max_leaves=12).flatmap(
    lambda f: st.one_of(st.just(f), attributes.map(lambda a: replace(f, attributes=a)))
)


def decode_in_pieces(data: bytes, cuts: list[int]) -> list[Frame]:
    decoder, out, start = RespDecoder(), [], 0
    for cut in [*sorted(cuts), len(data)]:
        out += decoder.feed(data[start:cut])
        start = cut
    assert decoder.broken is None, decoder.broken
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(frames, min_size=1, max_size=3))
def test_encoded_values_decode_back_whole_and_split_at_every_offset(values):
    data = b"".join(map(encode, values))
    assert decode_in_pieces(data, []) == values
    for offset in range(1, len(data)):
        assert decode_in_pieces(data, [offset]) == values


@settings(max_examples=60, deadline=None)
@given(st.lists(frames, min_size=1, max_size=4), st.data())
def test_random_chunkings_decode_the_same(values, data):
    encoded = b"".join(map(encode, values))
    cuts = data.draw(st.lists(st.integers(0, len(encoded)), max_size=12))
    assert decode_in_pieces(encoded, cuts) == values
    assert decode_in_pieces(encoded, list(range(len(encoded)))) == values  # byte by byte


def test_nan_and_infinities_decode():
    [nan, inf, minus] = RespDecoder().feed(b",nan\r\n,inf\r\n,-inf\r\n")
    assert math.isnan(nan.value)
    assert (inf.value, minus.value) == (math.inf, -math.inf)


def test_attributes_attach_to_the_value_that_follows():
    decoder = RespDecoder()
    [frame] = decoder.feed(b"*2\r\n|1\r\n+ttl\r\n:3\r\n$1\r\na\r\n:2\r\n")
    assert frame.value[0] == Frame(
        T.BULK, b"a", attributes=(Frame(T.SIMPLE, b"ttl"), Frame(T.INTEGER, 3))
    )
    assert frame.value[1] == Frame(T.INTEGER, 2)


def test_inline_commands_are_arrays_of_bulk_strings():
    decoder = RespDecoder(inline=True)
    assert decoder.feed(b"PING\r\n\r\nSET k  v\nGE") == [
        Frame(T.ARRAY, (Frame(T.BULK, b"PING"),)),
        Frame(T.ARRAY, (Frame(T.BULK, b"SET"), Frame(T.BULK, b"k"), Frame(T.BULK, b"v"))),
    ]
    assert decoder.feed(b"T k\r\n") == [
        Frame(T.ARRAY, (Frame(T.BULK, b"GET"), Frame(T.BULK, b"k")))
    ]
    assert RespDecoder().feed(b"PING\r\n") == []  # a server never sends inline


def test_long_strings_are_kept_cut_and_counted():
    decoder = RespDecoder(keep=10)
    [frame] = decoder.feed(b"$1000\r\n" + b"x" * 1000 + b"\r\n")
    assert (frame.value, frame.size, frame.dropped) == (b"x" * 10, 1000, 990)


@pytest.mark.parametrize(
    ("data", "offset", "reason"),
    [
        (b"\x16\x03\x01", 0, "not RESP"),
        (b":12a\r\n", 0, "bad integer"),
        (b"$%d\r\n" % (MAX_BULK + 1), 0, "over the"),
        (b"*1\r\n" * (MAX_DEPTH + 1), 4 * MAX_DEPTH, "nested deeper"),
        (b"$3\r\nabcd\r\n", 7, "no CRLF"),
        (b"#x\r\n", 0, "bad boolean"),
        (b"(" + b"9" * 5000 + b"\r\n", 0, "bad big_number"),
        (b"+" + b"a" * 70_000, 0, "line too long"),
    ],
)
def test_bad_input_breaks_the_decoder_where_it_is(data, offset, reason):
    decoder = RespDecoder()
    assert decoder.feed(b"+OK\r\n" + data) == [Frame(T.SIMPLE, b"OK")]
    assert reason in (decoder.broken or "")
    assert decoder.broken_at == 5 + offset
    assert decoder.feed(b"+OK\r\n") == []  # stays broken


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300), st.lists(st.integers(1, 50), max_size=8))
def test_random_bytes_never_raise(upstream, downstream, sizes):
    events: list[WireEvent] = []
    tap = RedisTap(Emitter("fuzz", 1, PROTOCOL_REDIS, events.append))
    for data, direction in ((upstream, UP), (downstream, DOWN)):
        for size in sizes or [len(data) or 1]:
            chunk, data = data[:size], data[size:]
            tap.feed(direction, chunk, 1)
        tap.feed(direction, data, 2)
    tap.close(3)
    assert all(e.protocol == PROTOCOL_REDIS for e in events)


def test_a_garbled_reply_stream_is_one_undecoded_event_then_counted():
    events: list[WireEvent] = []
    tap = make_tap(PROTOCOL_REDIS, "worker->redis", 7, events.append)
    tap.feed(UP, b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", 10)
    tap.feed(DOWN, b"+PONG\r\n%zz\r\n", 20)
    tap.feed(DOWN, b"+PONG\r\n", 30)
    tap.close(40)
    assert [(e.kind, e.name, e.direction) for e in events] == [
        (KIND_COMMAND, "PING", UP),
        (KIND_COMMAND, "PING", UP),
        (KIND_REPLY, "PING", DOWN),
        (KIND_UNDECODED, "", DOWN),
        (KIND_CLOSED, "", "both"),
    ]
    assert events[3].detail[DETAIL_OFFSET] == 7
    assert "bad map" in events[3].detail[DETAIL_REASON]
    assert events[4].detail[DETAIL_UNDECODED_DOWNSTREAM] == 12  # the "%zz" line and after


def test_a_server_that_never_answers_stops_the_pairing(monkeypatch):
    monkeypatch.setattr(resp, "MAX_PENDING", 5)
    events: list[WireEvent] = []
    tap = make_tap(PROTOCOL_REDIS, "worker->redis", 1, events.append)
    tap.feed(UP, b"*1\r\n$4\r\nPING\r\n" * 6, 1)
    tap.feed(UP, b"*1\r\n$4\r\nPING\r\n", 2)
    tap.feed(DOWN, b"+PONG\r\n", 3)
    tap.close(4)
    kinds = [(e.kind, e.direction) for e in events]
    assert kinds == [(KIND_COMMAND, UP)] * 6 + [
        (KIND_UNDECODED, UP),
        (KIND_UNDECODED, DOWN),
        (KIND_CLOSED, "both"),
    ]
    assert events[-1].detail[DETAIL_UNDECODED_DOWNSTREAM] == 7


# --- recorded traffic: redis-py's encoding, valkey-server's replies ----------------------


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    port = free_port()
    command = [str(redis_binary()), "--port", str(port), "--bind", "127.0.0.1"]
    server = subprocess.Popen(
        [*command, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: _answers(port), timeout=10)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=5)


def _answers(port: int) -> bool:
    try:
        with redis.Redis(port=port, socket_timeout=0.2, socket_connect_timeout=0.2) as client:
            return bool(client.ping())
    except redis.ConnectionError:
        return False


class Session:
    """A raw socket to the server, recording what each direction carried, chunk by chunk."""

    _packer = redis.Connection()

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.transcript: Transcript = []

    def send(self, *commands: tuple[object, ...]) -> None:
        """Send ``commands`` (pipelined, as redis-py packs them) and a sentinel PING; read
        until the sentinel's reply arrives."""
        data = b"".join(b"".join(self._packer.pack_command(*c)) for c in commands)
        data += b"".join(self._packer.pack_command("PING", SENTINEL))
        self.transcript.append((UP, data))
        self.sock.sendall(data)
        received = b""
        while not received.endswith(b"$%d\r\n%s\r\n" % (len(SENTINEL), SENTINEL)):
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the connection"
            received += chunk
            self.transcript.append((DOWN, chunk))

    def close(self) -> None:
        self.sock.close()


BIG = 70_000  # over the tap's 64 KiB keep bound
SCRIPT = "return redis.call('GET', KEYS[1])"
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()
RESULT = json.dumps({"requestId": "req-1", "functionId": "f", "status": "SUCCESS"})


def _record(port: int, resp3: bool) -> dict[str, Transcript]:
    hello = [("HELLO", 3)] if resp3 else []
    plain, big, sub, pub, txn = (Session(port) for _ in range(5))
    try:
        plain.send(
            *hello,
            ("FLUSHALL",),
            ("SET", "k", "v"),
            ("GET", "k"),
            ("GET", "missing"),
            ("INCR", "n"),
        )
        plain.send(("HSET", "h", "a", "1", "b", "2"), ("HGETALL", "h"), ("INCR", "k"))
        plain.send(("NOSUCHCOMMAND", "x"))
        big.send(*hello, ("SET", "big", b"x" * BIG), ("GET", "big"))
        plain.send(("SCRIPT", "LOAD", SCRIPT), ("EVALSHA", SCRIPT_SHA, 1, "k"))
        plain.send(("EVAL", SCRIPT, 1, "k"))
        sub.send(*hello, ("SUBSCRIBE", "result:req-1", "other"), ("PSUBSCRIBE", "result:*"))
        pub.send(
            *hello,
            ("MULTI",),
            ("SET", "result:req-1", RESULT),
            ("PUBLISH", "result:req-1", RESULT),
            ("EXEC",),
        )
        pub.send(("PUBLISH", "nobody", "x"))
        sub.send(("UNSUBSCRIBE",), ("PUNSUBSCRIBE", "result:*"))
        txn.send(*hello, ("MULTI",), ("SET", "t", "1"), ("DISCARD",))
        txn.send(("MULTI",), ("INCR",), ("SET", "t", "2"), ("EXEC",))  # refused when queued
        txn.send(("MULTI",), ("SET", "t", "x"), ("INCR", "t"), ("EXEC",))  # fails when run
        sessions = {"plain": plain, "big": big, "sub": sub, "pub": pub, "txn": txn}
        return {name: session.transcript for name, session in sessions.items()}
    finally:
        for session in (plain, big, sub, pub, txn):
            session.close()


@pytest.fixture(scope="module")
def recordings(redis_port) -> dict[str, dict[str, Transcript]]:
    return {"resp2": _record(redis_port, resp3=False), "resp3": _record(redis_port, resp3=True)}


@pytest.fixture(params=["resp2", "resp3"])
def recorded(request, recordings) -> dict[str, Transcript]:
    return recordings[request.param]


class Replay:
    """A Redis tap fed a transcript chunk by chunk, collecting its events."""

    def __init__(self) -> None:
        self.events: list[WireEvent] = []
        self.tap = RedisTap(Emitter("worker->redis", 1, PROTOCOL_REDIS, self.events.append))
        self.ts = 0

    def feed(self, transcript: Transcript) -> Replay:
        for direction, data in transcript:
            self.ts += 1000
            self.tap.feed(direction, data, self.ts)
        return self

    def close(self) -> list[WireEvent]:
        self.tap.close(self.ts + 1000)
        return self.events


def replay(transcript: Transcript) -> list[WireEvent]:
    return Replay().feed(transcript).close()


def shape(events: list[WireEvent]) -> list[tuple[object, ...]]:
    """What an event says, without its time (chunking moves the time a frame completes)."""
    untimed = [{k: v for k, v in e.detail.items() if not k.endswith("_ns")} for e in events]
    return [
        (e.direction, e.kind, e.name, e.target, d) for e, d in zip(events, untimed, strict=True)
    ]


def pick(events: list[WireEvent], kind: str, name: str) -> list[WireEvent]:
    return [e for e in events if e.kind == kind and e.name == name]


def test_commands_and_replies_of_a_real_session(recorded):
    events = replay(recorded["plain"])
    assert not pick(events, KIND_UNDECODED, "")
    [set_] = [e for e in pick(events, KIND_COMMAND, "SET") if e.target == "k"]
    assert (set_.detail[DETAIL_ARGS], set_.detail[DETAIL_BYTES]) == (2, 2)
    [get_k, get_missing] = pick(events, KIND_REPLY, "GET")
    assert (get_k.target, get_k.detail[DETAIL_VALUE], get_k.detail[DETAIL_BYTES]) == ("k", "v", 1)
    assert get_missing.detail[DETAIL_VALUE] is None
    [hgetall] = pick(events, KIND_REPLY, "HGETALL")
    resp3 = hgetall.detail[DETAIL_TYPE] == "map"
    assert hgetall.detail[DETAIL_LENGTH] == (2 if resp3 else 4)
    [incr_n] = pick(events, KIND_REPLY, "INCR")
    assert incr_n.detail[DETAIL_VALUE] == 1
    [incr_k] = pick(events, KIND_ERROR, "INCR")
    assert "not an integer" in incr_k.detail[DETAIL_ERROR]
    assert incr_k.target == "k"
    [unknown] = pick(events, KIND_ERROR, "NOSUCHCOMMAND")
    assert unknown.detail[DETAIL_ERROR].startswith("ERR unknown command")
    [evalsha] = pick(events, KIND_COMMAND, "EVALSHA")
    assert (evalsha.target, evalsha.detail[DETAIL_SHA]) == ("k", SCRIPT_SHA)
    assert evalsha.detail[DETAIL_NUMKEYS] == 1
    [evalsha_reply] = pick(events, KIND_REPLY, "EVALSHA")
    assert evalsha_reply.detail[DETAIL_VALUE] == "v"
    [eval_] = pick(events, KIND_REPLY, "EVAL")
    assert (eval_.target, eval_.detail[DETAIL_VALUE]) == ("k", "v")


def test_replies_pair_with_their_commands_in_order(recorded):
    events = replay(recorded["plain"])
    commands = {e.detail[DETAIL_SEQ]: e for e in events if e.kind == KIND_COMMAND}
    answers = [e for e in events if e.kind in (KIND_REPLY, KIND_ERROR)]
    assert [e.detail[DETAIL_SEQ] for e in answers] == sorted(commands)
    for answer in answers:
        command = commands[answer.detail[DETAIL_SEQ]]
        assert answer.name == command.name
        assert answer.detail[DETAIL_LATENCY_NS] >= 0


def test_hello_3_is_seen(recorded):
    events = replay(recorded["plain"])
    hello = pick(events, KIND_COMMAND, "HELLO")
    if hello:
        assert hello[0].detail[DETAIL_PROTOCOL_VERSION] == 3
        [reply] = pick(events, KIND_REPLY, "HELLO")
        assert reply.detail[DETAIL_TYPE] == "map"


def test_publish_inside_multi_exec_reports_its_receivers(recorded):
    events = replay(recorded["pub"])
    queued = [
        e for e in pick(events, KIND_REPLY, "PUBLISH") if not e.detail.get(DETAIL_TRANSACTION)
    ]
    assert [e.detail[DETAIL_VALUE] for e in queued] == ["QUEUED", 0]  # then PUBLISH nobody
    [published] = [
        e for e in pick(events, KIND_REPLY, "PUBLISH") if e.detail.get(DETAIL_TRANSACTION)
    ]
    # One subscriber on the channel, counted once more through the pattern subscription.
    assert (published.target, published.detail[DETAIL_RECEIVERS]) == ("result:req-1", 2)
    assert queued[1].detail[DETAIL_RECEIVERS] == 0
    [stored] = [e for e in pick(events, KIND_REPLY, "SET") if e.detail.get(DETAIL_TRANSACTION)]
    assert stored.detail[DETAIL_VALUE] == "OK"
    [exec_] = pick(events, KIND_REPLY, "EXEC")
    assert exec_.detail[DETAIL_LENGTH] == 2


def test_discarded_aborted_and_failing_transactions(recorded):
    events = [e for e in replay(recorded["txn"]) if e.kind in (KIND_REPLY, KIND_ERROR)]
    answers = [
        (e.kind, e.name, e.detail.get(DETAIL_VALUE), bool(e.detail.get(DETAIL_QUEUED)))
        for e in events
        if e.name not in ("HELLO", "PING") and not e.detail.get(DETAIL_TRANSACTION)
    ]
    assert answers == [
        (KIND_REPLY, "MULTI", "OK", False),
        (KIND_REPLY, "SET", "QUEUED", True),
        (KIND_REPLY, "DISCARD", "OK", False),
        (KIND_REPLY, "MULTI", "OK", False),
        (KIND_ERROR, "INCR", None, True),
        (KIND_REPLY, "SET", "QUEUED", True),
        (KIND_ERROR, "EXEC", None, False),
        (KIND_REPLY, "MULTI", "OK", False),
        (KIND_REPLY, "SET", "QUEUED", True),
        (KIND_REPLY, "INCR", "QUEUED", True),
        (KIND_REPLY, "EXEC", None, False),
    ]
    ran = [(e.kind, e.name) for e in events if e.detail.get(DETAIL_TRANSACTION)]
    assert ran == [(KIND_REPLY, "SET"), (KIND_ERROR, "INCR")]  # only the last EXEC ran
    [aborted] = [e for e in events if e.kind == KIND_ERROR and e.name == "EXEC"]
    assert aborted.detail[DETAIL_ERROR].startswith("EXECABORT")


def test_subscriptions_and_pushed_messages(recorded):
    events = replay(recorded["sub"])
    subscribed = [
        (e.name, e.target, e.detail[DETAIL_COUNT]) for e in events if e.kind == KIND_SUBSCRIBED
    ]
    assert subscribed == [
        ("SUBSCRIBE", "result:req-1", 1),
        ("SUBSCRIBE", "other", 2),
        ("PSUBSCRIBE", "result:*", 3),
    ]
    messages = [e for e in events if e.kind == KIND_MESSAGE]
    assert [(e.name, e.target) for e in messages] == [
        ("MESSAGE", "result:req-1"),
        ("PMESSAGE", "result:req-1"),
    ]
    for message in messages:
        assert message.detail[DETAIL_BYTES] == len(RESULT)
        assert (message.detail[DETAIL_STATUS], message.detail[DETAIL_REQUEST_ID]) == (
            "SUCCESS",
            "req-1",
        )
    assert messages[1].detail[DETAIL_PATTERN] == "result:*"
    unsubscribed = [(e.name, e.target) for e in events if e.kind == KIND_UNSUBSCRIBED]
    assert sorted(unsubscribed) == [
        ("PUNSUBSCRIBE", "result:*"),
        ("UNSUBSCRIBE", "other"),
        ("UNSUBSCRIBE", "result:req-1"),
    ]
    # The sentinel PINGs are answered in subscribed mode too, each paired with its PING.
    pings = pick(events, KIND_REPLY, "PING")
    assert len(pings) == len(pick(events, KIND_COMMAND, "PING")) == 2
    assert not [e for e in events if e.kind in (KIND_REPLY, KIND_ERROR) and not e.name]


def test_big_values_are_counted_not_kept(recorded):
    events = replay(recorded["big"])
    [set_] = pick(events, KIND_COMMAND, "SET")
    assert (set_.target, set_.detail[DETAIL_BYTES]) == ("big", 3 + BIG)
    [get_] = pick(events, KIND_REPLY, "GET")
    assert (get_.detail[DETAIL_VALUE], get_.detail[DETAIL_BYTES]) == ("x" * TEXT_LIMIT, BIG)


# RESP3's own replies (maps, pushes) are split at every offset in the sub and pub sessions;
# the other RESP3 sessions are left to the random chunkings, to keep this file quick.
@pytest.mark.parametrize(
    ("mode", "name"),
    [
        *(("resp2", n) for n in ("plain", "big", "sub", "pub", "txn")),
        ("resp3", "sub"),
        ("resp3", "pub"),
    ],
)
def test_every_split_of_a_recorded_session_gives_the_same_events(recordings, mode, name):
    transcript = recordings[mode][name]
    expected = shape(replay(transcript))
    for i, (direction, data) in enumerate(transcript):
        # Inside the big value, only around its edges: the middle is all alike.
        edges = [*range(1, 32), *range(len(data) - 32, len(data))]
        for offset in range(1, len(data)) if len(data) < 4096 else edges:
            pieces = [(direction, data[:offset]), (direction, data[offset:])]
            split = [*transcript[:i], *pieces, *transcript[i + 1 :]]
            assert shape(replay(split)) == expected, (i, offset)


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_random_chunkings_of_recorded_sessions_give_the_same_events(recordings, data):
    for transcript in (t for mode in recordings.values() for t in mode.values()):
        chunked: Transcript = []
        for direction, chunk in transcript:
            cuts = sorted(data.draw(st.lists(st.integers(0, len(chunk)), max_size=5)))
            for start, end in zip([0, *cuts], [*cuts, len(chunk)], strict=True):
                chunked.append((direction, chunk[start:end]))
        assert shape(replay(chunked)) == shape(replay(transcript))
