"""What a scenario asserts: declared actions and knobs really took effect, and the verdicts
hold as causes and consequences."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest

from harness.analysis import diagnose
from harness.scenario.catalogue import load_path
from harness.scenario.checks import check_actions, check_knobs, check_verdicts
from harness.scenario.model import Expect, Variant
from harness.scenario.runner import KNOBS
from nanogrid.telemetry import semconv as sc
from tests.harness.analysis.synth import request_run


def _evidence(**kwargs):
    return request_run(**kwargs).evidence()


def test_an_action_that_failed_fails_the_scenario_with_its_reason():
    evidence = dataclasses.replace(
        _evidence(),
        actions=[
            {"action": "close_connections", "ok": True},
            {"action": "restart_redis", "ok": False, "error": "NotImplementedError: external"},
        ],
    )
    assert check_actions(evidence) == [
        "action restart_redis did not take effect: NotImplementedError: external"
    ]


def test_a_knob_no_component_reported_fails_the_scenario():
    variant = Variant("v", Expect("SUCCESS"), worker_env={"NANOGRID_KNOB_SLOW_START": "4"})
    evidence = _evidence()
    assert check_knobs(variant, evidence, KNOBS) == [
        "knob NANOGRID_KNOB_SLOW_START (slow_start) was set but no component reported it active"
    ]
    reported = {sc.EVENT: sc.KNOB_ACTIVE, sc.F_KNOB: "slow_start", "component": "worker"}
    active = dataclasses.replace(evidence, logs=[*evidence.logs, reported])
    assert check_knobs(variant, active, KNOBS) == []


def test_a_controller_reports_its_legacy_knobs_when_ready():
    variant = Variant("v", Expect("TIMEOUT"), controller_env={"NANOGRID_LEGACY_IGNORE_FAILED": "1"})
    ready = {sc.EVENT: sc.CONTROLLER_READY, "legacy": ["ignore_failed"], "component": "controller"}
    evidence = _evidence()
    assert check_knobs(variant, evidence, KNOBS)
    assert check_knobs(variant, dataclasses.replace(evidence, logs=[ready]), KNOBS) == []


def test_verdicts_must_be_expected_causes_or_their_consequences():
    diagnosis = diagnose(_evidence(exit_code=1, client="FAILED"))
    right = Variant("v", Expect("FAILED"), ("FUNCTION_FAILED",))
    assert check_verdicts(right, diagnosis) == []
    wrong = Variant("v", Expect("FAILED"), ("OUT_OF_MEMORY",))
    problems = check_verdicts(wrong, diagnosis)
    assert any("OUT_OF_MEMORY not confirmed" in p for p in problems)
    assert "verdict FUNCTION_FAILED confirmed as a root cause, not expected" in problems
    missing = Variant(
        "v", Expect("FAILED"), ("FUNCTION_FAILED",), consequences=("RESULT_AFTER_DEADLINE",)
    )
    assert any(
        "consequence RESULT_AFTER_DEADLINE not confirmed" in p
        for p in check_verdicts(missing, diagnosis)
    )


def test_a_healthy_run_expects_healthy_and_nothing_else():
    diagnosis = diagnose(_evidence())
    assert check_verdicts(Variant("v", Expect("SUCCESS")), diagnosis) == []
    assert check_verdicts(Variant("v", Expect("SUCCESS"), ("HEALTHY",)), diagnosis) == []


SCENARIO_FILE = textwrap.dedent(
    """\
    from harness.scenario import Expect, Workload, single

    SCENARIO = single(
        name="{name}",
        title="mine",
        hypothesis="a user's own scenario",
        workload=Workload(),
        expect=Expect("SUCCESS"),
        verdicts=("HEALTHY",),
    )
    """
)


def test_user_scenarios_load_from_a_file_or_a_folder(tmp_path):
    (tmp_path / "test_one.py").write_text(SCENARIO_FILE.format(name="one"))
    (tmp_path / "two.py").write_text(SCENARIO_FILE.format(name="two"))
    (tmp_path / "helpers.py").write_text("X = 1\n")
    assert [s.name for s in load_path(tmp_path)] == ["one", "two"]
    assert [s.name for s in load_path(tmp_path / "two.py")] == ["two"]


def test_a_file_without_a_scenario_or_that_fails_to_load_is_refused(tmp_path):
    (tmp_path / "helpers.py").write_text("X = 1\n")
    with pytest.raises(ValueError, match="declares no SCENARIO"):
        load_path(tmp_path / "helpers.py")
    (tmp_path / "broken.py").write_text("import nowhere_to_be_found\n")
    with pytest.raises(ValueError, match="failed to load: ModuleNotFoundError"):
        load_path(tmp_path / "broken.py")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"holds no \.py file declaring SCENARIO"):
        load_path(tmp_path / "empty")
