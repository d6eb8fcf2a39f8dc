"""One proxied connection: two pumps that consult the proxy's current faults on every chunk.

Because the fault set is read per chunk, a fault added while a connection is open (a
long-lived Redis SUBSCRIBE) acts on that connection's next byte. A wire tap, if given, sees
each chunk as read, before any fault acts on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import Mapping, Sequence
from typing import Protocol

from harness.faults.ledger import EventKind, FaultLedger
from harness.faults.model import Direction, FaultKind
from harness.faults.schedule import ArmedFault
from harness.wire.tap import Tap

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
UPSTREAM_CONNECT_TIMEOUT_S = 10.0
_RST_LINGER = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST


class LinkHost(Protocol):
    """What a link needs from its proxy."""

    name: str
    ledger: FaultLedger

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
        try:
            while data := await reader.read(CHUNK):
                self.bytes[stream] += len(data)
                if self._tap is not None:  # the tap never raises, never changes data
                    self._tap.feed(stream.value, data, time.time_ns())
                await self._forward(stream, data, writer)
            if not writer.is_closing() and writer.can_write_eof():
                writer.write_eof()  # half-close: the other stream may still flow
        except OSError as exc:  # includes ConnectionError: one side went away
            self.close(f"{stream} error: {exc!r}")

    async def _forward(self, stream: Direction, data: bytes, writer: asyncio.StreamWriter) -> None:
        faults = self._host.faults_on(self.id, stream)
        data, resetter = self._cut_for_reset(faults, stream, data)
        if data and (hole := _first(faults, FaultKind.BLACKHOLE)) is not None:
            self._hit(hole, stream, "drop", len(data))
            data = b""
        delay = self._latency_s(faults, stream, len(data)) if data else 0.0
        if delay > 0:
            await asyncio.sleep(delay)
        for pause, piece in self._pieces(faults, stream, data):
            if pause > 0:
                await asyncio.sleep(pause)
            writer.write(piece)
            await writer.drain()
        if resetter is not None:
            self._hit(resetter, stream, "reset", 0)
            self.reset(f"reset by fault {resetter.fault.name!r}")

    def _cut_for_reset(
        self, faults: Sequence[ArmedFault], stream: Direction, data: bytes
    ) -> tuple[bytes, ArmedFault | None]:
        for armed in faults:
            if armed.fault.kind is FaultKind.RESET:
                allowed, now = armed.pass_budget(self.id, len(data))
                if now:
                    return data[:allowed], armed
        return data, None

    def _latency_s(self, faults: Sequence[ArmedFault], stream: Direction, nbytes: int) -> float:
        total_ms = 0.0
        for armed in faults:
            if armed.fault.kind is FaultKind.LATENCY:
                jitter = armed.fault.jitter_ms
                offset = armed.jitter_rng(self.id).uniform(-jitter, jitter) if jitter else 0.0
                total_ms += max(0.0, armed.fault.latency_ms + offset)
                self._hit(armed, stream, "delay", nbytes)
        return total_ms / 1000

    def _pieces(
        self, faults: Sequence[ArmedFault], stream: Direction, data: bytes
    ) -> list[tuple[float, bytes]]:
        """Split ``data`` into (pause before, piece) for the bandwidth and slicer faults."""
        size, gap_s, rate = len(data) or 1, 0.0, 0.0
        for armed in faults:
            fault = armed.fault
            if fault.kind is FaultKind.SLICER:
                size, gap_s = min(size, fault.slice_bytes), gap_s + fault.slice_delay_ms / 1000
                self._hit(armed, stream, "slice", len(data))
            elif fault.kind is FaultKind.BANDWIDTH:
                bps = fault.rate_kb_s * 1000
                rate = bps if rate == 0 else min(rate, bps)
                size = min(size, max(1, int(bps / 20)))  # pieces of ~50 ms keep the pace even
                self._hit(armed, stream, "throttle", len(data))
        pieces = [data[i : i + size] for i in range(0, len(data), size)]
        # Pause before each piece, so that N bytes take at least N / rate to arrive.
        return [
            ((gap_s if i else 0.0) + (len(p) / rate if rate else 0.0), p)
            for i, p in enumerate(pieces)
        ]

    def _hit(self, armed: ArmedFault, stream: Direction, action: str, nbytes: int) -> None:
        self._host.ledger.record_hit(self._host.name, armed.fault, self.id, stream, action, nbytes)

    def _record(self, event: EventKind, detail: Mapping[str, object]) -> None:
        self._host.ledger.record(self._host.name, event, connection=self.id, detail=detail)

    async def _wait_closed(self) -> None:
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # the close outcome is not ours to report
                await writer.wait_closed()


def _first(faults: Sequence[ArmedFault], kind: FaultKind) -> ArmedFault | None:
    return next((armed for armed in faults if armed.fault.kind is kind), None)
