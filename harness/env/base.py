"""What the harness needs from an environment backend: Redis and AWS endpoints it can break.

A backend owns the services it starts and stops them on every exit path; ``__enter__``
cleans up when ``start`` fails half-way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from harness.env.emulator import Emulator


@dataclass(frozen=True)
class Endpoints:
    """Where the platform finds its dependencies. ``aws_endpoint_url`` None means real AWS."""

    redis_url: str
    aws_endpoint_url: str | None
    region: str


@runtime_checkable
class Backend(Protocol):
    """An environment: Redis plus S3 / SQS / DynamoDB / CloudWatch (or emulations of them)."""

    name: str

    def start(self, run_dir: Path) -> Endpoints:
        """Start every service, logs under ``run_dir``; stop what started if one fails."""
        ...

    @property
    def endpoints(self) -> Endpoints:
        """The endpoints of the running services (RuntimeError before ``start``)."""
        ...

    def stop(self) -> None:
        """Stop every service; idempotent."""
        ...

    def restart_redis(self) -> None:
        """Stop Redis and start it again on the same port, with its data lost."""
        ...

    def reset_aws(self) -> None:
        """Drop every bucket, table and queue."""
        ...

    def emulator(self) -> Emulator:
        """Which AWS emulator (or real AWS) serves the platform, its version and image."""
        ...

    def __enter__(self) -> Backend: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
