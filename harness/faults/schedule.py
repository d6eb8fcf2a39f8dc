"""A fault installed on a proxy: its phase over time and the connections it has claimed."""

from __future__ import annotations

import random
from enum import StrEnum

from harness.faults.model import Direction, Fault


class Phase(StrEnum):
    """Where an armed fault is in its schedule."""

    PENDING = "pending"  # armed, start_after_s not yet elapsed (or not armed yet)
    ACTIVE = "active"  # acting on its connections
    EXPIRED = "expired"  # duration_s elapsed; inert until removed


class ArmedFault:
    """Runtime state of one fault on one proxy; mutated only on the proxy's event loop.

    Times are :func:`time.monotonic` seconds.
    """

    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.armed_at: float | None = None
        self.phase = Phase.PENDING
        self.claimed: set[int] = set()
        self._rngs: dict[int, random.Random] = {}
        self._counted: dict[int, int] = {}
        self.matched = 0  # messages matched while active (message kinds)
        self.acted = 0  # ... and acted on, within first_n_matches and probability
        self._match_rng = fault.match_rng()

    def arm(self, now: float) -> None:
        """Start the schedule's clock, once."""
        if self.armed_at is None:
            self.armed_at = now

    def phase_at(self, now: float) -> Phase:
        """The phase the schedule prescribes at ``now``."""
        if self.armed_at is None or now < self.armed_at + self.fault.start_after_s:
            return Phase.PENDING
        if self.fault.duration_s is None:
            return Phase.ACTIVE
        end = self.armed_at + self.fault.start_after_s + self.fault.duration_s
        return Phase.ACTIVE if now < end else Phase.EXPIRED

    def next_change(self) -> float | None:
        """When the phase next changes, or None if it never will by itself."""
        if self.armed_at is None or self.phase is Phase.EXPIRED:
            return None
        start = self.armed_at + self.fault.start_after_s
        if self.phase is Phase.PENDING:
            return start
        return None if self.fault.duration_s is None else start + self.fault.duration_s

    def claim(self, connection: int) -> bool:
        """Take ``connection`` into the fault's scope if its first-N quota allows."""
        limit = self.fault.first_n_connections
        if limit is not None and connection not in self.claimed and len(self.claimed) < limit:
            self.claimed.add(connection)
        return self.covers(connection)

    def covers(self, connection: int) -> bool:
        """Whether the fault is in scope for ``connection`` (regardless of phase)."""
        return self.fault.first_n_connections is None or connection in self.claimed

    def acts_on(self, connection: int, stream: Direction) -> bool:
        """Whether the fault acts now on this connection's ``stream``."""
        return (
            self.phase is Phase.ACTIVE
            and self.fault.direction.covers(stream)
            and self.covers(connection)
        )

    def jitter_rng(self, connection: int) -> random.Random:
        """A per-connection RNG seeded from the fault's seed: reproducible whatever the order."""
        rng = self._rngs.get(connection)
        if rng is None:
            rng = self._rngs[connection] = random.Random(f"{self.fault.seed}:{connection}")
        return rng

    def take_match(self) -> bool:
        """A message matched: whether the fault acts on it (its first-N quota and its
        seeded probability allow). Every call draws, so the sequence is reproducible."""
        self.matched += 1
        limit = self.fault.first_n_matches
        if limit is not None and self.acted >= limit:
            return False
        if self.fault.probability < 1 and self._match_rng.random() >= self.fault.probability:
            return False
        self.acted += 1
        return True

    def pass_budget(self, connection: int, nbytes: int) -> tuple[int, bool]:
        """For a reset fault: how many of ``nbytes`` may pass, and whether to reset after.

        Bytes are counted per connection over the streams the fault covers.
        """
        seen = self._counted.get(connection, 0)
        allowed = max(0, min(nbytes, self.fault.after_bytes - seen))
        self._counted[connection] = seen + allowed
        return allowed, seen + allowed >= self.fault.after_bytes
