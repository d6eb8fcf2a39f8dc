"""Taps: what a proxied connection feeds its bytes to, and the guard that keeps them harmless.

A :class:`Tap` sees every chunk of both directions of one connection, as the sender sent
it, and records :class:`~harness.wire.model.WireEvent` values to a sink. The proxy builds
one per connection with :func:`make_tap`, which wraps a decoding tap in :class:`GuardedTap`:
whatever a decoder does, nothing raises into the proxy and no byte is changed. Example::

    tap = make_tap(PROTOCOL_REDIS, "worker->redis", 1, recorder.record)
    tap.feed(DIRECTION_UPSTREAM, b"PING\\r\\n", time.time_ns())
    tap.close(time.time_ns())  # a "closed" event with the byte counts
"""

from __future__ import annotations

import logging
from typing import Protocol

from harness.wire.http import HttpTap
from harness.wire.model import (
    DETAIL_BYTES_DOWNSTREAM,
    DETAIL_BYTES_UPSTREAM,
    DETAIL_UNDECODED_DOWNSTREAM,
    DETAIL_UNDECODED_UPSTREAM,
    DIRECTION_BOTH,
    DIRECTION_DOWNSTREAM,
    DIRECTION_UPSTREAM,
    KIND_CLOSED,
    PROTOCOL_BYTES,
    PROTOCOL_HTTP,
    PROTOCOL_REDIS,
    Emitter,
    Sink,
)
from harness.wire.resp import RedisTap

logger = logging.getLogger(__name__)


class Tap(Protocol):
    """What a proxy feeds: every chunk read, per direction, then the connection's end."""

    def feed(self, direction: str, data: bytes, ts_ns: int) -> None:
        """``data`` was read from ``direction`` at ``ts_ns``; it must not be changed."""

    def close(self, ts_ns: int) -> None:
        """The connection ended at ``ts_ns``."""


class ByteTap:
    """Counts the bytes of each direction; on close records a ``closed`` event.

    The event's detail has ``bytes_upstream``, ``bytes_downstream`` and the bytes of each
    direction past the point where its decoding stopped (``undecoded_upstream``...).
    """

    def __init__(self, emitter: Emitter) -> None:
        self._emitter = emitter
        self.bytes = {DIRECTION_UPSTREAM: 0, DIRECTION_DOWNSTREAM: 0}
        self.closed = False

    def feed(self, direction: str, data: bytes, ts_ns: int) -> None:
        """Count ``data``."""
        self.bytes[direction] += len(data)

    def close(self, ts_ns: int) -> None:
        """Record the ``closed`` event, once."""
        if self.closed:
            return
        self.closed = True
        undecoded = {
            d: max(0, self.bytes[d] - offset) for d, offset in self._emitter.undecoded_from.items()
        }
        detail = {
            DETAIL_BYTES_UPSTREAM: self.bytes[DIRECTION_UPSTREAM],
            DETAIL_BYTES_DOWNSTREAM: self.bytes[DIRECTION_DOWNSTREAM],
            DETAIL_UNDECODED_UPSTREAM: undecoded.get(DIRECTION_UPSTREAM, 0),
            DETAIL_UNDECODED_DOWNSTREAM: undecoded.get(DIRECTION_DOWNSTREAM, 0),
        }
        self._emitter.emit(ts_ns, DIRECTION_BOTH, KIND_CLOSED, detail=detail)


class GuardedTap:
    """Counts bytes and runs a decoding tap so that it can never raise into the proxy.

    An exception from the decoder gives that direction up (one ``undecoded`` event); its
    bytes are only counted from then on. A direction a decoder gave up is not fed again.
    """

    def __init__(self, decoder: Tap, emitter: Emitter) -> None:
        self._decoder = decoder
        self._emitter = emitter
        self.counter = ByteTap(emitter)

    def feed(self, direction: str, data: bytes, ts_ns: int) -> None:
        """Count ``data``, then decode it unless this direction was given up."""
        offset = self.counter.bytes[direction]
        self.counter.feed(direction, data, ts_ns)
        if self.counter.closed or not self._emitter.decoding(direction):
            return
        try:
            self._decoder.feed(direction, data, ts_ns)
        except Exception as exc:  # the boundary: a decoder bug must not touch the traffic
            logger.debug("wire %s: decoder failed", self._emitter.path, exc_info=True)
            self._emitter.give_up(ts_ns, direction, f"decoder error: {exc!r}", offset)

    def close(self, ts_ns: int) -> None:
        """Let the decoder flush what the end completes, then record ``closed``."""
        if self.counter.closed:
            return
        try:
            self._decoder.close(ts_ns)
        except Exception:  # the boundary, as in feed()
            logger.debug("wire %s: decoder failed on close", self._emitter.path, exc_info=True)
        self.counter.close(ts_ns)


def make_tap(protocol: str | None, path: str, connection: int, sink: Sink) -> Tap:
    """The tap for one connection of ``path`` speaking ``protocol`` (None: bytes only).

    Raises ``ValueError`` for a protocol it does not know.
    """
    emitter = Emitter(path, connection, protocol or PROTOCOL_BYTES, sink)
    if protocol is None or protocol == PROTOCOL_BYTES:
        return ByteTap(emitter)
    if protocol == PROTOCOL_REDIS:
        return GuardedTap(RedisTap(emitter), emitter)
    if protocol == PROTOCOL_HTTP:
        return GuardedTap(HttpTap(emitter), emitter)
    raise ValueError(f"no wire decoder for protocol {protocol!r}")
