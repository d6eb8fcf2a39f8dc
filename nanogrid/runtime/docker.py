"""Run a function in a Docker container: ``python3 main.py`` with the code at ``/code``.

The same contract and result semantics as :mod:`nanogrid.runtime.process`; the container
gives the isolation a process cannot:

- network: ``network_mode="none"`` (only a loopback of its own).
- memory: ``mem_limit`` = ``memoryMB`` with no swap; the kernel's OOM killer ends the
  function, Docker records ``State.OOMKilled`` and the run is ``out_of_memory``.
- processes: ``pids_limit``; Docker's init (tini) is PID 1, so the function dies of its own
  signals and its exit is reported as a shell does (``128 + signal``). When ``main.py`` exits,
  the container stops and every process left in it dies.
- files: the code directory bind-mounted read-only at ``/code`` (the working directory and
  ``HOME``), ``inputData`` as a read-only file redirected to stdin, a read-only root file
  system, a small ``/tmp`` tmpfs, all capabilities dropped, user ``nobody``.
- environment: ``env -i`` gives exactly what the process runtime passes (``PATH``,
  ``HOME``, ``LANG``, ``PYTHONUNBUFFERED``, ``PYTHONDONTWRITEBYTECODE``) plus ``env``; nothing
  of the worker's or of the image's.
- time: after ``timeout_seconds`` the container is killed; it is removed after every run.
- peak memory: the container's cgroup accounting, read from a per-run parent cgroup
  (:mod:`nanogrid.runtime.cgroup`).

Containers carry the labels ``nanogrid.runtime=1`` and ``nanogrid.worker=<id>``; the
runtime removes its worker's leftovers when constructed (a crashed worker's, at its restart)
and when closed. The code and input paths are host paths: a worker that talks to the host's
engine from inside a container needs its work directory at the same path on both sides.

Usage::

    with DockerRuntime("python:3.11-slim", worker_id="w1") as runtime:
        execution = runtime.run(code_dir, {"x": 1}, ExecutionLimits(256, 10.0))
"""

from __future__ import annotations

import json
import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import docker
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container
from docker.utils.socket import STDERR, STDOUT, frames_iter

from nanogrid.runtime.base import Execution, ExecutionLimits, RuntimeUnavailable
from nanogrid.runtime.cgroup import CGROUP_ROOT, RunCgroup, parent_prefix, remove_cgroups
from nanogrid.runtime.images import available_image

logger = logging.getLogger(__name__)

DEFAULT_IMAGE = "python:3.11-slim"
LABEL_RUNTIME = "nanogrid.runtime"
LABEL_WORKER = "nanogrid.worker"
_MIB = 1024 * 1024
_PATH = "/usr/local/bin:/usr/bin:/bin"
_INPUT = "/nanogrid/input.json"
# env -i: the image's ENV and Docker's HOSTNAME do not reach the function.
_SCRIPT = f'exec env -i "$@" python3 main.py < {_INPUT}'
_OOM_PEAK_FRACTION = 0.8
_MAX_SIGNAL = 64


class DockerRuntime:
    """A :class:`~nanogrid.runtime.base.Runtime` running each function in a container.

    Raises :class:`RuntimeUnavailable` when no engine answers or the image is missing and
    cannot be pulled.
    """

    name: str = "docker"
    network_isolated: bool = True
    processes_isolated: bool = True
    start: str = "container"
    filesystem_isolated: bool = True

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        *,
        worker_id: str = "local",
        pids_limit: int = 128,
        cgroup_root: Path = CGROUP_ROOT,
    ) -> None:
        self.image = image
        self.worker_id = worker_id
        self.pids_limit = pids_limit
        self.cgroup_root = cgroup_root
        self._closes = 0  # runs that overlap a close() are abandoned, not reported
        try:
            self.client = docker.from_env()
            self.client.ping()
        except DockerException as exc:
            raise RuntimeUnavailable(f"no Docker engine answers: {exc}") from exc
        self._ensure_image()
        self.remove_leftovers()

    @property
    def labels(self) -> dict[str, str]:
        """The labels of this worker's containers."""
        return {LABEL_RUNTIME: "1", LABEL_WORKER: self.worker_id}

    def command(self) -> list[str]:
        """The function's command line inside the container."""
        return ["python3", "main.py"]

    def run(
        self,
        code_dir: Path,
        input_data: Any,
        limits: ExecutionLimits,
        env: Mapping[str, str] | None = None,
    ) -> Execution:
        """Run ``main.py`` of ``code_dir`` once in a fresh container, then remove it."""
        code = Path(code_dir).resolve()
        if not (code / ".").is_dir():
            raise RuntimeUnavailable(f"cannot start main.py in {code_dir}: no such directory")
        cgroup = RunCgroup(self.worker_id, self.cgroup_root)
        with tempfile.TemporaryDirectory(prefix="nanogrid-input-") as tmp:
            input_dir = Path(tmp)
            (input_dir / "input.json").write_text(json.dumps(input_data))
            for path in (input_dir, input_dir / "input.json"):
                path.chmod(0o755)  # readable by the container's user
            closes = self._closes
            container = self._create(code, input_dir, limits, env, cgroup.name)
            try:
                execution = _Supervisor(container, limits, self.command()).run(cgroup)
            except APIError as exc:
                raise RuntimeUnavailable(f"container run failed: {exc}") from exc
            finally:
                _remove(container)
                cgroup.remove()
        if closes != self._closes:
            raise RuntimeUnavailable("the runtime was closed while the function ran")
        return execution

    def remove_leftovers(self) -> None:
        """Remove every container of this worker (running or not) and their run cgroups."""
        filters = {"label": [f"{k}={v}" for k, v in self.labels.items()]}
        try:
            # The low-level list: the high-level one inspects each, racing their removal.
            leftovers = self.client.api.containers(all=True, filters=filters, quiet=True)
        except DockerException as exc:
            logger.warning("cannot list leftover containers: %s", exc)
            return
        for leftover in leftovers:
            _remove(self.client.containers.prepare_model({"Id": leftover["Id"]}))
        if leftovers:
            logger.info("removed %d leftover function containers", len(leftovers))
        remove_cgroups(self.cgroup_root, parent_prefix(self.worker_id) + "*")

    def close(self) -> None:
        """Remove this worker's containers: a run in progress raises RuntimeUnavailable."""
        self._closes += 1
        self.remove_leftovers()

    def __enter__(self) -> DockerRuntime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        self.client.close()

    def _ensure_image(self) -> None:
        try:
            self.image = available_image(self.client, self.image)
        except DockerException as exc:
            raise RuntimeUnavailable(str(exc)) from exc

    def _create(
        self,
        code: Path,
        input_dir: Path,
        limits: ExecutionLimits,
        env: Mapping[str, str] | None,
        cgroup_parent: str,
    ) -> Container:
        environment = {
            "PATH": _PATH,
            "HOME": "/code",
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            **(env or {}),
        }
        pairs = [f"{key}={value}" for key, value in environment.items()]
        try:
            return self.client.containers.create(
                self.image,
                ["/bin/sh", "-c", _SCRIPT, "sh", *pairs],
                working_dir="/code",
                volumes={
                    str(code): {"bind": "/code", "mode": "ro"},
                    str(input_dir): {"bind": os.path.dirname(_INPUT), "mode": "ro"},
                },
                network_mode="none",
                mem_limit=limits.memory_mb * _MIB,
                memswap_limit=limits.memory_mb * _MIB,
                pids_limit=self.pids_limit,
                cgroup_parent=cgroup_parent,
                init=True,
                read_only=True,
                tmpfs={"/tmp": "size=16m"},
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                user="65534:65534",
                labels=self.labels,
                stdin_open=False,
            )
        except DockerException as exc:
            raise RuntimeUnavailable(f"cannot create a container from {self.image}: {exc}") from exc


class _Capped:
    """The first ``cap`` bytes of a stream and whether more came."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.truncated = False

    def feed(self, chunk: bytes | None) -> None:
        if not chunk:
            return
        room = self.cap - len(self.data)
        if len(chunk) > room:
            self.truncated = True
        self.data += chunk[: max(room, 0)]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


class _Supervisor:
    """Starts one container, streams its output, kills it at the deadline, reads its end."""

    def __init__(self, container: Container, limits: ExecutionLimits, command: list[str]):
        self.container = container
        self.limits = limits
        self.command = command
        self.stdout = _Capped(limits.max_output_bytes)
        self.stderr = _Capped(limits.max_output_bytes)
        self.killed = threading.Event()

    def run(self, cgroup: RunCgroup) -> Execution:
        # Attached before the start: no output can be written before anyone reads it.
        params = {"stdout": 1, "stderr": 1, "stream": 1}
        sock = self.container.client.api.attach_socket(self.container.id, params=params)
        timer = threading.Timer(self.limits.timeout_seconds, self._kill)
        started = time.monotonic()
        try:
            self.container.start()
            timer.start()
            self._drain(frames_iter(sock, tty=False))
            status = int(self.container.wait(timeout=30)["StatusCode"])
        finally:
            timer.cancel()
            _close_attached(sock)
        duration_ms = round((time.monotonic() - started) * 1000)
        self.container.reload()
        oom_killed = bool(self.container.attrs["State"].get("OOMKilled"))
        return self._execution(status, oom_killed, cgroup.peak_bytes(), duration_ms)

    def _drain(self, frames: Iterable[tuple[int, bytes]]) -> None:
        captures = {STDOUT: self.stdout, STDERR: self.stderr}
        for stream, data in frames:
            if stream in captures:
                captures[stream].feed(data)

    def _kill(self) -> None:
        try:
            self.container.kill()
        except DockerException:
            return  # it exited on its own just now
        self.killed.set()

    def _execution(self, status: int, oom_killed: bool, peak: int, duration_ms: int) -> Execution:
        timed_out = self.killed.is_set()
        sig = status - 128 if 128 < status <= 128 + _MAX_SIGNAL else None
        if timed_out:
            sig = signal.SIGKILL
        near_limit = peak >= _OOM_PEAK_FRACTION * self.limits.memory_mb * _MIB
        oom = oom_killed or (sig == signal.SIGKILL and near_limit)
        return Execution(
            command=self.command,
            exit_code=None if timed_out else status,
            signal=sig,
            stdout=self.stdout.text(),
            stderr=self.stderr.text(),
            stdout_truncated=self.stdout.truncated,
            stderr_truncated=self.stderr.truncated,
            duration_ms=duration_ms,
            peak_memory_bytes=peak,
            timed_out=timed_out,
            out_of_memory=not timed_out and (oom or _memory_error(status, self.stderr)),
        )


def _memory_error(status: int, stderr: _Capped) -> bool:
    return status != 0 and b"MemoryError" in stderr.data[-512:]


def _close_attached(sock: Any) -> None:
    """Close an attach socket: over a UNIX socket the SDK hands out the response's
    ``SocketIO``, whose close leaves the socket itself open (a ``ResourceWarning`` later)."""
    raw = getattr(sock, "_sock", None)  # SocketIO.close() forgets it
    sock.close()
    if raw is not None:
        raw.close()


def _remove(container: Container) -> None:
    try:
        container.remove(force=True)
    except NotFound:
        pass
    except DockerException as exc:
        logger.warning("cannot remove container %s: %s", container.id, exc)
