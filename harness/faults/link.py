"""One proxied connection: two pumps that consult the proxy's current faults on every chunk.

Because the fault set is read per chunk, a fault added while a connection is open (a
long-lived Redis SUBSCRIBE) acts on that connection's next byte. A wire tap, if given, sees
the connection as a capture on the client's host would: what the client sent, as read
before any fault acts on it, and what the client received, as written after every fault (a
reply dropped on the way never appears; a delayed one appears when it arrived).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import Coroutine, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, cast

from harness.faults.kinds.base import Layer, Pieces, StreamContext, StreamKind
from harness.faults.ledger import EventKind, FaultLedger
from harness.faults.model import Direction
from harness.faults.schedule import ArmedFault
from harness.wire.tap import Tap

if TYPE_CHECKING:
    from harness.faults.messages import MessageStream

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
UPSTREAM_CONNECT_TIMEOUT_S = 10.0
_RST_LINGER = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST


class LinkHost(Protocol):
    """What a link needs from its proxy."""

    name: str
    ledger: FaultLedger

    @property
    def message_faults_installed(self) -> bool:
        """Whether a fault on messages is installed, whatever its phase."""

    def faults_on(self, connection: int, stream: Direction) -> list[ArmedFault]:
        """The faults acting now on ``stream`` of ``connection``."""

    def established(self, link: Link) -> None:
        """Both sides are connected; apply faults that act at once."""

    def finished(self, link: Link) -> None:
        """The link is closed on both sides."""


class Link:
    """A client connection and its upstream connection, pumped both ways."""

    def __init__(
        self,
        host: LinkHost,
        connection: int,
        client: socket.socket,
        upstream: tuple[str, int],
        tap: Tap | None = None,
        protocol: str | None = None,
    ) -> None:
        self.id = connection
        self._host = host
        self._client_sock = client
        self._upstream = upstream
        self._readers: dict[Direction, asyncio.StreamReader] = {}
        self._writers: dict[Direction, asyncio.StreamWriter] = {}
        self._started = False
        self._ending: str | None = None  # "close" or "reset", once asked for
        self.reason: str | None = None
        self.bytes = {Direction.UPSTREAM: 0, Direction.DOWNSTREAM: 0}
        self._tap = tap
        self._framing: dict[Direction, MessageStream] = {}
        if protocol is not None:
            from harness.faults.messages import message_streams

            self._framing = message_streams(self, host, protocol)

    @property
    def ending(self) -> bool:
        """Whether a close or reset has been asked for."""
        return self._ending is not None

    async def run(self) -> None:
        """Connect upstream and pump until both sides close, or the task is cancelled."""
        self._started = True
        try:
            if await self._open():
                self._host.established(self)
                if not self.ending:
                    await self._pump_both()
        finally:
            self.close("proxy stopped")
            await self._wait_closed()
            self._finish()

    def abandon(self) -> None:
        """Close a link whose task was cancelled before it ever ran."""
        if not self._started:
            self._client_sock.close()
            self.close("proxy stopped")
            self._finish()

    def _finish(self) -> None:
        if self._tap is not None:
            self._tap.close(time.time_ns())
        detail = {"reason": self.reason, **{f"bytes_{k}": v for k, v in self.bytes.items()}}
        self._record(EventKind.CONNECTION_CLOSED, detail)
        self._host.finished(self)

    def close(self, reason: str) -> None:
        """Close both sides with FIN, after what is already buffered."""
        self._end("close", reason)

    def reset(self, reason: str) -> None:
        """Abort both sides with RST (SO_LINGER 0), discarding what is buffered."""
        self._end("reset", reason)

    def _end(self, how: str, reason: str) -> None:
        if self._ending is None:
            self._ending = how
        if self.reason is None:
            self.reason = reason
        self._apply_ending()

    def _apply_ending(self) -> None:
        for writer in self._writers.values():
            if writer.is_closing():
                continue
            if self._ending == "reset":
                sock = writer.get_extra_info("socket")
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RST_LINGER)
                writer.transport.abort()
            elif self._ending == "close":
                writer.close()

    async def _open(self) -> bool:
        try:
            c_reader, c_writer = await asyncio.open_connection(sock=self._client_sock)
        except OSError:
            self._client_sock.close()
            raise
        self._readers[Direction.UPSTREAM] = c_reader
        self._writers[Direction.DOWNSTREAM] = c_writer
        try:
            connecting = asyncio.open_connection(*self._upstream)
            u_reader, u_writer = await asyncio.wait_for(connecting, UPSTREAM_CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            self._record(EventKind.CONNECTION_REFUSED, {"reason": f"upstream: {exc!r}"})
            self.close("upstream unreachable")
            return False
        self._readers[Direction.DOWNSTREAM] = u_reader
        self._writers[Direction.UPSTREAM] = u_writer
        self._apply_ending()  # a close or reset asked for while connecting
        return not self.ending

    async def _pump_both(self) -> None:
        await asyncio.gather(self._pump(Direction.UPSTREAM), self._pump(Direction.DOWNSTREAM))
        if self.reason is None:
            self.reason = "eof"

    async def _pump(self, stream: Direction) -> None:
        reader, writer = self._readers[stream], self._writers[stream]
        framing = self._framing.get(stream) if self._framing else None
        try:
            while data := await reader.read(CHUNK):
                self.bytes[stream] += len(data)
                if stream is Direction.UPSTREAM:
                    self._observe(stream, data)
                if framing is None:
                    await self._forward(stream, data, writer)
                else:
                    await framing.take(data)
                if self.ending:
                    break
            if framing is not None and not self.ending:
                await framing.flush()
            if not writer.is_closing() and writer.can_write_eof():
                writer.write_eof()  # half-close: the other stream may still flow
        except OSError as exc:  # includes ConnectionError: one side went away
            self.close(f"{stream} error: {exc!r}")

    async def _forward(self, stream: Direction, data: bytes, writer: asyncio.StreamWriter) -> None:
        """Send ``data`` on through the stream kinds acting now, in stage order."""
        faults = [
            (armed, spec)
            for armed in self._host.faults_on(self.id, stream)
            if (spec := armed.fault.spec).layer is Layer.STREAM
        ]
        pieces: Pieces = [(0.0, data)]
        end: tuple[str, str] | None = None
        for armed, spec in sorted(faults, key=lambda pair: cast(StreamKind, pair[1]).stage):
            ctx = StreamContext(armed, self.id, stream, partial(self._hit, armed, stream))
            pieces = cast(StreamKind, spec).shape(ctx, pieces)
            end = end or ctx.end
        for pause, piece in pieces:
            if pause > 0:
                await asyncio.sleep(pause)
            if piece:
                await self.deliver(stream, piece)
        if end is not None:
            self._end(*end)

    def on_connect_faults(self) -> None:
        """Let the stream kinds acting now on this link act at once (a reset at 0 bytes)."""
        for stream in (Direction.UPSTREAM, Direction.DOWNSTREAM):
            for armed in self._host.faults_on(self.id, stream):
                spec = armed.fault.spec
                if spec.layer is not Layer.STREAM or self.ending:
                    continue
                ctx = StreamContext(armed, self.id, stream, partial(self._hit, armed, stream))
                cast(StreamKind, spec).on_connect(ctx)
                if ctx.end is not None:
                    self._end(*ctx.end)

    async def deliver(self, stream: Direction, data: bytes) -> None:
        """Write ``data`` to the end of ``stream`` (upstream: the server; downstream: the
        client), past every fault."""
        if stream is Direction.DOWNSTREAM:
            self._observe(stream, data)
        writer = self._writers[stream]
        writer.write(data)
        await writer.drain()

    def _observe(self, stream: Direction, data: bytes) -> None:
        """Feed the wire tap as a capture on the client's host would see the connection:
        what the client sent (before any fault) and what it received (after every fault)."""
        if self._tap is not None:  # the tap never raises, never changes data
            self._tap.feed(stream.value, data, time.time_ns())

    def forward(self, stream: Direction, data: bytes) -> Coroutine[Any, Any, None]:
        """Send ``data`` on ``stream`` through the stream kinds acting now."""
        return self._forward(stream, data, self._writers[stream])

    def _hit(self, armed: ArmedFault, stream: Direction, action: str, nbytes: int) -> None:
        self._host.ledger.record_hit(self._host.name, armed.fault, self.id, stream, action, nbytes)

    def _record(self, event: EventKind, detail: Mapping[str, object]) -> None:
        self._host.ledger.record(self._host.name, event, connection=self.id, detail=detail)

    async def _wait_closed(self) -> None:
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # the close outcome is not ours to report
                await writer.wait_closed()
