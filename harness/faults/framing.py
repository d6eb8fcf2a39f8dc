"""Where the messages of a proxied connection begin and end, for faults that act on them.

A :class:`Framer` reads both streams of one connection (Redis or HTTP) and reports each
message as a :class:`Framed`: the :class:`~harness.faults.kinds.base.Message` a fault may
match (None for what no fault acts on, such as a Redis reply), where it ends in its stream,
and whether it is only its head (an HTTP request waiting for ``100 Continue`` must be
decided on its head). It also keeps what a proxy needs to answer in a client's place: how
many answers the server still owes, and which answers are to be cut. It never changes a
byte: the link forwards the stream's own bytes, cut at these offsets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from harness.faults.kinds.base import PUSHED, Message
from harness.faults.model import Direction
from harness.wire.http import HttpDecoder, HttpMessage, aws_operation
from harness.wire.model import PROTOCOL_HTTP, PROTOCOL_REDIS
from harness.wire.resp import RespDecoder, RespType, command_targets, push_channel

_KEEP = 4096  # bytes of each Redis string kept to name commands and channels
_BUDGET = 64 * 1024
_HTTP_KEEP = 64 * 1024  # bytes of each HTTP body kept (query-protocol forms, JSON targets)


@dataclass(frozen=True)
class Framed:
    """One message of a stream: ``end`` is the stream offset just past it (of its head,
    when ``head_only``); ``message`` is None when no fault acts on such a message."""

    end: int
    message: Message | None
    head_only: bool = False
    seq: int = -1  # HTTP: the message's number in its stream


class Framer(Protocol):
    """Finds the messages of both streams of one connection."""

    protocol: str

    def feed(self, stream: Direction, data: bytes) -> list[Framed]:
        """The messages ``data`` completes (or whose head it completes), in order."""

    def broken(self, stream: Direction) -> bool:
        """Whether ``stream`` can no longer be framed (not the protocol, or given up)."""

    def forwarded(self, framed: Framed) -> None:
        """``framed`` (an upstream message) was sent on to the server."""

    def owed(self) -> int:
        """How many answers the server still owes for what was forwarded."""

    def truncate(self, framed: Framed, keep_bytes: int) -> None:
        """Cut the server's answer to ``framed`` (about to be forwarded) after
        ``keep_bytes`` of its body."""

    def cut_at(self, framed: Framed) -> int | None:
        """For a downstream message: the body bytes to keep before closing, if it is cut."""


class RedisFramer:
    """RESP commands upstream, replies and pushed messages downstream."""

    protocol = PROTOCOL_REDIS

    def __init__(self) -> None:
        self._decoders = {
            Direction.UPSTREAM: RespDecoder(inline=True, keep=_KEEP, budget=_BUDGET),
            Direction.DOWNSTREAM: RespDecoder(keep=_KEEP, budget=_BUDGET),
        }
        self._subscribed = False
        self._owed = 0
        self._expect: dict[int, int] = {}  # upstream end offset -> answers it is owed

    def feed(self, stream: Direction, data: bytes) -> list[Framed]:
        decoder = self._decoders[stream]
        frames = decoder.feed(data)
        out: list[Framed] = []
        for frame, end in zip(frames, decoder.ends, strict=True):
            if stream is Direction.UPSTREAM:
                args = frame.value if frame.type is RespType.ARRAY and frame.value else ()
                name, targets = command_targets(args)
                self._expect[end] = _answers(name, len(args) - 1)
                if name.endswith("SUBSCRIBE") and not name.endswith("UNSUBSCRIBE"):
                    self._subscribed = True
                out.append(Framed(end, Message(PROTOCOL_REDIS, name, targets)))
                continue
            push = push_channel(frame)
            if push is not None and (frame.type is RespType.PUSH or self._subscribed):
                kind, channel = push
                if kind in PUSHED:
                    out.append(Framed(end, Message(PROTOCOL_REDIS, kind, (channel,))))
                    continue
            self._owed = max(0, self._owed - 1)
            out.append(Framed(end, None))
        return out

    def broken(self, stream: Direction) -> bool:
        return self._decoders[stream].broken is not None

    def forwarded(self, framed: Framed) -> None:
        self._owed += self._expect.pop(framed.end, 1)

    def owed(self) -> int:
        # In subscribed mode replies are not owed in order: nothing to wait for.
        return 0 if self._subscribed else self._owed

    def truncate(self, framed: Framed, keep_bytes: int) -> None:
        return None

    def cut_at(self, framed: Framed) -> int | None:
        return None


def _answers(name: str, nargs: int) -> int:
    """How many frames answer a command: one per channel of a (P|S)SUBSCRIBE."""
    if name.endswith("SUBSCRIBE") and not name.endswith("UNSUBSCRIBE"):
        return max(1, nargs)
    return 1


class HttpFramer:
    """HTTP/1.1 requests upstream (named as AWS operations), responses downstream."""

    protocol = PROTOCOL_HTTP

    def __init__(self) -> None:
        self._methods: list[str] = []  # of the requests forwarded, in order
        self._decoders = {
            Direction.UPSTREAM: HttpDecoder(response=False, keep=_HTTP_KEEP),
            Direction.DOWNSTREAM: HttpDecoder(
                response=True, request_method=self._method_of, keep=_HTTP_KEEP
            ),
        }
        self._cuts: dict[int, int] = {}  # server answer seq -> body bytes kept
        self._responses = 0  # final responses seen
        self._decided_heads: set[int] = set()

    def feed(self, stream: Direction, data: bytes) -> list[Framed]:
        decoder = self._decoders[stream]
        done = decoder.feed(data, 0)
        out: list[Framed] = []
        if stream is Direction.UPSTREAM:
            for head in decoder.heads:
                if "100-continue" in head.headers.get("expect", "").lower() and not head.complete:
                    self._decided_heads.add(head.seq)
                    out.append(Framed(head.head_end, _aws(head), head_only=True, seq=head.seq))
            for msg in done:
                if msg.seq in self._decided_heads:
                    self._decided_heads.discard(msg.seq)
                    out.append(Framed(msg.end, None, seq=msg.seq))
                else:
                    out.append(Framed(msg.end, _aws(msg), seq=msg.seq))
        else:
            for msg in done:
                if not msg.interim:
                    self._responses += 1
                out.append(Framed(msg.end, None, seq=-1 if msg.interim else msg.seq))
        out.sort(key=lambda framed: framed.end)
        return out

    def broken(self, stream: Direction) -> bool:
        return self._decoders[stream].broken is not None

    def forwarded(self, framed: Framed) -> None:
        request = framed.message.request if framed.message is not None else None
        self._methods.append(request.method if request is not None else "")

    def owed(self) -> int:
        return max(0, len(self._methods) - self._responses)

    def truncate(self, framed: Framed, keep_bytes: int) -> None:
        self._cuts[len(self._methods)] = keep_bytes  # the answer to the next one forwarded

    def cut_at(self, framed: Framed) -> int | None:
        return self._cuts.pop(framed.seq, None) if framed.seq >= 0 else None

    def _method_of(self, seq: int) -> str | None:
        return self._methods[seq] if 0 <= seq < len(self._methods) else None


def _aws(request: HttpMessage) -> Message:
    name, target = aws_operation(request)
    return Message(PROTOCOL_HTTP, name, (target,) if target else (), request=request)


FRAMERS: dict[str, Callable[[], Framer]] = {
    PROTOCOL_REDIS: RedisFramer,
    PROTOCOL_HTTP: HttpFramer,
}
