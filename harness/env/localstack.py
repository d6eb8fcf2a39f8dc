"""The localstack backend: a LocalStack someone else runs, found the way localstack-client does.

``nanogrid-harness up --backend localstack`` runs the platform on a LocalStack that is already
up (a team's CI service container, a developer's ``localstack start``): its endpoint is
``AWS_ENDPOINT_URL`` if set, else ``http://$LOCALSTACK_HOST`` (``host[:port]``, port 4566 by
default; ``https`` with ``USE_SSL=1``), else ``http://localhost:4566``. The harness checks
``/_localstack/health`` (every service the platform uses ``available`` or ``running``) and
provisions the bucket, table and queues idempotently; it starts, stops and resets nothing
there. Redis is ``--redis-url`` when given, else a Redis of the backend's own (a child
process, as in the embedded backend), which it stops on exit.

::

    with LocalStackBackend.from_env(os.environ, run_dir) as backend:
        boto3.client("s3", endpoint_url=backend.endpoints.aws_endpoint_url)
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.env.base import Endpoints
from harness.env.embedded import port_of, redis_url, start_redis
from harness.env.emulator import Emulator, get_json, probe
from harness.env.external import ExternalBackend
from harness.procs import ManagedProcess, free_port
from nanogrid import defaults

logger = logging.getLogger(__name__)

#: localstack-client's edge port and host when ``LOCALSTACK_HOST`` names neither.
EDGE_PORT = 4566
DEFAULT_HOST = "localhost"
HEALTH_PATH = "/_localstack/health"
#: The services the platform uses, as ``/_localstack/health`` names them.
REQUIRED_SERVICES = ("s3", "sqs", "dynamodb", "cloudwatch")
#: The states in which LocalStack serves a service (``available``: loads at first call).
READY_STATES = frozenset({"available", "running"})
STARTUP_TIMEOUT = 30.0


class LocalStackUnavailable(RuntimeError):
    """No LocalStack answers at the endpoint, or one the platform needs is not served."""


def endpoint_from_env(env: Mapping[str, str], endpoint_url: str | None = None) -> str:
    """The LocalStack endpoint: ``endpoint_url``, else as localstack-client finds it in ``env``.

    >>> endpoint_from_env({"LOCALSTACK_HOST": "ci-localstack"})
    'http://ci-localstack:4566'
    """
    explicit = (endpoint_url or env.get("AWS_ENDPOINT_URL", "")).strip()
    if explicit:
        return explicit.rstrip("/")
    host, port = parse_host(env.get("LOCALSTACK_HOST", ""))
    scheme = "https" if env.get("USE_SSL") in ("1", "true") else "http"
    return f"{scheme}://{host}:{port}"


def parse_host(given: str) -> tuple[str, int]:
    """``host[:port]`` as localstack-client reads ``LOCALSTACK_HOST`` (empty: localhost:4566)."""
    host, sep, port = given.partition(":")
    host = host.strip() or DEFAULT_HOST
    if not sep:
        return host, EDGE_PORT
    try:
        return host, int(port)
    except ValueError:
        raise LocalStackUnavailable(f"LOCALSTACK_HOST={given!r} is not <hostname>:<port>") from None


def unready(health: Mapping[str, Any], services: tuple[str, ...] = REQUIRED_SERVICES) -> list[str]:
    """The ``service=state`` of each of ``services`` LocalStack does not serve (missing: absent)."""
    states = health.get("services", {})
    return [f"{s}={states.get(s, 'absent')}" for s in services if states.get(s) not in READY_STATES]


def wait_healthy(url: str, timeout: float) -> dict[str, Any]:
    """Poll ``/_localstack/health`` until every required service is served; returns the health.

    Raises :class:`LocalStackUnavailable` at the deadline, naming what was missing.
    """
    deadline = time.monotonic() + timeout
    problem = "no answer"
    while True:
        try:
            health = get_json(url, HEALTH_PATH)
            missing = unready(health)
            if not missing:
                return health
            problem = "not served: " + ", ".join(missing)
        except (OSError, ValueError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise LocalStackUnavailable(
                f"no LocalStack ready at {url}{HEALTH_PATH} within {timeout:.0f}s ({problem}); "
                "start one (`localstack start`), or set LOCALSTACK_HOST / AWS_ENDPOINT_URL"
            )
        time.sleep(0.1)


class LocalStackBackend:
    """A :class:`~harness.env.base.Backend` on a running LocalStack; see the module docstring."""

    name = "localstack"

    def __init__(
        self,
        aws_endpoint_url: str,
        run_dir: Path | None = None,
        *,
        redis_url: str | None = None,
        region: str = defaults.REGION,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        self.aws_endpoint_url = aws_endpoint_url
        self.run_dir = run_dir
        self.redis_url = redis_url
        self.region = region
        self.startup_timeout = startup_timeout
        self._redis: ManagedProcess | None = None
        self._endpoints: Endpoints | None = None
        self.health: dict[str, Any] = {}

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        run_dir: Path | None = None,
        *,
        aws_endpoint_url: str | None = None,
        redis_url: str | None = None,
        region: str = defaults.REGION,
    ) -> LocalStackBackend:
        """Arguments first, then ``AWS_ENDPOINT_URL`` / ``LOCALSTACK_HOST`` / ``USE_SSL``."""
        endpoint = endpoint_from_env(env, aws_endpoint_url)
        return cls(endpoint, run_dir, redis_url=redis_url, region=region)

    def start(self, run_dir: Path) -> Endpoints:
        """Check LocalStack's health, then bring up (or check) Redis; LocalStack is not touched."""
        self.run_dir = run_dir
        self.health = wait_healthy(self.aws_endpoint_url, self.startup_timeout)
        if self.redis_url is not None:
            ExternalBackend(Endpoints(self.redis_url, None, self.region)).start(run_dir)
            url = self.redis_url
        else:
            run_dir.mkdir(parents=True, exist_ok=True)
            self._redis = start_redis(run_dir, free_port(), self.startup_timeout)
            url = redis_url(self._redis)
        self._endpoints = Endpoints(url, self.aws_endpoint_url, self.region)
        logger.info("LocalStack %s at %s", self.health.get("version"), self.aws_endpoint_url)
        return self._endpoints

    @property
    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            raise RuntimeError("localstack backend not started")
        return self._endpoints

    def emulator(self) -> Emulator:
        """LocalStack, its version and its providers, as it reports them (no image known)."""
        return probe(self.aws_endpoint_url)

    def stop(self) -> None:
        """Stop the backend's own Redis, if it has one; LocalStack keeps running."""
        if self._redis is not None:
            self._redis.stop()
            self._redis = None
        self._endpoints = None

    def restart_redis(self) -> None:
        """Restart the backend's own Redis on its port (an external one is not restarted)."""
        old, run_dir = self._redis, self.run_dir
        if old is None or run_dir is None:
            raise NotImplementedError(
                "the harness restarts only a Redis of its own: leave out --redis-url"
            )
        old.stop()
        self._redis = None
        self._redis = start_redis(run_dir, port_of(old), self.startup_timeout)

    def reset_aws(self) -> None:
        raise NotImplementedError(
            "the harness does not reset a LocalStack it does not own: "
            "use --backend containers for a LocalStack of its own"
        )

    def __enter__(self) -> LocalStackBackend:
        self.start(self.run_dir or Path(tempfile.mkdtemp(prefix="nanogrid-localstack-")))
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
