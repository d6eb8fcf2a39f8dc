"""The doctor's lines for people and its JSON for machines."""

from __future__ import annotations

import io
import json

from rich.console import Console

from harness.doctor import CheckResult, Report, Status, render, to_json


def sample() -> Report:
    return Report(
        (
            CheckResult("redis.ping", Status.FAIL, 2.0, "redis: connect timed out", "allow [TCP]"),
            CheckResult("redis.pubsub", Status.SKIP, 0.0, "not run: redis.ping failed", "fix it"),
            CheckResult("s3.bucket", Status.PASS, 0.012, "bucket b", None, {"bucket": "b"}),
        ),
        {"redisUrl": "redis://h:1/0", "region": "r", "endpoints": {"s3": None, "sqs": None}},
    )


def rendered(report: Report) -> list[str]:
    out = io.StringIO()
    render(report, Console(file=out, width=40, color_system=None))
    return out.getvalue().splitlines()


def test_one_line_per_check_with_its_fix_below_unless_it_passed():
    lines = rendered(sample())
    assert lines[0] == "doctor: redis redis://h:1/0; aws AWS (r); controller -"
    assert lines[1].split()[:3] == ["FAIL", "redis.ping", "2.0"]
    assert lines[2].strip() == "fix: allow [TCP]"  # markup-like text is printed as is
    assert lines[3].split()[:3] == ["SKIP", "redis.pubsub", "-"]
    assert lines[5].split()[:4] == ["PASS", "s3.bucket", "12", "ms"]
    assert lines[-1] == "3 checks: 1 passed, 1 failed, 1 skipped: NOT healthy"
    assert all("fix:" not in line for line in lines[5:])


def test_a_long_detail_is_not_wrapped():
    report = Report((CheckResult("x", Status.PASS, 0.1, "word " * 40),))
    assert len(rendered(report)) == 3


def test_the_json_holds_every_field():
    document = json.loads(to_json(sample()))
    assert document["ok"] is False
    assert document["summary"] == {"pass": 1, "fail": 1, "skip": 1}
    assert document["checks"][2] == {
        "name": "s3.bucket",
        "status": "pass",
        "seconds": 0.012,
        "detail": "bucket b",
        "fix": None,
        "data": {"bucket": "b"},
    }
