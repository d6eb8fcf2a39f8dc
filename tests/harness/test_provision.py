import dataclasses
import json
import uuid
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from harness.provision import Provisioned, client_kwargs, provision
from nanogrid.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@pytest.fixture
def settings():
    """Names of this test's own: the session backend is shared."""
    suffix = uuid.uuid4().hex[:10]
    return Settings(bucket=f"bucket-{suffix}", table=f"table-{suffix}", queue=f"queue-{suffix}")


@pytest.fixture
def sqs(backend):
    return boto3.client("sqs", **client_kwargs(backend.endpoints))


def redrive_policy(sqs: "SQSClient", queue_url: str) -> tuple[dict[Any, str], dict[str, Any]]:
    """The queue's attributes and its parsed redrive policy."""
    found = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    return dict(found), json.loads(found["RedrivePolicy"])


def test_creates_every_resource_and_is_safe_twice(backend, settings):
    first = provision(backend.endpoints, settings)
    second = provision(backend.endpoints, settings)

    assert first == second
    assert isinstance(first, Provisioned)
    assert first.queue_url.endswith(f"/{settings.queue}")
    assert first.dlq_url.endswith(f"/{settings.queue}-dlq")
    kwargs = client_kwargs(backend.endpoints)
    s3 = boto3.client("s3", **kwargs)
    location = s3.get_bucket_location(Bucket=settings.bucket)["LocationConstraint"]
    assert location == "ap-northeast-2"
    table = boto3.client("dynamodb", **kwargs).describe_table(TableName=settings.table)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "functionId", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_redrive_policy_and_visibility(backend, settings, sqs):
    settings = dataclasses.replace(settings, visibility_timeout=45)
    urls = provision(backend.endpoints, settings, max_receive_count=3)

    attributes, policy = redrive_policy(sqs, urls.queue_url)
    dlq = sqs.get_queue_attributes(QueueUrl=urls.dlq_url, AttributeNames=["QueueArn"])
    assert int(policy["maxReceiveCount"]) == 3
    assert policy["deadLetterTargetArn"] == dlq["Attributes"]["QueueArn"]
    assert attributes["VisibilityTimeout"] == "45"


def test_a_second_run_updates_the_queue(backend, settings, sqs):
    provision(backend.endpoints, settings, max_receive_count=5)
    urls = provision(backend.endpoints, settings, max_receive_count=2)

    _, policy = redrive_policy(sqs, urls.queue_url)
    assert int(policy["maxReceiveCount"]) == 2


def test_message_goes_to_the_dlq_after_max_receives(backend, settings, sqs):
    urls = provision(backend.endpoints, settings, max_receive_count=2)
    sqs.send_message(QueueUrl=urls.queue_url, MessageBody="poison")

    for _ in range(2):  # visible again at once: every receive counts
        got = sqs.receive_message(QueueUrl=urls.queue_url, VisibilityTimeout=0)
        assert [m["Body"] for m in got.get("Messages", [])] == ["poison"]
    third = sqs.receive_message(QueueUrl=urls.queue_url, VisibilityTimeout=0)

    assert third.get("Messages", []) == []
    dead = sqs.receive_message(QueueUrl=urls.dlq_url, WaitTimeSeconds=1)
    assert [m["Body"] for m in dead["Messages"]] == ["poison"]


def test_us_east_1_bucket_has_no_location_constraint(backend, settings):
    endpoints = dataclasses.replace(backend.endpoints, region="us-east-1")
    provision(endpoints, settings)
    provision(endpoints, settings)

    s3 = boto3.client("s3", **client_kwargs(endpoints))
    assert s3.get_bucket_location(Bucket=settings.bucket)["LocationConstraint"] is None
