"""boto3 clients built from :class:`~nanogrid.settings.Settings`, with bounded timeouts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from nanogrid.settings import Settings


@dataclass(frozen=True)
class AwsClients:
    """The four AWS services NanoGrid uses. boto3 clients are thread-safe once built."""

    s3: S3Client
    sqs: SQSClient
    dynamodb: DynamoDBClient
    cloudwatch: CloudWatchClient

    @classmethod
    def from_settings(cls, settings: Settings) -> AwsClients:
        session = boto3.session.Session()
        kwargs: dict[str, Any] = {
            "region_name": settings.region,
            "config": Config(
                connect_timeout=settings.redis_connect_timeout,
                read_timeout=30,
                retries={"max_attempts": 2, "mode": "standard"},
                max_pool_connections=50,
            ),
        }

        def endpoint(service: str) -> dict[str, Any]:
            url = settings.endpoint_for(service)
            return {"endpoint_url": url} if url else {}

        return cls(
            s3=session.client("s3", **kwargs, **endpoint("s3")),
            sqs=session.client("sqs", **kwargs, **endpoint("sqs")),
            dynamodb=session.client("dynamodb", **kwargs, **endpoint("dynamodb")),
            cloudwatch=session.client("cloudwatch", **kwargs, **endpoint("cloudwatch")),
        )


def queue_url(clients: AwsClients, settings: Settings) -> str:
    """The task queue's URL: the configured one, else looked up by name."""
    if settings.queue_url:
        return settings.queue_url
    return clients.sqs.get_queue_url(QueueName=settings.queue)["QueueUrl"]
