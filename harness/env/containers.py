"""The containers backend: Redis and an AWS emulator in Docker, started by testcontainers.

Defaults are the images users pull (``redis:7``, ``localstack/localstack:4.9.2``); both
are configurable, and where no registry is reachable ``scripts/build-images.sh`` builds
local stand-ins: ``nanogrid/redis:local``, ``nanogrid/localstack:local`` (LocalStack from
``localstack-core``, preferred for a LocalStack image that cannot be pulled) and
``nanogrid/moto:local`` (moto's server; the fallback when the LocalStack one is absent).
A LocalStack is ready when ``/_localstack/health`` shows every service the platform uses
``available`` or ``running``; it is told its published port (``LOCALSTACK_HOST``) so that
the queue URLs it returns name it. Ports are published on 127.0.0.1 only, on host ports
chosen up front, so that Redis restarts on the same port. Every container carries
``nanogrid.harness=1`` and ``nanogrid.session=<id>`` and is removed (with its anonymous
volumes) on :meth:`stop`; its log is saved first as ``redis.log`` / ``aws.log`` in the run
directory. testcontainers' reaper (Ryuk) is switched off: its image would have to be
pulled, and the backend removes its own containers.

::

    with ContainersBackend.from_env(os.environ) as backend:
        redis.Redis.from_url(backend.endpoints.redis_url).ping()
"""

from __future__ import annotations

import logging
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

import boto3
import docker
from docker.errors import DockerException
from testcontainers.community.redis import RedisContainer
from testcontainers.core.config import ConnectionMode, testcontainers_config
from testcontainers.core.container import DockerContainer

from harness.env.base import Endpoints
from harness.env.emulator import DYNAMODB_DEVIATION, Emulator, EmulatorKind, get_json
from harness.env.localstack import HEALTH_PATH, unready
from harness.procs import StartupError, free_port
from harness.provision import client_kwargs
from nanogrid import defaults
from nanogrid.runtime.images import ImageUnavailable, available_image, present

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_REDIS_IMAGE = "redis:7"
DEFAULT_AWS_IMAGE = "localstack/localstack:4.9.2"
#: The local stand-ins of a LocalStack image, in order of preference (scripts/build-images.sh).
LOCAL_LOCALSTACK_IMAGE = "nanogrid/localstack:local"
LOCAL_MOTO_IMAGE = "nanogrid/moto:local"
#: Labels scripts/build-images.sh puts on its emulator images.
LABEL_EMULATOR = "nanogrid.emulator"
LABEL_EMULATOR_VERSION = "nanogrid.emulator.version"
LABEL_EMULATOR_DYNAMODB = "nanogrid.emulator.dynamodb"
LABEL_HARNESS = "nanogrid.harness"
LABEL_SESSION = "nanogrid.session"
STARTUP_TIMEOUT = 90.0
_REDIS_PORT = 6379
_AWS_PORT = 4566
_MOTO_COMMAND = ["/opt/moto/bin/moto_server", "--host", "0.0.0.0", "--port", str(_AWS_PORT)]
_PROBE_TIMEOUT = 1.0
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
C = TypeVar("C", bound=DockerContainer)


class DockerUnavailable(RuntimeError):
    """No Docker engine answers: the containers backend cannot start anything."""


class ContainersBackend:
    """Redis + an AWS emulator as containers; see the module docstring."""

    name = "containers"

    def __init__(
        self,
        run_dir: Path | None = None,
        *,
        redis_image: str = DEFAULT_REDIS_IMAGE,
        aws_image: str = DEFAULT_AWS_IMAGE,
        auth_token: str | None = None,
        region: str = defaults.REGION,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        self.run_dir = run_dir
        self.redis_image = redis_image
        self.aws_image = aws_image
        self.auth_token = auth_token
        self.region = region
        self.startup_timeout = startup_timeout
        self.session = uuid.uuid4().hex[:12]
        self._redis: RedisContainer | None = None
        self._aws: DockerContainer | None = None
        self._endpoints: Endpoints | None = None
        self.image_labels: dict[str, str] = {}  # the AWS image's, once resolved
        self.startup_seconds: float | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], run_dir: Path | None = None) -> ContainersBackend:
        """``NANOGRID_REDIS_IMAGE``, ``NANOGRID_AWS_IMAGE``, ``LOCALSTACK_AUTH_TOKEN``."""
        return cls(
            run_dir,
            redis_image=env.get("NANOGRID_REDIS_IMAGE") or DEFAULT_REDIS_IMAGE,
            aws_image=env.get("NANOGRID_AWS_IMAGE") or DEFAULT_AWS_IMAGE,
            auth_token=env.get("LOCALSTACK_AUTH_TOKEN") or None,
        )

    @property
    def labels(self) -> dict[str, str]:
        return {LABEL_HARNESS: "1", LABEL_SESSION: self.session}

    @property
    def is_moto(self) -> bool:
        """Whether the AWS image runs moto's server, not LocalStack (reset and readiness differ)."""
        if LABEL_EMULATOR in self.image_labels:
            return self.image_labels[LABEL_EMULATOR] == EmulatorKind.moto
        return "moto" in self.aws_image

    def start(self, run_dir: Path) -> Endpoints:
        """Start the AWS emulator and Redis, then wait for both; remove both if one fails."""
        began = time.monotonic()
        run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir = run_dir
        _configure_testcontainers()
        try:
            self._resolve_images()
            self._aws = self._aws_container(free_port()).start()
            self._redis = self._redis_container(free_port()).start()
            aws_url = f"http://{HOST}:{_host_port(self._aws, _AWS_PORT)}"
            transient = (OSError, ValueError)  # refused, reset, or not JSON yet
            _poll(lambda: self._aws_answers(aws_url), self.startup_timeout, self._aws, transient)
        except DockerException as exc:
            self.stop()
            hint = "is a Docker engine running? (or use --backend embedded)"
            raise DockerUnavailable(f"containers backend: {exc}; {hint}") from exc
        except BaseException:
            self.stop()
            raise
        self._endpoints = Endpoints(self._redis_url(), aws_url, self.region)
        self.startup_seconds = time.monotonic() - began
        logger.info("containers backend ready in %.2fs: %s", self.startup_seconds, self._endpoints)
        return self._endpoints

    @property
    def endpoints(self) -> Endpoints:
        """The running services' endpoints."""
        if self._endpoints is None:
            raise RuntimeError("containers backend not started")
        return self._endpoints

    def stop(self) -> None:
        """Save each container's log, then remove it with its volumes; idempotent."""
        for container, log_name in ((self._redis, "redis.log"), (self._aws, "aws.log")):
            if container is not None:
                self._discard(container, log_name)
        self._redis = self._aws = None
        self._endpoints = None

    def restart_redis(self) -> None:
        """Remove the Redis container and start a fresh one on the same host port."""
        if self._redis is None or self._endpoints is None:
            raise RuntimeError("containers backend not started")
        port = _host_port(self._redis, _REDIS_PORT)
        self._discard(self._redis, "redis.log")
        self._redis = None
        self._redis = self._redis_container(port).start()

    def reset_aws(self) -> None:
        """Drop every bucket, table and queue (moto: ``POST /moto-api/reset``)."""
        if self.is_moto:
            url = f"{self.endpoints.aws_endpoint_url}/moto-api/reset"
            with _DIRECT.open(urllib.request.Request(url, method="POST"), timeout=10) as resp:
                resp.read()
            return
        _delete_aws_resources(client_kwargs(self.endpoints))

    def emulator(self) -> Emulator:
        """The AWS image and what it runs: LocalStack's version as it reports it (else the
        image's label), moto's from the label; the deviations the image's labels declare."""
        labels = self.image_labels
        version = labels.get(LABEL_EMULATOR_VERSION)
        if self.is_moto:
            return Emulator(EmulatorKind.moto, version, self.aws_image)
        if self._endpoints is not None and self._endpoints.aws_endpoint_url is not None:
            version = _reported_version(self._endpoints.aws_endpoint_url) or version
        deviations: tuple[str, ...] = ()
        if dynamodb := labels.get(LABEL_EMULATOR_DYNAMODB):
            deviations = (DYNAMODB_DEVIATION.format(backend=dynamodb),)
        return Emulator(EmulatorKind.localstack, version, self.aws_image, deviations)

    def __enter__(self) -> ContainersBackend:
        run_dir = self.run_dir or Path(tempfile.mkdtemp(prefix="nanogrid-containers-"))
        self.start(run_dir)  # cleans up itself when it fails
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _resolve_images(self) -> None:
        """The images asked for, or their local stand-ins where no registry is reachable."""
        client = docker.from_env()
        try:
            self.redis_image = available_image(client, self.redis_image)
            self.aws_image = _aws_image(client, self.aws_image)
            self.image_labels = dict(client.images.get(self.aws_image).labels or {})
        finally:
            client.close()

    def _redis_container(self, host_port: int) -> RedisContainer:
        container = RedisContainer(self.redis_image, labels=self.labels)
        return _publish(container, _REDIS_PORT, host_port)

    def _aws_container(self, host_port: int) -> DockerContainer:
        container = DockerContainer(self.aws_image, labels=self.labels)
        if self.is_moto:
            container.with_command(_MOTO_COMMAND)
            return _publish(container, _AWS_PORT, host_port)
        # LocalStack's own default host name, with the port it is reached on from here.
        container.with_env("LOCALSTACK_HOST", f"localhost.localstack.cloud:{host_port}")
        if self.auth_token:
            container.with_env("LOCALSTACK_AUTH_TOKEN", self.auth_token)
        return _publish(container, _AWS_PORT, host_port)

    def _redis_url(self) -> str:
        assert self._redis is not None
        return f"redis://{HOST}:{_host_port(self._redis, _REDIS_PORT)}/0"

    def _aws_answers(self, url: str) -> bool:
        if not self.is_moto:
            return not unready(get_json(url, HEALTH_PATH, _PROBE_TIMEOUT))
        with _DIRECT.open(f"{url}/moto-api/data.json", timeout=_PROBE_TIMEOUT) as response:
            return int(response.status) == 200

    def _discard(self, container: DockerContainer, log_name: str) -> None:
        if self.run_dir is not None:
            _save_log(container, self.run_dir / log_name)
        try:
            container.stop(force=True, delete_volume=True)
        except DockerException as exc:
            logger.warning("cannot remove container %s: %s", container.image, exc)


def _aws_image(client: Any, image: str) -> str:
    """``image`` if present or pullable; for a LocalStack image that is neither, its first
    present stand-in (LocalStack's, then moto's) with a warning."""
    if not image.startswith("localstack/") or present(client, image):
        return available_image(client, image)
    try:
        client.images.pull(image)
        return image
    except DockerException as exc:
        reason = str(exc).splitlines()[0][:200]
    for local in (LOCAL_LOCALSTACK_IMAGE, LOCAL_MOTO_IMAGE):
        if present(client, local):
            logger.warning("cannot pull %s (%s); using the local stand-in %s", image, reason, local)
            return local
    raise ImageUnavailable(
        f"image {image} is absent and cannot be pulled ({reason}) or build "
        f"{LOCAL_LOCALSTACK_IMAGE} with scripts/build-images.sh"
    )


def _reported_version(url: str) -> str | None:
    try:
        version = get_json(url, HEALTH_PATH, _PROBE_TIMEOUT).get("version")
    except (OSError, ValueError):
        return None
    return str(version) if version else None


def _configure_testcontainers() -> None:
    """No reaper (its image would be pulled; we remove our own containers), and reach the
    ports on the engine's host: testcontainers guesses a gateway IP when it runs inside a
    container, where nothing listens (ports are published on 127.0.0.1 only)."""
    testcontainers_config.ryuk_disabled = True
    testcontainers_config.connection_mode_override = ConnectionMode.docker_host


def _publish(container: C, port: int, host_port: int) -> C:
    """Publish ``port`` on 127.0.0.1:``host_port`` only (testcontainers binds 0.0.0.0)."""
    # The SDK's port map accepts (host_ip, host_port); testcontainers' annotation is narrower.
    ports = cast(dict[str, Any], container.ports)
    ports[f"{port}/tcp"] = (HOST, host_port)
    return container


def _host_port(container: DockerContainer, port: int) -> int:
    return int(container.get_exposed_port(port))


def _save_log(container: DockerContainer, path: Path) -> None:
    try:
        stdout, stderr = container.get_logs()
    except (DockerException, RuntimeError):
        return  # never started: no log
    path.write_bytes(stdout + stderr)


def _poll(
    check: Callable[[], bool],
    timeout: float,
    container: DockerContainer,
    transient: type[Exception] | tuple[type[Exception], ...],
) -> None:
    """Poll ``check`` until true; on timeout, raise with the container's log attached."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except transient:
            pass
        time.sleep(0.1)
    stdout, stderr = container.get_logs()
    log = (stdout + stderr).decode(errors="replace")[-4000:]
    raise StartupError(container.image, f"not ready within {timeout:.0f}s", log)


def _delete_aws_resources(kwargs: dict[str, Any]) -> None:
    """Delete every bucket (objects first), table and queue of an emulator."""
    s3 = boto3.resource("s3", **kwargs)
    for bucket in s3.buckets.all():
        bucket.object_versions.delete()
        bucket.objects.delete()
        bucket.delete()
    dynamodb = boto3.client("dynamodb", **kwargs)
    for table in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=table)
    sqs = boto3.client("sqs", **kwargs)
    for queue_url in sqs.list_queues().get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=queue_url)
