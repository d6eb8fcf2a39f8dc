"""Create the bucket, table and queues NanoGrid expects; safe to run again.

A second run leaves what exists in place and brings the queue attributes (visibility
timeout, redrive policy) to the requested values.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from harness.env.base import Endpoints
from nanogrid import defaults
from nanogrid.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

    QueueAttributes = dict[QueueAttributeNameType, str]

logger = logging.getLogger(__name__)

_BUCKET_EXISTS = frozenset({"BucketAlreadyOwnedByYou"})
_TABLE_EXISTS = frozenset({"ResourceInUseException"})
_QUEUE_EXISTS = frozenset(
    {"QueueAlreadyExists", "QueueNameExists", "AWS.SimpleQueueService.QueueNameExists"}
)


class ProvisionError(RuntimeError):
    """An AWS call failed while provisioning; the message names the resource."""


@dataclass(frozen=True)
class Provisioned:
    """The URLs of the task queue and its dead-letter queue."""

    queue_url: str
    dlq_url: str


def provision(
    endpoints: Endpoints,
    settings: Settings,
    max_receive_count: int = defaults.MAX_RECEIVE_COUNT,
) -> Provisioned:
    """Create ``settings.bucket``, ``settings.table``, ``{queue}-dlq`` and ``settings.queue``.

    The queue sends a message to the DLQ after ``max_receive_count`` receives.
    """
    kwargs = client_kwargs(endpoints)
    create_bucket(boto3.client("s3", **kwargs), settings.bucket, endpoints.region)
    create_table(boto3.client("dynamodb", **kwargs), settings.table)
    sqs = boto3.client("sqs", **kwargs)
    dlq_url = create_queue(sqs, f"{settings.queue}-dlq", {})
    attributes: QueueAttributes = {
        "VisibilityTimeout": str(settings.visibility_timeout),
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": _queue_arn(sqs, dlq_url), "maxReceiveCount": max_receive_count}
        ),
    }
    queue_url = create_queue(sqs, settings.queue, attributes)
    logger.info("provisioned %s, %s, %s", settings.bucket, settings.table, queue_url)
    return Provisioned(queue_url=queue_url, dlq_url=dlq_url)


def client_kwargs(endpoints: Endpoints) -> dict[str, Any]:
    """boto3 client arguments; dummy credentials when the endpoint is an emulator."""
    kwargs: dict[str, Any] = {
        "region_name": endpoints.region,
        "config": Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3}),
    }
    if endpoints.aws_endpoint_url:
        kwargs["endpoint_url"] = endpoints.aws_endpoint_url
        kwargs["aws_access_key_id"] = "test"
        kwargs["aws_secret_access_key"] = "test"  # moto accepts any credentials
    return kwargs


def create_bucket(s3: S3Client, bucket: str, region: str) -> None:
    """Create ``bucket`` unless this account owns it already."""
    with _step(f"S3 bucket {bucket}", tolerate=_BUCKET_EXISTS):
        if region == "us-east-1":  # the one region that rejects a LocationConstraint
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={
                    "LocationConstraint": cast("BucketLocationConstraintType", region)
                },
            )


def create_table(dynamodb: DynamoDBClient, table: str) -> None:
    """Create the metadata table (hash key ``functionId``) and wait until it is active."""
    with _step(f"DynamoDB table {table}", tolerate=_TABLE_EXISTS):
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "functionId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "functionId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    with _step(f"DynamoDB table {table}"):
        waiter = dynamodb.get_waiter("table_exists")
        waiter.wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def create_queue(sqs: SQSClient, name: str, attributes: QueueAttributes) -> str:
    """Create queue ``name``, or set ``attributes`` on the existing one; return its URL."""
    with _step(f"SQS queue {name}"):
        try:
            return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        except ClientError as exc:
            if _code(exc) not in _QUEUE_EXISTS:
                raise
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        return url


def _queue_arn(sqs: SQSClient, url: str) -> str:
    with _step(f"SQS queue {url}"):
        found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return found["Attributes"]["QueueArn"]


@contextmanager
def _step(what: str, tolerate: frozenset[str] = frozenset()) -> Iterator[None]:
    """Ignore ClientErrors whose code is in ``tolerate``; translate the others."""
    try:
        yield
    except ClientError as exc:
        if _code(exc) in tolerate:
            logger.debug("%s exists already", what)
            return
        raise ProvisionError(f"provisioning {what} failed: {exc}") from exc
    except BotoCoreError as exc:
        raise ProvisionError(f"provisioning {what} failed: {exc}") from exc


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
