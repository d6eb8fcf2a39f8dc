"""The message layer of a proxied connection: faults that act on whole Redis commands,
pushed messages and AWS requests, and leave every other byte as it was sent.

Each stream of a connection speaking a known protocol gets a :class:`MessageStream`. While
no fault on messages is installed on the proxy, it forwards each chunk at once (only
noting where messages end). While one is, it holds the bytes of a message until the
message is whole, asks the faults acting now whether one matches, and then forwards it
(perhaps late), drops it, answers it in the server's place, closes the connection, or marks
its answer to be cut. A message already partly forwarded is never acted on. Unmatched
messages are forwarded as their own bytes, in order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from harness.faults.framing import FRAMERS, Framed, Framer
from harness.faults.kinds.base import Action, Layer, Message, MessageKind, Verb
from harness.faults.model import Direction

if TYPE_CHECKING:
    from harness.faults.link import Link, LinkHost
    from harness.faults.schedule import ArmedFault

#: How long an answer in the server's place waits for the server's earlier answers.
ANSWER_ORDER_WAIT_S = 2.0
_POLL_S = 0.005


class MessageStream:
    """One stream of one connection, framed into messages for the faults on messages."""

    def __init__(self, link: Link, host: LinkHost, framer: Framer, stream: Direction) -> None:
        self._link = link
        self._host = host
        self._framer = framer
        self.stream = stream
        self._buf = bytearray()
        self._base = 0  # stream offset of _buf[0]: everything before it was dispatched
        self._start = 0  # stream offset where the message being read began
        self._mode: str | None = None  # "forward" | "discard": a message decided on its head
        self._raw = False  # framing broke: forward everything as it comes

    async def take(self, data: bytes) -> None:
        """Handle one chunk read from the stream."""
        if self._raw:
            await self._link.forward(self.stream, data)
            return
        events = self._framer.feed(self.stream, data)
        if not self._buf and self._mode is None and not self._host.message_faults_installed:
            # Nothing held and no fault on messages: the chunk goes on whole, as it came;
            # the framer only keeps count of where messages end.
            for framed in events:
                if self.stream is Direction.UPSTREAM and framed.message is not None:
                    self._framer.forwarded(framed)
                if not framed.head_only:
                    self._start = framed.end
            self._base += len(data)
            await self._link.forward(self.stream, data)
            return
        self._buf += data
        for framed in events:
            if self._link.ending:
                return
            await self._on(framed)
        if self._framer.broken(self.stream):
            self._raw = True
            await self._dispatch(len(self._buf), forward=True)
        elif self._mode is not None:
            await self._dispatch(len(self._buf), forward=self._mode == "forward")
        elif not self._host.message_faults_installed:
            await self._dispatch(len(self._buf), forward=True)

    async def flush(self) -> None:
        """The stream ended: forward what was held (a message the end cuts)."""
        if self._buf and self._mode != "discard":
            await self._dispatch(len(self._buf), forward=True)

    async def _on(self, framed: Framed) -> None:
        size = framed.end - self._base
        started = self._start < self._base  # its first bytes were already sent on
        if not framed.head_only:
            self._start = framed.end
        if self._mode is not None and not framed.head_only:  # the rest of a head-decided one
            mode, self._mode = self._mode, None
            await self._dispatch(size, forward=mode == "forward")
            return
        if started or framed.message is None:
            await self._send(framed, size)
            return
        action = self._decide(framed, size)
        if action is None:
            await self._send(framed, size)
            return
        await self._apply(framed, size, action)

    def _decide(self, framed: Framed, size: int) -> Action | None:
        """What the faults acting now do to ``framed``: delays add up, the first fault that
        drops, answers, closes or cuts decides; each fault that acts is recorded."""
        message = framed.message
        assert message is not None
        delay = 0.0
        for armed in self._acting():
            kind = cast(MessageKind, armed.fault.spec)
            if not kind.matches(armed.fault.params, message) or not armed.take_match():
                continue
            action = kind.act(armed.fault.params, message)
            self._record(armed, message, action, size)
            if action.verb is Verb.DELAY:
                delay += action.delay_s
                continue
            return Action(action.verb, delay, action.answer, action.keep_bytes)
        return Action(Verb.DELAY, delay_s=delay) if delay else None

    def _acting(self) -> Sequence[ArmedFault]:
        return [
            armed
            for armed in self._host.faults_on(self._link.id, self.stream)
            if (kind := armed.fault.spec).layer is Layer.MESSAGE
            and cast(MessageKind, kind).protocol == self._framer.protocol
            and cast(MessageKind, kind).stream is self.stream
        ]

    async def _apply(self, framed: Framed, size: int, action: Action) -> None:
        if action.delay_s > 0:
            await asyncio.sleep(action.delay_s)
        verb = action.verb
        if verb in (Verb.DELAY, Verb.TRUNCATE):
            if verb is Verb.TRUNCATE:
                self._framer.truncate(framed, action.keep_bytes)
            await self._send(framed, size)
            return
        if verb is Verb.CLOSE:
            self._link.close(f"closed at {framed.message and framed.message.name} by a fault")
            return
        if framed.head_only:
            self._mode = "discard"
        await self._dispatch(size, forward=False)
        if verb is Verb.ANSWER:
            await self._answer(action.answer)

    async def _send(self, framed: Framed, size: int) -> None:
        """Forward a whole message, or the head of one whose body streams after it."""
        if self.stream is Direction.UPSTREAM and framed.message is not None:
            self._framer.forwarded(framed)
        if framed.head_only:
            self._mode = "forward"
        keep = self._framer.cut_at(framed) if self.stream is Direction.DOWNSTREAM else None
        if keep is None:
            await self._dispatch(size, forward=True)
            return
        raw = bytes(self._buf[:size])
        head = raw.find(b"\r\n\r\n") + 4
        await self._dispatch(size, forward=False)
        await self._link.forward(self.stream, raw[: head + keep])
        self._link.close(f"answer cut after {keep} body bytes by a fault")

    async def _answer(self, answer: bytes) -> None:
        """Write ``answer`` to the client once the server has answered what came before."""
        deadline = time.monotonic() + ANSWER_ORDER_WAIT_S
        while self._framer.owed() > 0 and time.monotonic() < deadline and not self._link.ending:
            await asyncio.sleep(_POLL_S)
        if self._link.ending:
            return
        await self._link.deliver(Direction.DOWNSTREAM, answer)

    async def _dispatch(self, size: int, *, forward: bool) -> None:
        data = bytes(self._buf[:size])
        del self._buf[:size]
        self._base += size
        if forward and data:
            await self._link.forward(self.stream, data)

    def _record(self, armed: ArmedFault, message: Message, action: Action, size: int) -> None:
        self._host.ledger.record_message_hit(
            self._host.name,
            armed.fault,
            self._link.id,
            self.stream,
            str(action.verb),
            message.name,
            message.targets,
            {"bytes": size, **action.detail},
        )


def message_streams(link: Link, host: LinkHost, protocol: str) -> dict[Direction, MessageStream]:
    """The two message streams of ``link``, or none for a protocol without a framer."""
    make = FRAMERS.get(protocol)
    if make is None:
        return {}
    framer = make()
    return {stream: MessageStream(link, host, framer, stream) for stream in Direction.streams()}
