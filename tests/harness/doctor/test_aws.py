"""The bucket, the table and CloudWatch, each at the endpoint the controller's settings name."""

from __future__ import annotations

from harness.procs import free_port
from tests.harness.doctor.conftest import GOOD_FUNCTION


def test_a_missing_bucket_fails_and_skips_the_code_check(healthy_stack, doctor):
    env = {**healthy_stack.exports(), "NANOGRID_BUCKET": "doctor-no-bucket"}
    run = doctor(env, "--function", GOOD_FUNCTION)
    assert run.failing() == {"s3.bucket": "fail", "function.code": "skip"}
    bucket = run.check("s3.bucket")
    assert bucket["detail"].startswith("s3: no bucket 'doctor-no-bucket'")
    assert "NANOGRID_BUCKET" in bucket["fix"]


def test_a_missing_table_fails_and_skips_the_function_checks(healthy_stack, doctor):
    env = {**healthy_stack.exports(), "NANOGRID_TABLE": "doctor-no-table"}
    run = doctor(env, "--function", GOOD_FUNCTION)
    assert run.failing() == {
        "dynamodb.table": "fail",
        "function.item": "skip",
        "function.code": "skip",
    }
    assert run.check("dynamodb.table")["detail"].startswith("dynamodb: no table 'doctor-no-table'")


def test_a_per_service_endpoint_is_checked_and_named_on_its_own(healthy_stack, doctor):
    closed = f"http://127.0.0.1:{free_port()}"
    run = doctor({**healthy_stack.exports(), "AWS_ENDPOINT_URL_SQS": closed})
    assert run.failing() == {"sqs.queue": "fail", "sqs.dead-letter": "skip"}
    queue = run.check("sqs.queue")
    assert queue["detail"].startswith("sqs: connection refused at 127.0.0.1:")
    assert "AWS_ENDPOINT_URL_SQS" in queue["fix"]
    assert run.report["target"]["endpoints"]["sqs"] == closed


def test_the_aws_endpoint_refused_fails_every_aws_check(healthy_stack, doctor):
    closed = f"http://127.0.0.1:{free_port()}"
    env = {**healthy_stack.exports(), "AWS_ENDPOINT_URL": closed, "NANOGRID_QUEUE_URL": ""}
    run = doctor(env)
    assert run.failing() == {
        "s3.bucket": "fail",
        "dynamodb.table": "fail",
        "sqs.queue": "fail",
        "sqs.dead-letter": "skip",
        "cloudwatch.metrics": "fail",
    }
    assert "point AWS_ENDPOINT_URL at" in run.check("s3.bucket")["fix"]
