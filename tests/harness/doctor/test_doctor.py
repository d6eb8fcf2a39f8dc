"""``nanogrid-harness doctor`` end to end on a healthy ``up``-like stack: every check passes,
and nothing it did outlives it."""

from __future__ import annotations

import json

import redis
from typer.testing import CliRunner

from harness.cli import app
from harness.doctor import DoctorConfig, default_checks
from harness.doctor.redis import CHANNEL_PREFIX
from harness.stack import wait_until
from tests.harness.doctor.conftest import FAST, GOOD_FUNCTION

ALL_CHECKS = [
    "redis.ping",
    "redis.pubsub",
    "workers.heartbeat",
    "s3.bucket",
    "dynamodb.table",
    "sqs.queue",
    "sqs.dead-letter",
    "cloudwatch.metrics",
    "function.item",
    "function.code",
    "controller.health",
]


def test_a_healthy_stack_passes_every_check(healthy_stack, doctor):
    run = doctor(healthy_stack.exports(), "--function", GOOD_FUNCTION)
    assert run.exit_code == 0, run.output
    assert list(run.statuses) == ALL_CHECKS
    assert run.failing() == {}
    assert run.report["ok"] is True
    assert "11 checks: 11 passed, 0 failed, 0 skipped: healthy" in run.output
    assert run.check("redis.pubsub")["data"]["receivers"] == 1
    assert run.check("workers.heartbeat")["data"]["live"] == ["worker-1"]
    assert run.check("function.code")["data"]["names"] == ["main.py"]
    assert run.check("controller.health")["data"]["httpStatus"] == 200


def test_every_result_line_names_its_check_and_status(healthy_stack, doctor):
    run = doctor(healthy_stack.exports(), "--function", GOOD_FUNCTION)
    lines = [line.split() for line in run.output.splitlines()]
    named = {words[1]: words[0] for words in lines if len(words) > 1 and words[0] == "PASS"}
    assert named == dict.fromkeys(ALL_CHECKS, "PASS")


def test_without_function_its_checks_are_not_run(healthy_stack, doctor):
    run = doctor(healthy_stack.exports())
    assert run.exit_code == 0, run.output
    assert "function.item" not in run.statuses
    config = DoctorConfig.from_env(healthy_stack.exports(), isolated=True)
    assert [c.name for c in default_checks(config)] == [
        n for n in ALL_CHECKS if not n.startswith("function.")
    ]


def test_json_dash_prints_only_the_json(healthy_stack, tmp_path):
    env_file = tmp_path / "up.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in healthy_stack.exports().items()))
    result = CliRunner().invoke(app, ["doctor", "--env", str(env_file), "--json", "-", *FAST])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["summary"] == {"pass": 9, "fail": 0, "skip": 0}


def snapshot(stack, aws) -> dict[str, object]:
    """Every Redis key, S3 object, queue (with its depths), table and item of the stack."""
    client = redis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    with client:
        keys = sorted(client.scan_iter("*"))
    s3, sqs, dynamodb = aws("s3"), aws("sqs"), aws("dynamodb")
    objects = sorted(
        (bucket["Name"], obj["Key"], obj["Size"])
        for bucket in s3.list_buckets()["Buckets"]
        for obj in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
    )
    queues = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        queues[url] = {k: v for k, v in attributes.items() if k.startswith("ApproximateNumber")}
    tables = {
        name: dynamodb.scan(TableName=name)["Items"]
        for name in dynamodb.list_tables()["TableNames"]
    }
    return {"keys": keys, "objects": objects, "queues": queues, "tables": tables}


def test_doctor_leaves_nothing_behind(healthy_stack, doctor, aws):
    client = redis.Redis.from_url(healthy_stack.settings.redis_url, decode_responses=True)
    with client:
        clients_before = len(client.client_list())
        before = snapshot(healthy_stack, aws)
        run = doctor(healthy_stack.exports(), "--function", GOOD_FUNCTION)
        assert run.exit_code == 0, run.output
        assert snapshot(healthy_stack, aws) == before
        assert client.pubsub_channels(f"{CHANNEL_PREFIX}*") == []
        # Its connections close with it: the server sees no more clients than before.
        assert wait_until(lambda: len(client.client_list()) <= clients_before, timeout=10)
