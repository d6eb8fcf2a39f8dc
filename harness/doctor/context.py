"""What every check works with: the configuration, clients built once, facts checks share.

Clients are built on first use with the configured timeouts and no retries, so that a
dropped SYN costs one connect timeout, never a multiple of it. :meth:`Context.close` closes
what was built.
"""

from __future__ import annotations

from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import redis
from botocore.config import Config
from redis.backoff import NoBackoff
from redis.retry import Retry

from harness.doctor.net import Where
from harness.doctor.result import Status

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from harness.doctor.config import DoctorConfig
    from nanogrid.registry import FunctionMeta

REDIS_PORT = 6379
_AWS_VARIABLES = {
    "s3": "AWS_ENDPOINT_URL_S3",
    "sqs": "AWS_ENDPOINT_URL_SQS",
    "dynamodb": "AWS_ENDPOINT_URL_DYNAMODB",
    "cloudwatch": "AWS_ENDPOINT_URL_CLOUDWATCH",
}


class Context:
    """Configuration, lazily built clients, and facts one check leaves for the next."""

    def __init__(self, config: DoctorConfig) -> None:
        self.config = config
        self.settings = config.settings
        self.statuses: dict[str, Status] = {}  # filled by the runner as checks finish
        self.queue_url: str | None = None  # set by the queue check
        self.queue_attributes: dict[str, str] = {}
        self.function: FunctionMeta | None = None  # set by the function item check

    @cached_property
    def redis(self) -> redis.Redis:
        """A client without retries; reads wait at most ``read_timeout``."""
        return redis.Redis.from_url(
            self.settings.redis_url,
            socket_connect_timeout=self.config.connect_timeout,
            socket_timeout=self.config.read_timeout,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )

    @property
    def redis_where(self) -> Where:
        """Redis's address, from ``REDIS_URL`` (a unix socket's path as the host)."""
        parts = urlsplit(self.settings.redis_url)
        if parts.scheme == "unix":
            return Where("redis", parts.path, None, "REDIS_URL")
        return Where("redis", parts.hostname or "localhost", parts.port or REDIS_PORT, "REDIS_URL")

    @cached_property
    def s3(self) -> S3Client:
        return self._session.client("s3", **self._client_kwargs("s3"))

    @cached_property
    def sqs(self) -> SQSClient:
        return self._session.client("sqs", **self._client_kwargs("sqs"))

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        return self._session.client("dynamodb", **self._client_kwargs("dynamodb"))

    @cached_property
    def cloudwatch(self) -> CloudWatchClient:
        return self._session.client("cloudwatch", **self._client_kwargs("cloudwatch"))

    def aws_where(self, service: str, endpoint_url: str) -> Where:
        """Where an AWS service is reached (``endpoint_url``: its client's resolved URL)."""
        parts = urlsplit(endpoint_url)
        default_port = 443 if parts.scheme == "https" else 80
        if getattr(self.settings, f"{service}_endpoint_url", None):
            variable = _AWS_VARIABLES[service]
        elif self.settings.aws_endpoint_url:
            variable = "AWS_ENDPOINT_URL"
        else:
            variable = f"{_AWS_VARIABLES[service]} (unset: AWS itself)"
        return Where(service, parts.hostname or endpoint_url, parts.port or default_port, variable)

    def aws_cli(self, service: str) -> str:
        """The ``aws`` command line that reaches the same endpoint, for the fixes."""
        url = self.settings.endpoint_for(service)
        endpoint = f" --endpoint-url {url}" if url else ""
        return f"aws{endpoint} --region {self.settings.region} {service}"

    @cached_property
    def _session(self) -> boto3.session.Session:
        given = self.config.credentials
        return boto3.session.Session(
            aws_access_key_id=given.get("aws_access_key_id"),
            aws_secret_access_key=given.get("aws_secret_access_key"),
            aws_session_token=given.get("aws_session_token"),
            profile_name=given.get("profile_name"),
        )

    def _client_kwargs(self, service: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "region_name": self.settings.region,
            "config": Config(
                connect_timeout=self.config.connect_timeout,
                read_timeout=self.config.read_timeout,
                retries={"total_max_attempts": 1, "mode": "standard"},
                # In botocore since 1.31; its stubs do not list it yet.
                ignore_configured_endpoint_urls=self.config.isolated,  # type: ignore[call-arg]
            ),
        }
        if url := self.settings.endpoint_for(service):
            kwargs["endpoint_url"] = url
        return kwargs

    def close(self) -> None:
        """Close every client that was built."""
        for name in ("redis", "s3", "sqs", "dynamodb", "cloudwatch"):
            client = self.__dict__.pop(name, None)
            if client is not None:
                client.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
