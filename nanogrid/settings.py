"""Typed settings for the Controller and the Worker, read from the environment in one place.

Precedence: explicit argument > environment variable > default. :func:`Settings.from_env`
is called at process entry points only, never at import.

=============================  ==========================  ================================
environment variable           default                     meaning
=============================  ==========================  ================================
``AWS_ENDPOINT_URL``           (real AWS)                  S3 / SQS / DynamoDB / CloudWatch
``AWS_ENDPOINT_URL_S3``        ``AWS_ENDPOINT_URL``        S3 only (likewise ``_SQS``,
                                                           ``_DYNAMODB``, ``_CLOUDWATCH``)
``AWS_REGION``                 ``ap-northeast-2``          region of every AWS client
``REDIS_URL``                  ``redis://127.0.0.1:6379/0``  results, stages, heartbeats
``NANOGRID_BUCKET``            ``nanogrid-code-bucket``    code bucket
``NANOGRID_TABLE``             ``nanogrid-functions``      metadata table (key functionId)
``NANOGRID_QUEUE_URL``         (looked up by name)         task queue URL
``NANOGRID_QUEUE``             ``nanogrid-tasks``          task queue name
``NANOGRID_RUN_DEADLINE``      ``25``                      seconds /run waits for a result
``NANOGRID_REDIS_CONNECT_TIMEOUT``  ``2``                  Redis connect timeout, seconds
``NANOGRID_REDIS_SOCKET_TIMEOUT``   ``5``                  Redis read/write timeout, seconds
``NANOGRID_MAX_ZIP_BYTES``     52428800 (50 MB)            largest accepted zip
``NANOGRID_MAX_UNZIPPED_BYTES``  262144000 (250 MB)        largest unpacked size
``NANOGRID_MAX_ENTRIES``       10000                       most entries in a zip
``NANOGRID_MAX_RATIO``         200                         highest compression ratio
``NANOGRID_WORK_DIR``          ``$TMPDIR/nanogrid-worker`` worker's code cache
``NANOGRID_RUNTIME``           ``process``                 worker runtime (``process``, ``docker``)
``NANOGRID_DOCKER_IMAGE``      ``python:3.11-slim``        the docker runtime's image
``NANOGRID_PROCESS_START``     ``zygote``                  process runtime: fork a warm
                                                           interpreter (``zygote``) or start
                                                           a fresh one (``interpreter``)
``NANOGRID_WORKER_ID``         ``{hostname}-{pid}``        worker name in heartbeats
``NANOGRID_VISIBILITY_TIMEOUT``  ``30``                    SQS visibility, extended while running
``NANOGRID_RESULT_TTL``        86400                       seconds a stored result is kept
=============================  ==========================  ================================
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from nanogrid import defaults


@dataclass(frozen=True)
class Limits:
    """Upload validation limits."""

    max_zip_bytes: int = defaults.MAX_ZIP_BYTES
    max_unzipped_bytes: int = defaults.MAX_UNZIPPED_BYTES
    max_entries: int = defaults.MAX_ENTRIES
    max_ratio: int = defaults.MAX_COMPRESSION_RATIO


@dataclass(frozen=True)
class Settings:
    """Everything the Controller and the Worker need to find their dependencies."""

    aws_endpoint_url: str | None = None
    s3_endpoint_url: str | None = None  # per-service endpoints win over aws_endpoint_url
    sqs_endpoint_url: str | None = None
    dynamodb_endpoint_url: str | None = None
    cloudwatch_endpoint_url: str | None = None
    region: str = defaults.REGION
    redis_url: str = "redis://127.0.0.1:6379/0"
    bucket: str = defaults.BUCKET
    table: str = defaults.TABLE
    queue: str = defaults.QUEUE
    queue_url: str | None = None
    run_deadline: float = defaults.RUN_DEADLINE_SECONDS
    redis_connect_timeout: float = defaults.REDIS_CONNECT_TIMEOUT
    redis_socket_timeout: float = defaults.REDIS_SOCKET_TIMEOUT
    limits: Limits = field(default_factory=Limits)
    work_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "nanogrid-worker")
    runtime: str = "process"
    docker_image: str | None = None  # the docker runtime's image (None: its default)
    process_start: str = "zygote"  # the process runtime: "zygote" or "interpreter"
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    visibility_timeout: int = defaults.VISIBILITY_TIMEOUT_SECONDS
    result_ttl: int = defaults.RESULT_TTL_SECONDS
    heartbeat_seconds: float = defaults.HEARTBEAT_SECONDS

    def endpoint_for(self, service: str) -> str | None:
        """The endpoint URL of one AWS service (``s3``, ``sqs``, ``dynamodb``, ``cloudwatch``):
        its own, else ``aws_endpoint_url``, else None (real AWS), as boto3 resolves them."""
        own: str | None = getattr(self, f"{service}_endpoint_url", None)
        return own or self.aws_endpoint_url

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); ``overrides`` win over both."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, var, conv in _ENV:
            raw = env.get(var)
            if raw not in (None, ""):
                values[name] = conv(raw)
        limits = {n: int(env[v]) for n, v in _LIMIT_ENV if env.get(v)}
        if limits:
            values["limits"] = replace(Limits(), **limits)
        values.update(overrides)
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        return cls(**values)


_ENV: list[tuple[str, str, Any]] = [
    ("aws_endpoint_url", "AWS_ENDPOINT_URL", str),
    ("s3_endpoint_url", "AWS_ENDPOINT_URL_S3", str),
    ("sqs_endpoint_url", "AWS_ENDPOINT_URL_SQS", str),
    ("dynamodb_endpoint_url", "AWS_ENDPOINT_URL_DYNAMODB", str),
    ("cloudwatch_endpoint_url", "AWS_ENDPOINT_URL_CLOUDWATCH", str),
    ("region", "AWS_REGION", str),
    ("redis_url", "REDIS_URL", str),
    ("bucket", "NANOGRID_BUCKET", str),
    ("table", "NANOGRID_TABLE", str),
    ("queue", "NANOGRID_QUEUE", str),
    ("queue_url", "NANOGRID_QUEUE_URL", str),
    ("run_deadline", "NANOGRID_RUN_DEADLINE", float),
    ("redis_connect_timeout", "NANOGRID_REDIS_CONNECT_TIMEOUT", float),
    ("redis_socket_timeout", "NANOGRID_REDIS_SOCKET_TIMEOUT", float),
    ("work_dir", "NANOGRID_WORK_DIR", Path),
    ("runtime", "NANOGRID_RUNTIME", str),
    ("docker_image", "NANOGRID_DOCKER_IMAGE", str),
    ("process_start", "NANOGRID_PROCESS_START", str),
    ("worker_id", "NANOGRID_WORKER_ID", str),
    ("visibility_timeout", "NANOGRID_VISIBILITY_TIMEOUT", int),
    ("result_ttl", "NANOGRID_RESULT_TTL", int),
    ("heartbeat_seconds", "NANOGRID_HEARTBEAT_SECONDS", float),
]

_LIMIT_ENV = [
    ("max_zip_bytes", "NANOGRID_MAX_ZIP_BYTES"),
    ("max_unzipped_bytes", "NANOGRID_MAX_UNZIPPED_BYTES"),
    ("max_entries", "NANOGRID_MAX_ENTRIES"),
    ("max_ratio", "NANOGRID_MAX_RATIO"),
]
