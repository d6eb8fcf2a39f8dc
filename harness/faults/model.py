"""What a fault is: its kind, the stream it acts on, its parameters and its schedule.

A :class:`Fault` is a plain, immutable value; a :class:`~harness.faults.proxy.FaultProxy`
gives it life. Its kind (:mod:`harness.faults.kinds`, one module each) says which
parameters it takes and validates them. Example::

    Fault("redis-silent", FaultKind.BLACKHOLE, Direction.DOWNSTREAM, start_after_s=1.0)
    Fault("slow-s3", FaultKind.LATENCY, latency_ms=200, jitter_ms=50, seed=7)
    Fault("late-subscribe", "redis_delay", command="SUBSCRIBE", key="result:*", delay_ms=1500)
    Fault("throttled", "aws_error", operation="SQS.SendMessage", first_n_matches=2)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from harness.faults.errors import InvalidFault

if TYPE_CHECKING:
    from harness.faults.kinds.base import FaultType


class Direction(StrEnum):
    """Which byte stream of a proxied connection a fault acts on."""

    UPSTREAM = "upstream"  # client -> server
    DOWNSTREAM = "downstream"  # server -> client
    BOTH = "both"  # either stream

    def covers(self, stream: Direction) -> bool:
        """Whether a fault with this direction acts on ``stream`` (upstream or downstream)."""
        return self is Direction.BOTH or self is stream

    @staticmethod
    def streams() -> tuple[Direction, Direction]:
        """The two streams of a connection: upstream, downstream."""
        return Direction.UPSTREAM, Direction.DOWNSTREAM


class FaultKind(StrEnum):
    """Names of the byte-level kinds, for convenience; every kind is named by its string
    (``"redis_delay"``), and :func:`harness.faults.kinds.names` lists them all."""

    DOWN = "down"  # nothing listens: connects are refused, open connections closed
    CONNECT_TIMEOUT = "connect_timeout"  # SYNs dropped (a security group): connects time out
    BLACKHOLE = "blackhole"  # connected but silent: data dropped, connection kept open
    RESET = "reset"  # RST mid-stream, at once or after `after_bytes`
    LATENCY = "latency"  # each chunk delayed by latency_ms +/- jitter_ms
    BANDWIDTH = "bandwidth"  # throughput capped at rate_kb_s (1 KB = 1000 bytes)
    SLICER = "slicer"  # data split into slice_bytes pieces, slice_delay_ms apart

    @property
    def on_listener(self) -> bool:
        """Whether the kind acts on the listening socket rather than on byte streams."""
        from harness.faults.kinds import kind_of
        from harness.faults.kinds.base import Layer

        return kind_of(self.value).layer is Layer.LISTENER


#: The schedule fields every fault has; the rest of a fault's dict form are its params.
SCHEDULE = ("start_after_s", "duration_s", "first_n_connections", "seed")
#: Schedule fields only faults acting on messages have.
MESSAGE_SCHEDULE = ("first_n_matches", "probability")


@dataclass(frozen=True, init=False, repr=False)
class Fault:
    """One fault: what it does, to which stream, and when.

    The schedule counts from the moment the fault is armed: when it is added to a running
    proxy, or when the proxy starts. ``duration_s=None`` keeps it active until removed;
    ``first_n_connections=N`` limits it to the first N connections, by connection id, among
    those open when it activates and those opened later. Faults acting on messages also
    take ``first_n_matches=N`` (act on the first N matched messages, then let them pass)
    and ``probability`` (act on each match with that chance, drawn from ``seed``). ``seed``
    also makes jitter reproducible. Parameters are keywords, checked by the kind; those not
    given take the kind's defaults.
    """

    name: str
    kind: str
    direction: Direction
    start_after_s: float
    duration_s: float | None
    first_n_connections: int | None
    first_n_matches: int | None
    probability: float
    seed: int
    _params: tuple[tuple[str, Any], ...]

    def __init__(
        self,
        name: str,
        kind: str,
        direction: Direction | str = Direction.BOTH,
        *,
        start_after_s: float = 0.0,
        duration_s: float | None = None,
        first_n_connections: int | None = None,
        first_n_matches: int | None = None,
        probability: float = 1.0,
        seed: int = 0,
        **params: Any,
    ) -> None:
        from harness.faults.kinds import kind_of

        if not name:
            raise InvalidFault("a fault needs a non-empty name")
        spec = kind_of(str(kind))
        try:
            direction = Direction(direction)
        except ValueError as exc:
            raise InvalidFault(f"fault {name!r}: {exc}") from exc
        values = dict(
            name=name,
            kind=spec.name,
            direction=direction,
            start_after_s=start_after_s,
            duration_s=duration_s,
            first_n_connections=first_n_connections,
            first_n_matches=first_n_matches,
            probability=probability,
            seed=seed,
        )
        for key, value in values.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "_params", tuple(self._checked_params(spec, params).items()))
        self._check_schedule(spec)

    @property
    def spec(self) -> FaultType:
        """The kind's definition (parameters, layer, behaviour)."""
        from harness.faults.kinds import kind_of

        return kind_of(self.kind)

    @property
    def params(self) -> dict[str, Any]:
        """The parameters this fault's kind takes, by name, defaults filled in."""
        return dict(self._params)

    def __repr__(self) -> str:
        fields = [repr(self.name), repr(self.kind)]
        if self.direction is not Direction.BOTH:
            fields.append(repr(str(self.direction)))
        fields += [f"{key}={value!r}" for key, value in self._params]
        defaults = {
            "start_after_s": 0.0,
            "duration_s": None,
            "first_n_connections": None,
            "first_n_matches": None,
            "probability": 1.0,
            "seed": 0,
        }
        fields += [
            f"{key}={getattr(self, key)!r}"
            for key, default in defaults.items()
            if getattr(self, key) != default
        ]
        return f"Fault({', '.join(fields)})"

    def __getattr__(self, key: str) -> Any:
        # fault.latency_ms reads a parameter; only called for names that are not fields.
        for name, value in self.__dict__.get("_params", ()):
            if name == key:
                return value
        raise AttributeError(f"{type(self).__name__} {self.kind!r} has no parameter {key!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: name, kind, direction, the kind's params, the schedule."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "direction": str(self.direction),
        }
        out.update(self.params)
        keys = SCHEDULE + (MESSAGE_SCHEDULE if self._on_messages else ())
        for key in keys:
            out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Rebuild a fault from :meth:`to_dict`; unknown keys are an :class:`InvalidFault`."""
        from harness.faults.kinds import kind_of

        data = dict(data)
        try:
            name, kind = data.pop("name"), data.pop("kind")
        except KeyError as exc:
            raise InvalidFault(f"a fault needs a {exc.args[0]!r}") from exc
        known = {"direction", *SCHEDULE, *MESSAGE_SCHEDULE, *kind_of(kind).params}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidFault(f"unknown fault field(s) for {kind}: {', '.join(unknown)}")
        return cls(name, kind, **data)

    @property
    def _on_messages(self) -> bool:
        from harness.faults.kinds.base import Layer

        return self.spec.layer is Layer.MESSAGE

    def _fail(self, message: str) -> InvalidFault:
        return InvalidFault(f"{self.kind} fault {self.name!r}: {message}")

    def _checked_params(self, spec: FaultType, given: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(given) - set(spec.params))
        if unknown:
            takes = ", ".join(spec.params) or "no parameters"
            if any(key in MESSAGE_SCHEDULE for key in unknown):
                raise self._fail(f"{unknown[0]} applies to faults on messages only")
            raise self._fail(f"{unknown[0]} does not apply; this kind takes {takes}")
        params: dict[str, Any] = {}
        for key, param in spec.params.items():
            value = given.get(key, param.default)
            problem = param.problem(key, value)
            if problem is not None:
                raise self._fail(problem)
            params[key] = value
        problem = spec.check(params)
        if problem is not None:
            raise self._fail(problem)
        return params

    def _check_schedule(self, spec: FaultType) -> None:
        from harness.faults.kinds.base import Layer

        self._check_numbers()
        p = self.probability
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 < p <= 1:
            raise self._fail(f"probability must be in (0, 1], got {p!r}")
        if spec.layer is not Layer.MESSAGE and (self.first_n_matches is not None or p != 1):
            key = "first_n_matches" if self.first_n_matches is not None else "probability"
            raise self._fail(f"{key} applies to faults on messages only")
        if spec.layer is Layer.LISTENER and self.direction is not Direction.BOTH:
            raise self._fail("acts on the listener, so its direction must be 'both'")
        stream = getattr(spec, "stream", None)
        if stream is not None and not self.direction.covers(stream):
            raise self._fail(f"acts on {stream} messages, so its direction must be {stream}")
        for key in ("first_n_connections", "first_n_matches"):
            value = getattr(self, key)
            if value is None:
                continue
            if spec.layer is Layer.LISTENER:
                # Refused or dropped connects never reach the proxy, so they cannot be counted.
                raise self._fail(f"{key} cannot apply; schedule it with duration_s")
            if value < 1 or not isinstance(value, int):
                raise self._fail(f"{key} must be an integer >= 1, or None for all")

    def _check_numbers(self) -> None:
        for key in ("start_after_s", "duration_s", "first_n_connections", "first_n_matches"):
            value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._fail(f"{key} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise self._fail(f"{key} must be finite and >= 0, got {value!r}")
        if self.duration_s is not None and self.duration_s <= 0:
            raise self._fail("duration_s must be > 0, or None for 'until removed'")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise self._fail(f"seed must be an integer, got {self.seed!r}")

    def match_rng(self) -> random.Random:
        """The generator of this fault's probability draws, from its seed."""
        return random.Random(f"{self.seed}:matches")
