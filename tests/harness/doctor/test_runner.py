"""The runner on checks of its own: order, skips, timing, the boundary, the exit status."""

from __future__ import annotations

import pytest

from harness.doctor import (
    Check,
    CheckFailed,
    CheckResult,
    DoctorConfig,
    Report,
    Status,
    default_checks,
    run_checks,
)
from harness.doctor.context import Context
from harness.doctor.result import failed, passed, skipped
from harness.doctor.runner import target
from nanogrid.settings import Settings


@pytest.fixture
def ctx():
    with Context(DoctorConfig(Settings())) as context:
        yield context


def ok(_ctx):
    return passed("fine", answer=42)


def broken(_ctx):
    raise CheckFailed("it is broken", "mend it", {"part": "x"})


def buggy(_ctx):
    raise ZeroDivisionError("division by zero")


def test_a_check_after_a_failed_prerequisite_is_skipped_with_why(ctx):
    checks = [
        Check("a", broken),
        Check("b", ok, needs=("a",)),
        Check("c", ok, needs=("b",)),
        Check("d", ok),
    ]
    report = run_checks(checks, ctx)
    assert [(r.name, r.status) for r in report.results] == [
        ("a", Status.FAIL),
        ("b", Status.SKIP),
        ("c", Status.SKIP),
        ("d", Status.PASS),
    ]
    assert report.result("a").fix == "mend it"
    assert report.result("a").data == {"part": "x"}
    assert report.result("b").detail == "not run: a failed"
    assert report.result("c").detail == "not run: b was skipped"
    assert report.result("d").data == {"answer": 42}
    assert report.exit_code == 1


def report_of(*statuses: Status) -> Report:
    return Report(tuple(CheckResult(f"c{i}", s, 0.0, "detail") for i, s in enumerate(statuses)))


def test_only_all_passed_is_ok_a_skip_is_not():
    assert report_of(Status.PASS, Status.PASS).exit_code == 0
    assert report_of(Status.PASS, Status.SKIP).exit_code == 1
    assert report_of(Status.FAIL).ok is False


def test_a_bug_in_one_check_fails_it_and_the_others_still_run(ctx, caplog):
    report = run_checks([Check("bug", buggy), Check("after", ok)], ctx)
    assert report.result("bug").status is Status.FAIL
    assert "ZeroDivisionError" in report.result("bug").detail
    assert report.result("after").status is Status.PASS
    assert "check bug raised" in caplog.text


def test_a_check_may_skip_itself():
    finding = skipped("no input", "give it one")
    assert (finding.status, finding.fix) == (Status.SKIP, "give it one")
    assert failed("bad", "fix").status is Status.FAIL


def test_needs_must_name_an_earlier_check(ctx):
    with pytest.raises(ValueError, match="b needs a, not run before it"):
        run_checks([Check("b", ok, needs=("a",)), Check("a", ok)], ctx)


def test_every_default_check_is_unique_and_after_what_it_needs():
    checks = default_checks(DoctorConfig(Settings(), function_id="f"))
    names = [c.name for c in checks]
    assert len(set(names)) == len(names)
    for position, check in enumerate(checks):
        assert isinstance(check, Check)
        assert callable(check.probe)
        assert set(check.needs) <= set(names[:position]), check.name


def test_the_report_masks_the_redis_password():
    config = DoctorConfig(Settings(redis_url="redis://user:s3cret@redis.internal:6379/0"))
    with Context(config) as context:
        shown = target(context)["redisUrl"]
    assert shown == "redis://user:***@redis.internal:6379/0"
