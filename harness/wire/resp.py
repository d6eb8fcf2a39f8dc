"""Redis on the wire: an incremental RESP2/RESP3 decoder and the tap that reads a connection.

:class:`RespDecoder` turns a byte stream into :class:`Frame` values, keeping partial frames
across :meth:`~RespDecoder.feed` calls. It never raises on bad input: it stops, with
``broken`` saying why and ``broken_at`` where. Example::

    decoder = RespDecoder()
    decoder.feed(b"*2\\r\\n$3\\r\\nGET\\r\\n$1")  # []
    decoder.feed(b"\\r\\nk\\r\\n")  # [Frame(RespType.ARRAY, (Frame(BULK, b"GET"), ...))]

:class:`RedisTap` pairs the commands of one connection with their replies (pipelined,
inside MULTI/EXEC, in subscribed mode) and records them as wire events.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from harness.wire.model import (
    DETAIL_ARGS,
    DETAIL_BYTES,
    DETAIL_COUNT,
    DETAIL_ERROR,
    DETAIL_LATENCY_NS,
    DETAIL_LENGTH,
    DETAIL_NUMKEYS,
    DETAIL_PATTERN,
    DETAIL_PROTOCOL_VERSION,
    DETAIL_QUEUED,
    DETAIL_RECEIVERS,
    DETAIL_REQUEST_ID,
    DETAIL_SEQ,
    DETAIL_SHA,
    DETAIL_STATUS,
    DETAIL_SUBCOMMAND,
    DETAIL_TRANSACTION,
    DETAIL_TYPE,
    DETAIL_VALUE,
    DIRECTION_DOWNSTREAM,
    DIRECTION_UPSTREAM,
    ERROR_LIMIT,
    KIND_COMMAND,
    KIND_ERROR,
    KIND_MESSAGE,
    KIND_REPLY,
    KIND_SUBSCRIBED,
    KIND_UNSUBSCRIBED,
    TARGET_LIMIT,
    TEXT_LIMIT,
    Emitter,
)

MAX_BULK: Final = 64 * 1024 * 1024  # a longer string breaks the decoder (Redis: 512 MB)
MAX_DEPTH: Final = 64  # deeper nesting breaks the decoder
MAX_ELEMENTS: Final = 1 << 20  # a longer aggregate breaks the decoder
MAX_LINE: Final = 64 * 1024  # a longer line (simple string, inline command) breaks it
KEEP_BYTES: Final = 64 * 1024  # the tap keeps this much of each string, counts the rest
FRAME_BUDGET: Final = 256 * 1024  # ... and this much over all the strings of one reply
MAX_PENDING: Final = 100_000  # commands awaiting a reply, at most


class RespType(StrEnum):
    """A RESP type, by its marker byte."""

    SIMPLE = "+"
    ERROR = "-"
    INTEGER = ":"
    BULK = "$"
    ARRAY = "*"
    NULL = "_"  # RESP3
    DOUBLE = ","  # RESP3
    BOOLEAN = "#"  # RESP3
    BULK_ERROR = "!"  # RESP3
    VERBATIM = "="  # RESP3: value keeps its "txt:" prefix
    BIG_NUMBER = "("  # RESP3
    MAP = "%"  # RESP3: value is the flat key, value, key, value... tuple
    SET = "~"  # RESP3
    PUSH = ">"  # RESP3: out-of-band data (pub/sub messages, invalidations)
    ATTRIBUTE = "|"  # RESP3: attached to the value that follows, as Frame.attributes


STRINGS: Final = frozenset({RespType.BULK, RespType.BULK_ERROR, RespType.VERBATIM})
TEXTS: Final = STRINGS | {RespType.SIMPLE, RespType.ERROR}
ERRORS: Final = frozenset({RespType.ERROR, RespType.BULK_ERROR})
_WIDTH: Final = {
    RespType.ARRAY: 1,
    RespType.SET: 1,
    RespType.PUSH: 1,
    RespType.MAP: 2,
    RespType.ATTRIBUTE: 2,
}
_MARKERS: Final = {ord(t.value): t for t in RespType}
_TEXT, _NUMBER, _STRING, _AGGREGATE, _OTHER = range(5)  # how a type's line is read
_SHAPES: Final = {
    **dict.fromkeys(RespType, _OTHER),
    **dict.fromkeys((RespType.SIMPLE, RespType.ERROR), _TEXT),
    **dict.fromkeys((RespType.INTEGER, RespType.BIG_NUMBER), _NUMBER),
    **dict.fromkeys(STRINGS, _STRING),
    **dict.fromkeys(_WIDTH, _AGGREGATE),
}
_INT = re.compile(rb"[+-]?\d+")
_DOUBLE = re.compile(rb"[+-]?(?:inf|nan|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)")
_INLINE_START = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ \t\r\n")


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded RESP value.

    ``value`` is ``bytes`` for the string types (simple, error, bulk, verbatim), ``int``,
    ``float``, ``bool``, ``None`` (RESP3 null, RESP2 null bulk ``$-1`` and null array
    ``*-1``), or a tuple of frames for aggregates (a map's is flat: k1, v1, k2, v2...).
    ``dropped`` counts string bytes the decoder did not keep (beyond its ``keep`` bound).
    """

    type: RespType
    value: Any
    attributes: tuple[Frame, ...] = ()
    dropped: int = 0

    @property
    def size(self) -> int:
        """The byte length of a string value (kept or not); 0 for other types."""
        return len(self.value) + self.dropped if isinstance(self.value, bytes) else 0

    def text(self, limit: int = TEXT_LIMIT) -> str:
        """A string value as text, cut at ``limit`` characters; "" for other types."""
        if not isinstance(self.value, bytes):
            return ""
        return self.value[: limit * 4].decode("utf-8", "replace")[:limit]


@dataclass(slots=True)
class _Open:
    """An aggregate whose elements are still coming."""

    type: RespType
    need: int
    items: list[Frame] = field(default_factory=list)
    attributes: tuple[Frame, ...] = ()


@dataclass(slots=True)
class _String:
    """A length-prefixed string whose bytes are still coming."""

    type: RespType
    size: int
    room: int
    data: bytearray = field(default_factory=bytearray)
    remaining: int = 0


class RespDecoder:
    """Incremental RESP2 + RESP3 decoder of one byte stream.

    ``inline=True`` also accepts inline commands (``PING\\r\\n``, as a client may send),
    decoded as arrays of bulk strings. Strings longer than ``keep`` are kept cut
    (:attr:`Frame.dropped` says by how much); the limits bound the memory a stream can take.
    """

    def __init__(self, *, inline: bool = False, keep: int = MAX_BULK, budget: int = MAX_BULK):
        self.inline = inline
        self.keep = keep
        self.budget = budget
        self.broken: str | None = None  # why decoding stopped
        self.broken_at: int | None = None  # the stream offset where it stopped
        self.fed = 0  # bytes fed so far
        self._buf = bytearray()
        self._base = 0  # stream offset of _buf[0]
        self._stack: list[_Open] = []
        self._string: _String | None = None
        self._attributes: tuple[Frame, ...] = ()  # for the next top-level frame
        self._left = budget
        self._out: list[Frame] = []
        self.ends: list[int] = []  # stream offset just past each frame the last feed returned

    def feed(self, data: bytes) -> list[Frame]:
        """Decode what ``data`` completes; returns the top-level frames, in order.

        :attr:`ends` then holds, for each, the stream offset just past its last byte.
        """
        self.fed += len(data)
        if self.broken is not None:
            return []
        self._buf += data
        pos = 0
        ends = self.ends = []
        while self.broken is None and pos < len(self._buf):
            step = self._take_string(pos) if self._string else self._take_line(pos)
            if step == pos:
                break
            pos = step
            if len(ends) < len(self._out):  # a step completes at most one top-level frame
                ends.append(self._base + pos)
        del self._buf[:pos]
        self._base += pos
        out, self._out = self._out, []
        return out

    def _break(self, reason: str, pos: int) -> int:
        self.broken, self.broken_at = reason, self._base + pos
        self._buf.clear()
        self._stack.clear()
        self._string = None
        return pos

    def _take_string(self, pos: int) -> int:
        string, buf = self._string, self._buf
        assert string is not None
        take = min(string.remaining, len(buf) - pos)
        keep = min(take, string.room - len(string.data))
        if keep > 0:
            string.data += buf[pos : pos + keep]
        string.remaining -= take
        pos += take
        if string.remaining or len(buf) - pos < 2:
            return pos
        if buf[pos : pos + 2] != b"\r\n":
            return self._break("no CRLF after a string", pos)
        self._string = None
        self._left -= len(string.data)
        dropped = string.size - len(string.data)
        self._complete(Frame(string.type, bytes(string.data), dropped=dropped))
        return pos + 2

    def _take_line(self, pos: int) -> int:
        buf = self._buf
        marker = _MARKERS.get(buf[pos])
        if marker is None and self.inline and not self._stack:
            return self._take_inline(pos)
        if marker is None:
            return self._break(f"not RESP: byte 0x{buf[pos]:02x}", pos)
        end = buf.find(b"\r\n", pos, pos + MAX_LINE)
        if end < 0:
            return self._break("line too long", pos) if len(buf) - pos > MAX_LINE else pos
        try:
            return self._line(marker, bytes(buf[pos + 1 : end]), end + 2)
        except ValueError as exc:  # _Bad, or an int() past Python's digit limit
            return self._break(f"bad {marker.name.lower()}: {exc}", pos)

    def _take_inline(self, pos: int) -> int:
        buf = self._buf
        if buf[pos] not in _INLINE_START:
            return self._break(f"not RESP: byte 0x{buf[pos]:02x}", pos)
        end = buf.find(b"\n", pos, pos + MAX_LINE)
        if end < 0:
            return self._break("inline command too long", pos) if len(buf) - pos > MAX_LINE else pos
        args = bytes(buf[pos:end]).split()
        if args:  # Redis ignores empty lines
            self._complete(Frame(RespType.ARRAY, tuple(Frame(RespType.BULK, a) for a in args)))
        return end + 1

    def _line(self, marker: RespType, line: bytes, after: int) -> int:
        """Act on the line ``marker line``; returns where the next thing starts."""
        shape = _SHAPES[marker]
        if shape == _STRING:
            return self._open_string(marker, _length(line, marker is RespType.BULK), after)
        if shape == _AGGREGATE:
            self._open_aggregate(marker, _length(line, marker is RespType.ARRAY))
            return after
        value: Any
        if shape == _TEXT:
            value = line
        elif shape == _NUMBER and _INT.fullmatch(line):
            value = int(line)
        elif marker is RespType.DOUBLE and _DOUBLE.fullmatch(line):
            value = float(line)
        elif marker is RespType.BOOLEAN and line in (b"t", b"f"):
            value = line == b"t"
        elif marker is RespType.NULL and not line:
            value = None
        else:
            raise _Bad(repr(line[:20]))
        self._complete(Frame(marker, value))
        return after

    def _open_string(self, marker: RespType, n: int, start: int) -> int:
        if n < 0:
            self._complete(Frame(marker, None))
            return start
        if n > MAX_BULK:
            raise _Bad(f"{n} bytes is over the {MAX_BULK} limit")
        room = max(0, min(self.keep, self._left))
        buf = self._buf
        if n <= room and len(buf) >= start + n + 2:  # all here: the common case, made quick
            if buf[start + n : start + n + 2] != b"\r\n":
                self._break("no CRLF after a string", start + n)
                return start + n
            self._left -= n
            self._complete(Frame(marker, bytes(buf[start : start + n])))
            return start + n + 2
        self._string = _String(marker, n, room, remaining=n)
        return start

    def _open_aggregate(self, marker: RespType, n: int) -> None:
        if n < 0:
            self._complete(Frame(marker, None))
        elif n > MAX_ELEMENTS:
            raise _Bad(f"{n} elements is over the {MAX_ELEMENTS} limit")
        elif len(self._stack) >= MAX_DEPTH:
            raise _Bad(f"nested deeper than {MAX_DEPTH}")
        elif n == 0:
            self._complete(Frame(marker, ()))
        else:
            self._stack.append(_Open(marker, n * _WIDTH[marker]))

    def _complete(self, frame: Frame) -> None:
        """Hand a finished frame to its aggregate, or out when it is a top-level one."""
        while self._stack:
            top = self._stack[-1]
            if frame.type is RespType.ATTRIBUTE:
                top.attributes = frame.value
                return
            if top.attributes:
                frame, top.attributes = dataclasses.replace(frame, attributes=top.attributes), ()
            top.items.append(frame)
            if len(top.items) < top.need:
                return
            self._stack.pop()
            frame = Frame(top.type, tuple(top.items))
        if frame.type is RespType.ATTRIBUTE:
            self._attributes = frame.value
            return
        if self._attributes:
            frame, self._attributes = dataclasses.replace(frame, attributes=self._attributes), ()
        self._out.append(frame)
        self._left = self.budget


class _Bad(ValueError):
    """A line that is not valid RESP; the message says what it was."""


def _length(line: bytes, nullable: bool) -> int:
    """The length on a string or aggregate header line; -1 (null) only where allowed."""
    if line.isdigit() and len(line) < 19:
        return int(line)
    if nullable and line == b"-1":
        return -1
    raise _Bad(f"length {line[:20]!r}")


# --- the tap ------------------------------------------------------------------------------

_NO_KEY: Final = frozenset(
    "PING ECHO MULTI EXEC DISCARD UNWATCH HELLO AUTH SELECT QUIT RESET INFO DBSIZE TIME"
    " FLUSHALL FLUSHDB SAVE BGSAVE LASTSAVE SHUTDOWN WAIT ROLE MONITOR SWAPDB RANDOMKEY"
    " KEYS SCAN READONLY READWRITE".split()
)
_SUBCOMMANDS: Final = frozenset(
    "CLIENT CONFIG SCRIPT CLUSTER COMMAND OBJECT MEMORY XINFO XGROUP FUNCTION ACL PUBSUB"
    " MODULE SLOWLOG LATENCY DEBUG".split()
)
_KEY_AFTER_SUBCOMMAND: Final = frozenset({"OBJECT", "MEMORY", "XINFO", "XGROUP"})
_SCRIPTS: Final = frozenset({"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"})
_PUBLISH: Final = frozenset({"PUBLISH", "SPUBLISH"})
#: A (un)subscribe confirmation kind -> the family of subscriptions it changes.
_FAMILY: Final = {
    "subscribe": "subscribe",
    "unsubscribe": "subscribe",
    "psubscribe": "psubscribe",
    "punsubscribe": "psubscribe",
    "ssubscribe": "ssubscribe",
    "sunsubscribe": "ssubscribe",
}
_MESSAGES: Final = frozenset({"message", "pmessage", "smessage"})
_PUBSUB_KINDS: Final = frozenset(_FAMILY) | _MESSAGES
_STATUS = re.compile(rb'"status"\s*:\s*"([^"]{0,64})"')
_REQUEST_ID = re.compile(rb'"requestId"\s*:\s*"([^"]{0,64})"')


@dataclass(slots=True)
class _Command:
    """A command waiting for its reply (or its (un)subscribe confirmations)."""

    seq: int
    name: str
    target: str
    ts_ns: int
    confirmations: int = 0  # still expected; -1: as many as subscriptions of the family
    queued_in: list[_Command] | None = None  # sent inside MULTI: the transaction's commands
    runs: list[_Command] | None = None  # EXEC: the commands it runs


class RedisTap:
    """Decodes one Redis connection into command, reply, error and pub/sub events.

    Replies are paired with commands first in, first out; the elements of an EXEC reply
    with the commands queued after MULTI; (un)subscribe confirmations with the (UN)SUBSCRIBE
    they confirm. A direction that cannot be decoded gets one ``undecoded`` event.
    """

    def __init__(self, emitter: Emitter, *, keep: int = KEEP_BYTES) -> None:
        self._emitter = emitter
        self._decoders = {
            DIRECTION_UPSTREAM: RespDecoder(inline=True, keep=keep, budget=FRAME_BUDGET),
            DIRECTION_DOWNSTREAM: RespDecoder(keep=keep, budget=FRAME_BUDGET),
        }
        self._pending: deque[_Command] = deque()
        self._seq = 0
        self._multi: list[_Command] | None = None
        self._subscriptions: dict[str, set[bytes | None]] = {f: set() for f in _FAMILY.values()}
        self.resp3 = False  # HELLO 3 succeeded: the server speaks RESP3

    def feed(self, direction: str, data: bytes, ts_ns: int) -> None:
        """Decode ``data`` of ``direction`` and record what it completes."""
        if not self._emitter.decoding(direction):
            return
        decoder = self._decoders[direction]
        handle = self._on_command if direction == DIRECTION_UPSTREAM else self._on_reply
        for frame in decoder.feed(data):
            handle(frame, ts_ns)
        if len(self._pending) > MAX_PENDING:  # a server that never answers: stop pairing
            for d, stream in self._decoders.items():
                self._emitter.give_up(ts_ns, d, "too many commands without a reply", stream.fed)
        if decoder.broken is not None and decoder.broken_at is not None:
            self._emitter.give_up(ts_ns, direction, decoder.broken, decoder.broken_at)

    def close(self, ts_ns: int) -> None:
        """Nothing to flush: a reply cut by the close is simply never recorded."""

    # --- upstream ---------------------------------------------------------------------

    def _on_command(self, frame: Frame, ts_ns: int) -> None:
        args = frame.value if frame.type is RespType.ARRAY and frame.value else ()
        name = args[0].text().upper() if args and args[0].type in TEXTS else ""
        detail: dict[str, Any] = {DETAIL_SEQ: self._seq}
        target = _command_target(name, args, detail) if name else ""
        if not name:
            detail[DETAIL_TYPE] = _type_name(frame)
        detail[DETAIL_ARGS] = max(0, len(args) - 1)
        detail[DETAIL_BYTES] = sum(a.size for a in args[1:])
        command = _Command(self._seq, name, target, ts_ns, _confirmations(name, len(args) - 1))
        self._seq += 1
        self._track_transaction(command)
        self._pending.append(command)
        self._emitter.emit(ts_ns, DIRECTION_UPSTREAM, KIND_COMMAND, name, target, detail)

    def _track_transaction(self, command: _Command) -> None:
        if command.name == "MULTI":
            self._multi = []
        elif self._multi is not None and command.name in ("EXEC", "DISCARD"):
            command.runs, self._multi = self._multi, None
        elif self._multi is not None:
            command.queued_in = self._multi
            self._multi.append(command)

    # --- downstream -------------------------------------------------------------------

    def _on_reply(self, frame: Frame, ts_ns: int) -> None:
        kind = self._push_kind(frame)
        if kind in _FAMILY:
            self._on_confirmation(kind, frame.value, ts_ns)
        elif kind is not None:
            self._on_message(kind, frame.value, ts_ns)
        else:
            command = self._pending.popleft() if self._pending else None
            self._on_answer(command, frame, ts_ns)

    def _push_kind(self, frame: Frame) -> str | None:
        """The pub/sub kind of a pushed frame (``message``, ``subscribe``...), else None."""
        items = frame.value
        if frame.type not in (RespType.PUSH, RespType.ARRAY) or not items:
            return None
        kind = items[0].text().lower() if items[0].type in TEXTS else ""
        if frame.type is RespType.PUSH:
            return kind or "push"
        # RESP2 has no push type: in subscribed mode, these arrays are the pushes.
        if kind not in _PUBSUB_KINDS or self.resp3 or not self._subscribed_mode():
            return None
        return kind

    def _subscribed_mode(self) -> bool:
        return any(self._subscriptions.values()) or any(c.confirmations for c in self._pending)

    def _on_confirmation(self, kind: str, items: tuple[Frame, ...], ts_ns: int) -> None:
        if len(items) < 3 or items[2].type is not RespType.INTEGER:
            self._on_message(kind, items, ts_ns)
            return
        channel: bytes | None = items[1].value if items[1].type in TEXTS else None
        family = self._subscriptions[_FAMILY[kind]]
        detail: dict[str, Any] = {DETAIL_COUNT: items[2].value}
        head = self._pending[0] if self._pending else None
        if head is not None and head.name == kind.upper() and head.confirmations:
            if head.confirmations < 0:  # UNSUBSCRIBE without channels: one per subscription
                head.confirmations = max(1, len(family))
            head.confirmations -= 1
            if not head.confirmations:
                self._pending.popleft()
            detail.update({DETAIL_SEQ: head.seq, DETAIL_LATENCY_NS: ts_ns - head.ts_ns})
        if kind in ("subscribe", "psubscribe", "ssubscribe"):
            family.add(channel)
        else:
            family.discard(channel)
        event_kind = KIND_SUBSCRIBED if kind == _FAMILY[kind] else KIND_UNSUBSCRIBED
        target = items[1].text(TARGET_LIMIT)
        self._emitter.emit(ts_ns, DIRECTION_DOWNSTREAM, event_kind, kind.upper(), target, detail)

    def _on_message(self, kind: str, items: tuple[Frame, ...], ts_ns: int) -> None:
        detail: dict[str, Any] = {}
        target = ""
        shape = 4 if kind == "pmessage" else 3
        if kind in _MESSAGES and len(items) == shape:
            if kind == "pmessage":
                detail[DETAIL_PATTERN] = items[1].text(TARGET_LIMIT)
            target = items[-2].text(TARGET_LIMIT)
            detail.update(_payload_detail(items[-1]))
        else:
            detail[DETAIL_LENGTH] = len(items)
        self._emitter.emit(ts_ns, DIRECTION_DOWNSTREAM, KIND_MESSAGE, kind.upper(), target, detail)

    def _on_answer(self, command: _Command | None, frame: Frame, ts_ns: int) -> None:
        queued_in = command.queued_in if command is not None else None
        if queued_in is not None and frame.type in ERRORS and command in queued_in:
            queued_in.remove(command)  # refused when queued: EXEC won't run it
        if command is not None and command.name == "EXEC" and command.runs is not None:
            if frame.type is RespType.ARRAY and frame.value is not None:
                for queued, element in zip(command.runs, frame.value, strict=False):
                    self._record_reply(queued, element, ts_ns, transaction=True)
        if command is not None and command.name == "HELLO" and frame.type not in ERRORS:
            self.resp3 = frame.type is RespType.MAP
        self._record_reply(command, frame, ts_ns)

    def _record_reply(
        self, command: _Command | None, frame: Frame, ts_ns: int, *, transaction: bool = False
    ) -> None:
        name = command.name if command else ""
        kind = KIND_ERROR if frame.type in ERRORS else KIND_REPLY
        if kind == KIND_ERROR:
            detail: dict[str, Any] = {DETAIL_ERROR: frame.text(ERROR_LIMIT)}
        else:
            detail = summarize(frame)
        if name in _PUBLISH and frame.type is RespType.INTEGER:
            detail[DETAIL_RECEIVERS] = frame.value
        if command is not None:
            detail.update({DETAIL_SEQ: command.seq, DETAIL_LATENCY_NS: ts_ns - command.ts_ns})
        if transaction:
            detail[DETAIL_TRANSACTION] = True
        elif command is not None and command.queued_in is not None:
            detail[DETAIL_QUEUED] = True  # its result comes with the EXEC reply
        target = command.target if command else ""
        self._emitter.emit(ts_ns, DIRECTION_DOWNSTREAM, kind, name, target, detail)


def summarize(frame: Frame) -> dict[str, Any]:
    """A small JSON summary of a reply: its type, and its value, size or length."""
    detail: dict[str, Any] = {DETAIL_TYPE: _type_name(frame)}
    value = frame.value
    if frame.type in _WIDTH and value is not None:
        detail[DETAIL_LENGTH] = len(value) // _WIDTH[frame.type]
    elif isinstance(value, bytes):
        detail[DETAIL_VALUE] = frame.text()
        detail[DETAIL_BYTES] = frame.size
    elif isinstance(value, float) and not math.isfinite(value):
        detail[DETAIL_VALUE] = str(value)  # JSON has no inf nor nan
    else:
        detail[DETAIL_VALUE] = value
    return detail


def _type_name(frame: Frame) -> str:
    return frame.type.name.lower()


def _confirmations(name: str, nargs: int) -> int:
    """How many confirmations a command gets instead of a reply (0: it gets a reply)."""
    if name in ("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"):
        return max(0, nargs)  # no channel at all: an error reply
    if name in ("UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"):
        return nargs if nargs > 0 else -1
    return 0


def _command_target(name: str, args: tuple[Frame, ...], detail: dict[str, Any]) -> str:
    """The key or channel a command is about; adds what else it says to ``detail``."""
    if name == "HELLO" and len(args) > 1 and args[1].value and args[1].value.isdigit():
        detail[DETAIL_PROTOCOL_VERSION] = int(args[1].value)
    if name in _NO_KEY:
        return ""
    if name in _SUBCOMMANDS:
        if len(args) > 1:
            detail[DETAIL_SUBCOMMAND] = args[1].text().upper()
        key_at = 2 if name in _KEY_AFTER_SUBCOMMAND else len(args)
        return args[key_at].text(TARGET_LIMIT) if key_at < len(args) else ""
    if name in _SCRIPTS:
        return _script_target(name, args, detail)
    if name in ("XREAD", "XREADGROUP"):
        words = [a.text(16).upper() for a in args]
        at = words.index("STREAMS") + 1 if "STREAMS" in words else len(args)
        return args[at].text(TARGET_LIMIT) if at < len(args) else ""
    return args[1].text(TARGET_LIMIT) if len(args) > 1 else ""


def _script_target(name: str, args: tuple[Frame, ...], detail: dict[str, Any]) -> str:
    """EVAL script numkeys key...: the first key; EVALSHA's sha too."""
    if name.startswith("EVALSHA") and len(args) > 1:
        detail[DETAIL_SHA] = args[1].text(TEXT_LIMIT)
    numkeys = args[2].value if len(args) > 2 else None
    if not isinstance(numkeys, bytes) or not numkeys.isdigit() or len(numkeys) > 6:
        return ""
    detail[DETAIL_NUMKEYS] = int(numkeys)
    return args[3].text(TARGET_LIMIT) if int(numkeys) > 0 and len(args) > 3 else ""


def _payload_detail(payload: Frame) -> dict[str, Any]:
    """A pub/sub payload's size, and a JSON payload's ``status`` and ``requestId``."""
    detail: dict[str, Any] = {DETAIL_BYTES: payload.size}
    raw = payload.value
    if not isinstance(raw, bytes) or not raw.lstrip().startswith(b"{"):
        return detail
    fields: dict[str, Any] = {}
    if not payload.dropped:
        try:
            loaded = json.loads(raw)
        except ValueError:
            loaded = None
        fields = loaded if isinstance(loaded, dict) else {}
    else:  # cut: look for the fields in what was kept
        for key, pattern in (("status", _STATUS), ("requestId", _REQUEST_ID)):
            if found := pattern.search(raw):
                fields[key] = found.group(1).decode("utf-8", "replace")
    for key, name in (("status", DETAIL_STATUS), ("requestId", DETAIL_REQUEST_ID)):
        if isinstance(fields.get(key), str):
            detail[name] = fields[key][:TEXT_LIMIT]
    return detail


def command_targets(args: tuple[Frame, ...]) -> tuple[str, tuple[str, ...]]:
    """``(NAME, targets)`` of a command's argument frames: every channel of a (P|S)SUBSCRIBE
    or PUBLISH family command, otherwise the key :func:`_command_target` finds (if any)."""
    name = args[0].text().upper() if args and args[0].type in TEXTS else ""
    if not name:
        return "", ()
    if name in _SUBSCRIBING:
        return name, tuple(a.text(TARGET_LIMIT) for a in args[1:])
    target = _command_target(name, args, {})
    return name, (target,) if target else ()


def push_channel(frame: Frame) -> tuple[str, str] | None:
    """``(kind, channel)`` of a frame shaped like a pushed message (``message``, ``pmessage``,
    ``smessage``, a (un)subscribe confirmation), else None; whether the connection is in
    subscribed mode is the caller's to know."""
    items = frame.value
    if frame.type not in (RespType.PUSH, RespType.ARRAY) or not items or len(items) < 2:
        return None
    kind = items[0].text().lower() if items[0].type in TEXTS else ""
    if kind not in _PUBSUB_KINDS:
        return None
    at = 2 if kind == "pmessage" and len(items) > 2 else 1
    return kind, items[at].text(TARGET_LIMIT)


_SUBSCRIBING: Final = frozenset(
    {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"}
)
