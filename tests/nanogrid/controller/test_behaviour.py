"""Controller behaviour knobs: correct by default, each legacy knob by its variable."""

from __future__ import annotations

import pytest

from nanogrid.controller.behaviour import ControllerBehaviour


def test_defaults_are_the_correct_behaviour():
    behaviour = ControllerBehaviour.from_env({})
    assert behaviour == ControllerBehaviour()
    assert behaviour.subscribe_after_send is None
    assert behaviour.read_stored_result is True
    assert behaviour.ignore_failed is False
    assert behaviour.validate_uploads is True
    assert behaviour.legacy == []


@pytest.mark.parametrize(
    ("env", "expected", "legacy"),
    [
        (
            {"NANOGRID_LEGACY_SUBSCRIBE_AFTER_SEND": "1.5"},
            ControllerBehaviour(subscribe_after_send=1.5),
            ["subscribe_after_send"],
        ),
        (
            {"NANOGRID_LEGACY_SUBSCRIBE_AFTER_SEND": "0"},
            ControllerBehaviour(subscribe_after_send=0.0),
            ["subscribe_after_send"],
        ),
        (
            {"NANOGRID_LEGACY_PUBSUB_ONLY": "1"},
            ControllerBehaviour(read_stored_result=False),
            ["pubsub_only"],
        ),
        (
            {"NANOGRID_LEGACY_IGNORE_FAILED": "true"},
            ControllerBehaviour(ignore_failed=True),
            ["ignore_failed"],
        ),
        (
            {"NANOGRID_LEGACY_SKIP_VALIDATION": " YES "},
            ControllerBehaviour(validate_uploads=False),
            ["skip_validation"],
        ),
    ],
)
def test_each_knob_switches_one_behaviour(env, expected, legacy):
    behaviour = ControllerBehaviour.from_env(env)
    assert behaviour == expected
    assert behaviour.legacy == legacy


def test_all_knobs_listed_in_order():
    behaviour = ControllerBehaviour.from_env(
        {
            "NANOGRID_LEGACY_SUBSCRIBE_AFTER_SEND": "2",
            "NANOGRID_LEGACY_PUBSUB_ONLY": "on",
            "NANOGRID_LEGACY_IGNORE_FAILED": "1",
            "NANOGRID_LEGACY_SKIP_VALIDATION": "1",
        }
    )
    assert behaviour.legacy == [
        "subscribe_after_send",
        "pubsub_only",
        "ignore_failed",
        "skip_validation",
    ]


@pytest.mark.parametrize("value", ["", "0", "false", "no", "off", "maybe"])
def test_other_flag_values_leave_the_default(value):
    env = {
        "NANOGRID_LEGACY_PUBSUB_ONLY": value,
        "NANOGRID_LEGACY_IGNORE_FAILED": value,
        "NANOGRID_LEGACY_SKIP_VALIDATION": value,
        "NANOGRID_LEGACY_SUBSCRIBE_AFTER_SEND": "",
    }
    assert ControllerBehaviour.from_env(env) == ControllerBehaviour()


def test_reads_os_environ_when_no_mapping_given(monkeypatch):
    monkeypatch.setenv("NANOGRID_LEGACY_IGNORE_FAILED", "1")
    assert ControllerBehaviour.from_env().ignore_failed is True


def test_bad_delay_raises():
    with pytest.raises(ValueError, match="later"):
        ControllerBehaviour.from_env({"NANOGRID_LEGACY_SUBSCRIBE_AFTER_SEND": "later"})
