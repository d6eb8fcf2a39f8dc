"""What a fault is: its kind, the byte stream it acts on, its parameters and its schedule.

A :class:`Fault` is a plain, immutable value; a :class:`~harness.faults.proxy.FaultProxy`
gives it life. Example::

    Fault("redis-silent", FaultKind.BLACKHOLE, Direction.DOWNSTREAM, start_after_s=1.0)
    Fault("slow-s3", FaultKind.LATENCY, latency_ms=200, jitter_ms=50, seed=7)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.faults.errors import InvalidFault


class Direction(StrEnum):
    """Which byte stream of a proxied connection a fault acts on."""

    UPSTREAM = "upstream"  # client -> server
    DOWNSTREAM = "downstream"  # server -> client
    BOTH = "both"  # either stream

    def covers(self, stream: Direction) -> bool:
        """Whether a fault with this direction acts on ``stream`` (upstream or downstream)."""
        return self is Direction.BOTH or self is stream


class FaultKind(StrEnum):
    """The failure a fault simulates; each has a distinct symptom at the client."""

    DOWN = "down"  # nothing listens: connects are refused, open connections closed
    CONNECT_TIMEOUT = "connect_timeout"  # SYNs dropped (a security group): connects time out
    BLACKHOLE = "blackhole"  # connected but silent: data dropped, connection kept open
    RESET = "reset"  # RST mid-stream, at once or after `after_bytes`
    LATENCY = "latency"  # each chunk delayed by latency_ms +/- jitter_ms
    BANDWIDTH = "bandwidth"  # throughput capped at rate_kb_s (1 KB = 1000 bytes)
    SLICER = "slicer"  # data split into slice_bytes pieces, slice_delay_ms apart

    @property
    def on_listener(self) -> bool:
        """Whether the fault acts on the listening socket rather than on byte streams."""
        return self in (FaultKind.DOWN, FaultKind.CONNECT_TIMEOUT)


#: The parameter fields each kind takes; all other parameter fields must keep their default.
PARAMS: dict[FaultKind, tuple[str, ...]] = {
    FaultKind.DOWN: (),
    FaultKind.CONNECT_TIMEOUT: (),
    FaultKind.BLACKHOLE: (),
    FaultKind.RESET: ("after_bytes",),
    FaultKind.LATENCY: ("latency_ms", "jitter_ms"),
    FaultKind.BANDWIDTH: ("rate_kb_s",),
    FaultKind.SLICER: ("slice_bytes", "slice_delay_ms"),
}
_ALL_PARAMS = (
    "after_bytes",
    "latency_ms",
    "jitter_ms",
    "rate_kb_s",
    "slice_bytes",
    "slice_delay_ms",
)


@dataclass(frozen=True)
class Fault:
    """One fault: what it does, to which stream, and when.

    The schedule counts from the moment the fault is armed: when it is added to a running
    proxy, or when the proxy starts. ``duration_s=None`` keeps it active until removed;
    ``first_n_connections=N`` limits it to the first N connections, by connection id, among
    those open when it activates and those opened later. ``seed`` makes jitter reproducible.
    """

    name: str
    kind: FaultKind
    direction: Direction = Direction.BOTH
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_kb_s: float = 0.0
    after_bytes: int = 0
    slice_bytes: int = 0
    slice_delay_ms: float = 0.0
    start_after_s: float = 0.0
    duration_s: float | None = None
    first_n_connections: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", FaultKind(self.kind))
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError as exc:
            raise InvalidFault(f"fault {self.name!r}: {exc}") from exc
        if not self.name:
            raise InvalidFault("a fault needs a non-empty name")
        self._check_numbers()
        self._check_params()
        self._check_schedule()

    @property
    def params(self) -> dict[str, float]:
        """The parameters this fault's kind takes, by field name."""
        return {key: getattr(self, key) for key in PARAMS[self.kind]}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: name, kind, direction, the kind's params, the schedule."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": str(self.kind),
            "direction": str(self.direction),
        }
        out.update(self.params)
        for key in ("start_after_s", "duration_s", "first_n_connections", "seed"):
            out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Rebuild a fault from :meth:`to_dict`; unknown keys are an :class:`InvalidFault`."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidFault(f"unknown fault field(s): {', '.join(unknown)}")
        return cls(**data)

    def _fail(self, message: str) -> InvalidFault:
        return InvalidFault(f"{self.kind} fault {self.name!r}: {message}")

    def _check_numbers(self) -> None:
        for key in (*_ALL_PARAMS, "start_after_s", "duration_s", "first_n_connections"):
            value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._fail(f"{key} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise self._fail(f"{key} must be finite and >= 0, got {value!r}")

    def _check_params(self) -> None:
        allowed = PARAMS[self.kind]
        for key in _ALL_PARAMS:
            if key not in allowed and getattr(self, key) != 0:
                takes = ", ".join(allowed) or "no parameters"
                raise self._fail(f"{key} does not apply; this kind takes {takes}")
        for key in ("after_bytes", "slice_bytes"):
            if not isinstance(getattr(self, key), int):
                raise self._fail(f"{key} must be an integer")
        if self.kind is FaultKind.LATENCY and self.latency_ms <= 0:
            raise self._fail("latency_ms must be > 0")
        if self.kind is FaultKind.BANDWIDTH and self.rate_kb_s <= 0:
            raise self._fail("rate_kb_s must be > 0")
        if self.kind is FaultKind.SLICER and self.slice_bytes < 1:
            raise self._fail("slice_bytes must be >= 1")
        if self.kind.on_listener and self.direction is not Direction.BOTH:
            raise self._fail("acts on the listener, so its direction must be 'both'")

    def _check_schedule(self) -> None:
        if self.duration_s is not None and self.duration_s <= 0:
            raise self._fail("duration_s must be > 0, or None for 'until removed'")
        if self.first_n_connections is None:
            return
        if self.kind.on_listener:
            # Refused or dropped connects never reach the proxy, so they cannot be counted.
            raise self._fail("first_n_connections cannot apply; schedule it with duration_s")
        if self.first_n_connections < 1 or not isinstance(self.first_n_connections, int):
            raise self._fail("first_n_connections must be an integer >= 1, or None for all")
