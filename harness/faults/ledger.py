"""The fault ledger: an append-only record of what every proxy did, and to which connection.

Timestamps are wall-clock epoch nanoseconds (:func:`time.time_ns`), the clock OpenTelemetry
stamps spans with, so a diagnosis can lay faults and spans on one timeline. The JSON-lines
file written by :meth:`FaultLedger.write_jsonl` is the evidence a later reader works from,
without any live object. Example::

    ledger = FaultLedger()
    with FaultProxy("controller->redis", "127.0.0.1", 6379, ledger) as proxy:
        ...
    ledger.write_jsonl(run_dir / "faults.jsonl")
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from harness import jsonl
from harness.faults.model import Direction, Fault


class EventKind(StrEnum):
    """What a ledger event records."""

    FAULT_ADDED = "fault_added"  # installed on a proxy; detail is the fault's spec
    FAULT_REMOVED = "fault_removed"  # taken off a proxy
    FAULT_ACTIVE = "fault_active"  # its scheduled start was reached; it now acts
    FAULT_EXPIRED = "fault_expired"  # its duration ran out; it no longer acts
    CONNECTION_OPENED = "connection_opened"  # a client connected to the proxy
    CONNECTION_CLOSED = "connection_closed"  # both sides closed; detail says why and bytes
    CONNECTION_REFUSED = "connection_refused"  # accepted, but the upstream could not be reached
    FAULT_HIT = "fault_hit"  # a fault first touched a connection with a given action
    MESSAGE_HIT = "message_hit"  # a fault on messages acted on one; detail names it


@dataclass(frozen=True)
class LedgerEvent:
    """One event; ``fault``, ``kind``, ``direction`` and ``connection`` are None when moot."""

    ts_ns: int
    proxy: str
    event: EventKind
    fault: str | None = None
    kind: str | None = None
    direction: Direction | None = None
    connection: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; enums become their string values."""
        return {
            "ts_ns": self.ts_ns,
            "proxy": self.proxy,
            "event": str(self.event),
            "fault": self.fault,
            "kind": self.kind,
            "direction": None if self.direction is None else str(self.direction),
            "connection": self.connection,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LedgerEvent:
        """Rebuild an event from :meth:`to_dict`."""
        kind, direction = data.get("kind"), data.get("direction")
        return cls(
            ts_ns=int(data["ts_ns"]),
            proxy=str(data["proxy"]),
            event=EventKind(data["event"]),
            fault=data.get("fault"),
            kind=None if kind is None else str(kind),
            direction=None if direction is None else Direction(direction),
            connection=data.get("connection"),
            detail=dict(data.get("detail") or {}),
        )


class FaultLedger:
    """Thread-safe, append-only list of :class:`LedgerEvent`, shared by several proxies."""

    def __init__(self, events: list[LedgerEvent] | None = None) -> None:
        self._lock = threading.Lock()
        self._events: list[LedgerEvent] = list(events or [])
        self._hits: set[tuple[str, str, int, str, str]] = set()

    def record(
        self,
        proxy: str,
        event: EventKind,
        *,
        fault: Fault | None = None,
        direction: Direction | None = None,
        connection: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> LedgerEvent:
        """Append an event stamped now; ``direction`` defaults to the fault's."""
        if direction is None and fault is not None:
            direction = fault.direction
        with self._lock:
            # Stamped under the lock, so list order and timestamp order agree.
            entry = LedgerEvent(
                ts_ns=time.time_ns(),
                proxy=proxy,
                event=event,
                fault=None if fault is None else fault.name,
                kind=None if fault is None else fault.kind,
                direction=direction,
                connection=connection,
                detail=dict(detail or {}),
            )
            self._events.append(entry)
        return entry

    def record_hit(
        self, proxy: str, fault: Fault, connection: int, stream: Direction, action: str, nbytes: int
    ) -> bool:
        """Record a ``fault_hit`` the first time per (fault, connection, stream, action).

        Returns whether an event was recorded; later hits of the same key are not, to keep
        the ledger small.
        """
        key = (proxy, fault.name, connection, str(stream), action)
        with self._lock:
            if key in self._hits:
                return False
            self._hits.add(key)
        detail = {"action": action, "bytes": nbytes}
        self.record(
            proxy,
            EventKind.FAULT_HIT,
            fault=fault,
            direction=stream,
            connection=connection,
            detail=detail,
        )
        return True

    def record_message_hit(
        self,
        proxy: str,
        fault: Fault,
        connection: int,
        stream: Direction,
        action: str,
        message: str,
        targets: tuple[str, ...],
        detail: Mapping[str, Any] | None = None,
    ) -> LedgerEvent:
        """Record that ``fault`` acted (``action``: delay, drop, answer...) on the message
        ``message`` (``SUBSCRIBE``, ``SQS.ReceiveMessage``) about ``targets``; every time."""
        what = {"action": action, "message": message, "targets": list(targets)}
        return self.record(
            proxy,
            EventKind.MESSAGE_HIT,
            fault=fault,
            direction=stream,
            connection=connection,
            detail={**what, **(detail or {})},
        )

    @property
    def events(self) -> list[LedgerEvent]:
        """A copy of the events so far, in the order recorded."""
        with self._lock:
            return list(self._events)

    def select(
        self, event: EventKind | None = None, *, proxy: str | None = None, fault: str | None = None
    ) -> list[LedgerEvent]:
        """The events matching every given filter, in order."""
        return [
            e
            for e in self.events
            if (event is None or e.event is event)
            and (proxy is None or e.proxy == proxy)
            and (fault is None or e.fault == fault)
        ]

    def write_jsonl(self, path: str | os.PathLike[str]) -> None:
        """Write one JSON object per event, atomically (a temporary file, then a rename)."""
        jsonl.write_atomic(path, (e.to_dict() for e in self.events))

    @classmethod
    def read_jsonl(cls, path: str | os.PathLike[str]) -> FaultLedger:
        """Load what :meth:`write_jsonl` wrote; blank lines are skipped."""
        return cls([LedgerEvent.from_dict(row) for row in jsonl.read(path)])
