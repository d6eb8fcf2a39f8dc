"""The running platform: an environment backend, its resources, a controller and workers.

Each component is a separate OS process started through :class:`ManagedProcess`, configured
only through the environment variables it documents (the harness never reaches into a
production process any other way). Per-component overrides let a scenario point the
controller and the workers at different Redis / AWS addresses (fault proxies) or switch on
behaviour knobs.

::

    with Stack.embedded(run_dir, StackConfig(workers=2)) as stack:
        httpx.post(f"{stack.controller_url}/run", json={...})
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
import redis

from harness.components import command_argv, command_env, reachable
from harness.env.base import Backend, Endpoints
from harness.env.embedded import EmbeddedBackend
from harness.procs import ManagedProcess, free_port
from harness.provision import Provisioned, provision
from nanogrid.controller.health import live_workers
from nanogrid.settings import Settings

#: What boto3 reads for credentials: passed on to the components when they use real AWS.
AWS_CREDENTIAL_VARIABLES = frozenset(
    {
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
    }
)


@dataclass
class StackConfig:
    """How to run the platform. Overrides hold environment variables for one component."""

    workers: int = 1
    port: int | None = None
    run_deadline: float = 25.0
    visibility_timeout: int = 30
    max_receive_count: int = 5
    poll_wait: int = 20
    controller_env: dict[str, str] = field(default_factory=dict)
    worker_env: dict[str, str] = field(default_factory=dict)
    min_workers: int | None = None  # workers /health requires; default: min(workers, 1)
    ready_timeout: float = 30.0
    runtime: str = "process"  # the workers' NANOGRID_RUNTIME: process | docker
    #: Components under test: a command replacing the reference controller / worker, run
    #: under the environment contract of :mod:`harness.components` (None: the reference).
    controller_command: str | None = None
    worker_command: str | None = None


class Stack:
    """Controller + workers on top of a started backend; see the module docstring."""

    def __init__(self, backend: Backend, run_dir: Path, config: StackConfig) -> None:
        self.backend = backend
        self.run_dir = run_dir
        self.config = config
        self.telemetry_dir = run_dir / "telemetry"
        self.controller: ManagedProcess | None = None
        self.workers: list[ManagedProcess] = []
        self.provisioned: Provisioned | None = None
        self.port = config.port or free_port()
        self._worker_seq = 0
        self.controller_extra: dict[str, str] = {}
        #: The command the running controller was started with (None: the reference one).
        self.controller_command: str | None = None
        self.worker_extra: dict[str, str] = {}
        self.history: list[ManagedProcess] = []  # every component started, in order

    @classmethod
    @contextlib.contextmanager
    def embedded(cls, run_dir: Path, config: StackConfig | None = None) -> Iterator[Stack]:
        """Start the embedded backend and the platform on it; stop everything on exit."""
        run_dir.mkdir(parents=True, exist_ok=True)
        with EmbeddedBackend(run_dir) as backend:
            with cls(backend, run_dir, config or StackConfig()) as stack:
                yield stack

    @property
    def endpoints(self) -> Endpoints:
        return self.backend.endpoints

    @property
    def settings(self) -> Settings:
        """The platform's settings, as the components see them (without overrides)."""
        ep = self.endpoints
        return Settings(
            aws_endpoint_url=ep.aws_endpoint_url,
            region=ep.region,
            redis_url=ep.redis_url,
            queue_url=self.provisioned.queue_url if self.provisioned else None,
            run_deadline=self.config.run_deadline,
            visibility_timeout=self.config.visibility_timeout,
        )

    @property
    def controller_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Stack:
        self.telemetry_dir.mkdir(parents=True, exist_ok=True)
        self.provisioned = provision(self.endpoints, self.settings, self.config.max_receive_count)
        for _ in range(self.config.workers):
            self.start_worker()
        self.start_controller()
        self.wait_healthy()
        return self

    def base_env(self) -> dict[str, str]:
        """The environment every component gets: settings, telemetry, emulator credentials."""
        s = self.settings
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NANOGRID_", "REDIS_"))
        }
        if s.aws_endpoint_url is None:  # real AWS: the user's own credentials
            env.update({k: v for k, v in os.environ.items() if k in AWS_CREDENTIAL_VARIABLES})
        env.update(
            {
                "AWS_REGION": s.region,
                "REDIS_URL": s.redis_url,
                "NANOGRID_BUCKET": s.bucket,
                "NANOGRID_TABLE": s.table,
                "NANOGRID_QUEUE_URL": s.queue_url or "",
                "NANOGRID_RUN_DEADLINE": str(s.run_deadline),
                "NANOGRID_VISIBILITY_TIMEOUT": str(s.visibility_timeout),
                "NANOGRID_TELEMETRY_DIR": str(self.telemetry_dir),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if s.aws_endpoint_url:
            env.update(
                {
                    "AWS_ENDPOINT_URL": s.aws_endpoint_url,
                    "AWS_ACCESS_KEY_ID": "test",
                    "AWS_SECRET_ACCESS_KEY": "test",
                }
            )
        return env

    def start_controller(
        self, extra_env: Mapping[str, str] | None = None, command: str | None = None
    ) -> ManagedProcess:
        """Start the controller: ``command`` (a component under test), else the config's
        ``controller_command``, else the reference controller."""
        self.controller_extra = dict(extra_env or {})
        self.controller_command = command or self.config.controller_command
        env = {**self.base_env(), **self.config.controller_env, **self.controller_extra}
        min_workers = self.config.min_workers
        if min_workers is None:
            min_workers = min(self.config.workers, 1)
        argv = [
            sys.executable,
            "-m",
            "nanogrid.controller.main",
            "--port",
            str(self.port),
            "--min-workers",
            str(min_workers),
        ]
        if self.controller_command:
            argv = command_argv(self.controller_command)
            env = command_env(env, self.settings.queue, port=self.port)
        self.controller = ManagedProcess(
            "controller", argv, log_path=self.run_dir / "controller.log", env=env
        )
        self.controller.start()
        self.history.append(self.controller)
        return self.controller

    def start_worker(self, extra_env: Mapping[str, str] | None = None) -> ManagedProcess:
        self._worker_seq += 1
        name = f"worker-{self._worker_seq}"
        self.worker_extra = dict(extra_env or {})
        env = {
            **self.base_env(),
            **self.config.worker_env,
            **(extra_env or {}),
            "NANOGRID_RUNTIME": self.config.runtime,
            "NANOGRID_WORKER_ID": name,
            "NANOGRID_WORK_DIR": str(self.run_dir / "work" / name),
        }
        argv = [
            sys.executable,
            "-m",
            "nanogrid.worker.main",
            "--poll-wait",
            str(self.config.poll_wait),
        ]
        if self.config.worker_command:
            argv = command_argv(self.config.worker_command)
            env = command_env(env, self.settings.queue)
        proc = ManagedProcess(name, argv, log_path=self.run_dir / f"{name}.log", env=env)
        proc.start()
        self.workers.append(proc)
        self.history.append(proc)
        return proc

    def lifetimes(self, start_ns: int, end_ns: int) -> list[dict[str, object]]:
        """The supervisor's records of the components alive at some point in the window."""
        return [
            p.lifetime()
            for p in self.history
            if p.started_ns <= end_ns and (not p.ended_ns or p.ended_ns >= start_ns)
        ]

    def wait_healthy(self, timeout: float | None = None, require_workers: bool = False) -> None:
        """Poll ``/health`` until 200 (and, if asked, a heartbeat from each running worker).

        On failure the controller's log is attached to the error.
        """
        assert self.controller is not None
        timeout = timeout or self.config.ready_timeout
        if self.controller_command:  # a component under test: the contract's check
            wanted = {w.name for w in self.workers} if require_workers else set()

            def ready() -> bool:
                return reachable(self.port) and wanted <= self._heartbeats(wanted)

            self.controller.wait_ready(ready, timeout, interval=0.05, transient=(OSError,))
            return

        def healthy() -> bool:
            resp = httpx.get(f"{self.controller_url}/health", timeout=2)
            ids = set(resp.json().get("checks", {}).get("workers", {}).get("ids", []))
            wanted = {w.name for w in self.workers} if require_workers else set()
            return resp.status_code == 200 and wanted <= ids

        self.controller.wait_ready(healthy, timeout, interval=0.05, transient=(httpx.HTTPError,))

    def _heartbeats(self, wanted: set[str]) -> set[str]:
        """The workers with a live heartbeat in Redis (read directly, not through a proxy)."""
        if not wanted or self.config.worker_command:  # a worker under test need not beat
            return wanted
        client = redis.Redis.from_url(
            self.endpoints.redis_url, socket_timeout=2, decode_responses=True
        )
        try:
            return {str(w.get("workerId")) for w in live_workers(client)}
        finally:
            client.close()

    def ensure(
        self,
        controller_env: Mapping[str, str],
        worker_env: Mapping[str, str],
        workers: int,
        require_workers: bool = True,
        controller_command: str | None = None,
    ) -> None:
        """Restart what differs: the controller when its extra environment or its command
        (``controller_command``, else the config's) changed; the workers when theirs changed,
        their count differs or one of them died. With ``require_workers`` False the workers
        need not be polling yet (a slow start)."""
        command = controller_command or self.config.controller_command
        if (
            self.controller is None
            or not self.controller.alive
            or controller_env != self.controller_extra
            or command != self.controller_command
        ):
            if self.controller is not None:
                self.controller.stop()
            self.start_controller(controller_env, command)
        if self.workers_differ(worker_env, workers):
            for worker in self.workers:
                worker.stop()
            self.workers = []
            for _ in range(workers):
                self.start_worker(worker_env)
            self.worker_extra = dict(worker_env)
        self.wait_healthy(require_workers=require_workers)

    def workers_differ(self, worker_env: Mapping[str, str], workers: int) -> bool:
        """Whether :meth:`ensure` would replace the workers: their environment or their
        count differs, or one of them died."""
        alive = [w for w in self.workers if w.alive]
        return (
            worker_env != self.worker_extra
            or len(alive) != workers
            or len(alive) != len(self.workers)
        )

    def exports(self) -> dict[str, str]:
        """The shell-sourceable ``KEY=value`` lines ``nanogrid-harness up`` prints."""
        s = self.settings
        return {
            "CONTROLLER_URL": self.controller_url,
            "AWS_ENDPOINT_URL": s.aws_endpoint_url or "",
            "AWS_REGION": s.region,
            "AWS_DEFAULT_REGION": s.region,  # the AWS CLI's name for it
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "REDIS_URL": s.redis_url,
            "NANOGRID_BUCKET": s.bucket,
            "NANOGRID_TABLE": s.table,
            "NANOGRID_QUEUE_URL": s.queue_url or "",
            "NANOGRID_DLQ_URL": self.provisioned.dlq_url if self.provisioned else "",
            "NANOGRID_TELEMETRY_DIR": str(self.telemetry_dir),
            "NANOGRID_RUN_DIR": str(self.run_dir),
        }

    def stop(self) -> None:
        for proc in [self.controller, *self.workers]:
            if proc is not None:
                proc.stop()

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate()`` until it is truthy or ``timeout`` passes; returns whether it was."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True
