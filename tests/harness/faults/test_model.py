"""Fault values: validation with clear errors, and a lossless dict form."""

from __future__ import annotations

import pytest

from harness.faults import Direction, Fault, FaultKind, InvalidFault


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": FaultKind.LATENCY}, "latency_ms must be > 0"),
        ({"kind": FaultKind.BANDWIDTH, "rate_kb_s": -1}, "rate_kb_s must be finite and >= 0"),
        ({"kind": FaultKind.SLICER}, "slice_bytes must be >= 1"),
        ({"kind": FaultKind.BLACKHOLE, "latency_ms": 5}, "latency_ms does not apply"),
        ({"kind": FaultKind.RESET, "after_bytes": 1.5}, "after_bytes must be an integer"),
        ({"kind": FaultKind.DOWN, "direction": Direction.UPSTREAM}, "direction must be 'both'"),
        ({"kind": FaultKind.DOWN, "first_n_connections": 2}, "schedule it with duration_s"),
        ({"kind": FaultKind.RESET, "first_n_connections": 0}, "integer >= 1"),
        ({"kind": FaultKind.RESET, "duration_s": 0}, "duration_s must be > 0"),
        ({"kind": FaultKind.RESET, "start_after_s": float("nan")}, "finite"),
        ({"kind": "flood"}, "unknown fault kind 'flood'; known kinds: aws_delay, "),
        ({"kind": FaultKind.LATENCY, "latency_ms": "10"}, "must be a number"),
    ],
)
def test_invalid_faults_say_what_is_wrong(kwargs, message):
    with pytest.raises(InvalidFault, match=message):
        Fault("f", **kwargs)


def test_empty_name_is_rejected():
    with pytest.raises(InvalidFault, match="non-empty name"):
        Fault("", FaultKind.DOWN)


def test_strings_are_coerced_to_enums():
    fault = Fault("f", "latency", "downstream", latency_ms=5)  # type: ignore[arg-type]
    assert fault.kind == FaultKind.LATENCY
    assert fault.direction is Direction.DOWNSTREAM


def test_dict_form_holds_the_kind_params_and_schedule_and_round_trips():
    fault = Fault("slow", FaultKind.LATENCY, latency_ms=20, jitter_ms=5, duration_s=2.0, seed=9)
    data = fault.to_dict()
    assert data == {
        "name": "slow",
        "kind": "latency",
        "direction": "both",
        "latency_ms": 20,
        "jitter_ms": 5,
        "start_after_s": 0.0,
        "duration_s": 2.0,
        "first_n_connections": None,
        "seed": 9,
    }
    assert Fault.from_dict(data) == fault


def test_from_dict_rejects_unknown_fields():
    with pytest.raises(InvalidFault, match="unknown fault field"):
        Fault.from_dict({"name": "x", "kind": "down", "toxicity": 0.5})


@pytest.mark.parametrize(
    ("direction", "covered"),
    [
        (Direction.UPSTREAM, {Direction.UPSTREAM}),
        (Direction.DOWNSTREAM, {Direction.DOWNSTREAM}),
        (Direction.BOTH, {Direction.UPSTREAM, Direction.DOWNSTREAM}),
    ],
)
def test_direction_covers_its_streams(direction, covered):
    streams = {Direction.UPSTREAM, Direction.DOWNSTREAM}
    assert {s for s in streams if direction.covers(s)} == covered
