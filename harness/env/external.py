"""Endpoints someone else runs: your own Redis and your own AWS (or LocalStack).

``nanogrid-harness up --backend external --redis-url ... [--aws-endpoint-url ...]`` runs the
controller and workers against them; ``replay --backend external`` runs the catalogue there
too (through the fault proxies, so the AWS endpoint must be plain ``http://host:port``, an
emulator: a proxy in front of real AWS would break TLS). The harness starts and stops
nothing on these endpoints; it only provisions the bucket, table and queues idempotently.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import redis

from harness.env.base import Endpoints
from harness.env.emulator import Emulator, probe
from nanogrid.results import REDIS_ERRORS, describe_redis_error


class ExternalUnavailable(RuntimeError):
    """An external endpoint does not answer; the message names it and the error."""


class ExternalBackend:
    """A :class:`~harness.env.base.Backend` over endpoints the harness does not own."""

    name = "external"

    def __init__(self, endpoints: Endpoints, connect_timeout: float = 5.0) -> None:
        self._endpoints = endpoints
        self.connect_timeout = connect_timeout

    def start(self, run_dir: Path) -> Endpoints:
        """Check that Redis answers a PING; nothing is started."""
        client = redis.Redis.from_url(
            self._endpoints.redis_url,
            socket_connect_timeout=self.connect_timeout,
            socket_timeout=self.connect_timeout,
        )
        try:
            client.ping()
        except REDIS_ERRORS as exc:
            raise ExternalUnavailable(
                f"Redis at {self._endpoints.redis_url} does not answer: {describe_redis_error(exc)}"
            ) from exc
        finally:
            client.close()
        return self._endpoints

    @property
    def endpoints(self) -> Endpoints:
        return self._endpoints

    def emulator(self) -> Emulator:
        """What answers at the AWS endpoint (LocalStack, moto, unknown), or real AWS."""
        return probe(self._endpoints.aws_endpoint_url)

    def stop(self) -> None:
        """Nothing to stop: these services are not the harness's."""

    def restart_redis(self) -> None:
        raise NotImplementedError(
            "the harness does not restart an external Redis: run this scenario with "
            "--backend embedded or containers"
        )

    def reset_aws(self) -> None:
        raise NotImplementedError("the harness does not reset external AWS resources")

    def __enter__(self) -> ExternalBackend:
        self.start(Path("."))
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
