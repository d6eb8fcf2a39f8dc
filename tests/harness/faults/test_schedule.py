"""An armed fault's phases, first-N claims, seeded jitter and reset budget."""

from __future__ import annotations

from harness.faults import Direction, Fault, FaultKind
from harness.faults.schedule import ArmedFault, Phase


def test_phases_follow_start_after_and_duration():
    armed = ArmedFault(Fault("f", FaultKind.BLACKHOLE, start_after_s=1.0, duration_s=2.0))
    assert armed.phase_at(100.0) is Phase.PENDING  # not armed yet
    armed.arm(100.0)
    armed.arm(150.0)  # arming twice keeps the first time
    assert [armed.phase_at(t) for t in (100.5, 101.0, 102.9, 103.0)] == [
        Phase.PENDING,
        Phase.ACTIVE,
        Phase.ACTIVE,
        Phase.EXPIRED,
    ]
    assert armed.next_change() == 101.0
    armed.phase = Phase.ACTIVE
    assert armed.next_change() == 103.0


def test_first_n_claims_stop_at_the_quota():
    armed = ArmedFault(Fault("f", FaultKind.RESET, first_n_connections=2))
    assert [armed.claim(c) for c in (4, 5, 6)] == [True, True, False]
    assert armed.claim(4) is True  # claimed stays claimed
    armed.phase = Phase.ACTIVE
    assert armed.acts_on(5, Direction.UPSTREAM)
    assert not armed.acts_on(6, Direction.UPSTREAM)


def test_jitter_is_reproducible_per_seed_and_connection():
    def draws(seed: int, connection: int) -> list[float]:
        fault = Fault("f", FaultKind.LATENCY, latency_ms=10, jitter_ms=5, seed=seed)
        rng = ArmedFault(fault).jitter_rng(connection)
        return [rng.random() for _ in range(3)]

    assert draws(1, 7) == draws(1, 7)
    assert draws(1, 7) != draws(2, 7)
    assert draws(1, 7) != draws(1, 8)


def test_reset_budget_lets_after_bytes_through_then_resets():
    armed = ArmedFault(Fault("f", FaultKind.RESET, after_bytes=10))
    assert armed.pass_budget(1, 6) == (6, False)
    assert armed.pass_budget(1, 6) == (4, True)
    assert armed.pass_budget(2, 10) == (10, True)  # counted per connection
