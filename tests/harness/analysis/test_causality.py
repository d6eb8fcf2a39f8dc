"""Roles in the causal chain: which confirmed verdict is a cause, which a consequence."""

from __future__ import annotations

from typing import Any

import pytest

from harness.analysis import FAULT_CODES, HEALTHY, Verdict, VerdictStatus
from harness.analysis.causality import CAUSES, assign_roles
from harness.analysis.model import Role
from nanogrid.telemetry import semconv as sc


def confirmed(code: str, **detail: Any) -> Verdict:
    return Verdict(code, VerdictStatus.CONFIRMED, detail=detail)


def ruled_out(code: str) -> Verdict:
    return Verdict(code, VerdictStatus.RULED_OUT)


def roles(*verdicts: Verdict) -> dict[str, tuple[Role | None, list[str]]]:
    found = list(verdicts)
    assign_roles(found)
    return {v.code: (v.role, v.caused_by) for v in found}


def test_the_causal_table_names_only_fault_codes():
    causes = {cause for pairs in CAUSES.values() for cause, _ in pairs}
    assert set(CAUSES) | causes <= set(FAULT_CODES)


def test_a_lone_confirmed_verdict_is_a_cause():
    assert roles(confirmed("RESULT_AFTER_DEADLINE")) == {"RESULT_AFTER_DEADLINE": (Role.CAUSE, [])}


def test_a_slow_function_is_the_cause_of_the_late_result():
    assert roles(confirmed("SLOW_FUNCTION"), confirmed("RESULT_AFTER_DEADLINE")) == {
        "SLOW_FUNCTION": (Role.CAUSE, []),
        "RESULT_AFTER_DEADLINE": (Role.CONSEQUENCE, ["SLOW_FUNCTION"]),
    }


def test_every_confirmed_cause_is_named_in_the_table_order():
    found = roles(
        confirmed("SLOW_DEPENDENCY"), confirmed("RESULT_AFTER_DEADLINE"), confirmed("SLOW_FUNCTION")
    )
    assert found["RESULT_AFTER_DEADLINE"] == (
        Role.CONSEQUENCE,
        ["SLOW_FUNCTION", "SLOW_DEPENDENCY"],
    )


def test_unconfirmed_verdicts_get_no_role_and_cause_nothing():
    found = roles(ruled_out("SLOW_FUNCTION"), confirmed("RESULT_AFTER_DEADLINE"))
    assert found == {
        "SLOW_FUNCTION": (None, []),
        "RESULT_AFTER_DEADLINE": (Role.CAUSE, []),
    }


def test_healthy_has_no_role():
    assert roles(confirmed(HEALTHY)) == {HEALTHY: (None, [])}


@pytest.mark.parametrize(
    ("components", "dependencies", "reason", "role"),
    [
        (["worker-1"], [sc.SQS], "sqs_unreachable", Role.CONSEQUENCE),
        (["controller"], [sc.SQS], "sqs_unreachable", Role.CAUSE),
        (["worker-1"], [sc.S3], "sqs_unreachable", Role.CAUSE),
        (["worker-1"], [sc.SQS], "unknown", Role.CAUSE),
    ],
)
def test_aws_explains_an_unconsumed_queue_only_for_workers_failing_on_sqs_meanwhile(
    components, dependencies, reason, role
):
    aws = confirmed("AWS_UNREACHABLE", components=components, dependencies=dependencies)
    found = roles(aws, confirmed("WORKER_NOT_CONSUMING", reason=reason))
    assert found["WORKER_NOT_CONSUMING"][0] is role
    assert found["AWS_UNREACHABLE"] == (Role.CAUSE, [])


@pytest.mark.parametrize(("redelivered", "role"), [(False, Role.CONSEQUENCE), (True, Role.CAUSE)])
def test_a_crash_explains_an_unconsumed_queue_only_without_a_redelivery(redelivered, role):
    crash = confirmed("WORKER_CRASHED", worker="worker-1", redelivered=redelivered)
    found = roles(crash, confirmed("WORKER_NOT_CONSUMING", reason="unknown"))
    assert found["WORKER_NOT_CONSUMING"][0] is role


@pytest.mark.parametrize(
    ("cause", "components", "role"),
    [
        ("dropped_subscriber", ["controller"], Role.CONSEQUENCE),
        ("dropped_subscriber", ["worker-1"], Role.CAUSE),
        ("late_subscription", ["controller"], Role.CAUSE),
    ],
)
def test_redis_explains_a_lost_result_only_through_a_dropped_subscription(cause, components, role):
    redis = confirmed("REDIS_UNREACHABLE", components=components, dependencies=[sc.REDIS])
    found = roles(redis, confirmed("RESULT_PUBLISHED_WITHOUT_SUBSCRIBER", cause=cause))
    assert found["RESULT_PUBLISHED_WITHOUT_SUBSCRIBER"][0] is role


@pytest.mark.parametrize(
    ("components", "role"), [(["worker-1"], Role.CONSEQUENCE), (["controller"], Role.CAUSE)]
)
def test_an_unreachable_dependency_makes_a_result_late_only_from_a_worker(components, role):
    redis = confirmed("REDIS_UNREACHABLE", components=components, dependencies=[sc.REDIS])
    found = roles(redis, confirmed("RESULT_AFTER_DEADLINE"))
    assert found["RESULT_AFTER_DEADLINE"][0] is role
