"""The containers backend on a real LocalStack: nanogrid/localstack:local (localstack-core).

Marked ``docker``: skipped without an engine (failed with ``REQUIRE_DOCKER=1``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest

from harness.env.emulator import describe, get_json
from harness.env.localstack import HEALTH_PATH, READY_STATES, REQUIRED_SERVICES
from harness.provision import client_kwargs
from tests.docker_support import LOCAL_LOCALSTACK_IMAGE, require_docker

if TYPE_CHECKING:
    from harness.env.containers import ContainersBackend

pytestmark = pytest.mark.docker

REGION_CONFIG = {"LocationConstraint": "ap-northeast-2"}


def test_health_answers_on_the_aws_endpoint(localstack: ContainersBackend) -> None:
    health = get_json(str(localstack.endpoints.aws_endpoint_url), HEALTH_PATH)
    assert health["version"] == "4.14.0"
    states = {s: health["services"][s] for s in REQUIRED_SERVICES}
    assert set(states.values()) <= READY_STATES, states


def test_the_emulator_and_its_one_deviation_are_named(localstack: ContainersBackend) -> None:
    described = describe(localstack)
    assert {k: described[k] for k in ("emulator", "version", "image")} == {
        "emulator": "localstack",
        "version": "4.14.0",
        "image": LOCAL_LOCALSTACK_IMAGE,
    }
    [deviation] = described["deviations"]
    assert deviation.startswith("dynamodb: ")
    assert "moto-ext-5." in deviation  # the bundled moto's version, from the image's label


def test_queue_urls_name_the_published_port(localstack: ContainersBackend) -> None:
    sqs = boto3.client("sqs", **client_kwargs(localstack.endpoints))
    url = sqs.create_queue(QueueName="published-port")["QueueUrl"]
    try:
        port = str(localstack.endpoints.aws_endpoint_url).rsplit(":", 1)[1]
        assert url == (
            f"http://sqs.ap-northeast-2.localhost.localstack.cloud:{port}"
            "/000000000000/published-port"
        )
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_all_four_services_answer(localstack: ContainersBackend) -> None:
    kwargs = client_kwargs(localstack.endpoints)
    s3 = boto3.client("s3", **kwargs)
    s3.create_bucket(Bucket="served-by-localstack", CreateBucketConfiguration=REGION_CONFIG)
    s3.put_object(Bucket="served-by-localstack", Key="k", Body=b"v")
    assert s3.get_object(Bucket="served-by-localstack", Key="k")["Body"].read() == b"v"
    dynamodb = boto3.client("dynamodb", **kwargs)
    dynamodb.create_table(
        TableName="served-by-localstack",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="served-by-localstack", Item={"id": {"S": "1"}})
    item = dynamodb.get_item(TableName="served-by-localstack", Key={"id": {"S": "1"}})
    assert item["Item"] == {"id": {"S": "1"}}
    cloudwatch = boto3.client("cloudwatch", **kwargs)
    cloudwatch.put_metric_data(
        Namespace="NanoGrid/Test", MetricData=[{"MetricName": "m", "Value": 1}]
    )
    metrics = cloudwatch.list_metrics(Namespace="NanoGrid/Test")["Metrics"]
    assert [m["MetricName"] for m in metrics] == ["m"]


def test_reset_aws_drops_every_bucket_table_and_queue(localstack: ContainersBackend) -> None:
    kwargs = client_kwargs(localstack.endpoints)
    s3, sqs = boto3.client("s3", **kwargs), boto3.client("sqs", **kwargs)
    dynamodb = boto3.client("dynamodb", **kwargs)
    s3.create_bucket(Bucket="to-be-reset", CreateBucketConfiguration=REGION_CONFIG)
    s3.put_object(Bucket="to-be-reset", Key="k", Body=b"v")
    sqs.create_queue(QueueName="to-be-reset")
    dynamodb.create_table(
        TableName="to-be-reset",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    localstack.reset_aws()
    assert s3.list_buckets()["Buckets"] == []
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert dynamodb.list_tables()["TableNames"] == []


def test_an_unpullable_localstack_falls_back_to_the_local_localstack() -> None:
    require_docker(LOCAL_LOCALSTACK_IMAGE)
    import docker

    from harness.env.containers import _aws_image

    client = docker.from_env()
    try:
        # No registry answers here (nor in CI); where one does, the tag does not exist.
        assert _aws_image(client, "localstack/localstack:0.0.0-absent") == LOCAL_LOCALSTACK_IMAGE
    finally:
        client.close()
