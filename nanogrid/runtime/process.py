"""Run a function as a local process: ``python main.py`` in the code directory.

How a run starts (``start``, the worker's ``NANOGRID_PROCESS_START``):

- ``zygote`` (the default): the fork server is a warm interpreter of the function's
  ``interpreter`` (isolated mode, ``site`` and a few standard modules loaded, nothing of the
  platform) that forks a child per run; the child applies the run's isolation, then runs
  ``main.py`` as ``python main.py`` would (:mod:`nanogrid.runtime._function_main`), with
  no interpreter start-up: a run costs a fork and the sandbox, not an exec. The same
  isolation, limits, peak accounting and kill-everything timeout apply.
- ``interpreter``: the child execs a fresh ``interpreter main.py``. Prefer it when a function
  must see a fresh process: its own string-hash seed (the zygote's children share one),
  ``sys.flags`` of a plain start (the zygote runs isolated, ``-I``), an interpreter whose
  start-up ``PYTHON*`` variables matter. Without the filesystem sandbox but with unshare,
  runs always start this way (unshare isolates an exec only); :attr:`ProcessRuntime.start`
  says which applies.

The function reads its ``inputData`` as JSON from stdin and writes its answer to stdout;
``NANOGRID_REQUEST_ID`` / ``NANOGRID_FUNCTION_ID`` are in its environment when the worker
passes them in ``env``. Isolation, as far as an unprivileged Linux process gets:

- files: where the OS allows user and mount namespaces (probed once,
  :attr:`ProcessRuntime.filesystem_isolated`), the function runs in a root of its own
  (:mod:`nanogrid.runtime.sandbox`): the system directories and the interpreter's prefixes
  read-only, its code read-only at its own path (its working directory), a private tmpfs
  behind ``/tmp``, ``/scratch`` (``HOME`` and ``TMPDIR``) and ``/dev/shm`` that is capped at
  ``memory_mb`` and gone with the run, a few devices, ``/proc`` of its own PID namespace
  read-only, no capability left. It can write nothing else: not the code cache, other
  functions' code, the worker's work directory, home or any file of the worker's user.
  Where the OS refuses, the function sees and can write whatever the worker's user can, as
  in any plain process (``HOME`` is then the code directory); the worker warns and
  ``/health`` shows it.
- descriptors: only stdin, stdout and stderr; none of the spawner's (its control socket,
  other runs' sockets) is inherited.
- environment: a clean one (``PATH``, ``HOME``, ``TMPDIR`` when sandboxed, ``LANG``,
  ``PYTHONUNBUFFERED``, ``PYTHONDONTWRITEBYTECODE``) plus ``env``; nothing of the worker's
  own (no ``AWS_*``, ``REDIS_*``, ``NANOGRID_*``).
- network: an empty network namespace (not even loopback up) in a user namespace where the
  worker's user is root: made by the sandbox itself, or without it by ``unshare --user
  --net --map-root-user``, probed once; :attr:`ProcessRuntime.network_isolated` is
  ``False`` where the OS refuses both. The user namespace also keeps the function out of
  the worker's ``/proc/<pid>/environ`` even when both run as the same user. A sandboxed run
  also gets an IPC namespace of its own (no System V shared memory with other runs).
- processes: a PID namespace as well (the sandbox's, or ``--pid --fork --kill-child
  --mount-proc``, where the OS allows: :attr:`ProcessRuntime.processes_isolated`): the
  function is PID 1 there and sees only its own processes in ``/proc``. The process that
  made the namespaces (the spawner's child, or unshare) waits for it, so the spawner reaps
  that one and ``wait4``'s ``ru_maxrss`` (which counts reaped children) is the function's
  peak; it then dies of the signal the function died of. When PID 1 exits, the
  kernel kills every process left in the namespace, daemons that called ``setsid()``
  included. As PID 1, the function ignores signals it sends *itself* without a handler.
- processes: functions are forked by a small fork server (:mod:`nanogrid.runtime.spawner`),
  not by the worker, because the kernel counts the forked copy (before an exec, or all along
  for a zygote's child) in the peak: a function forked from a 200 MiB worker would report at
  least 200 MiB. From the spawner the floor is its ~11 MiB (~13 MiB as a zygote). Functions
  die with the spawner, and it dies with the worker.
- memory: ``RLIMIT_AS`` = ``memory_mb``. It limits address space, not RSS, so a function
  with many threads (each reserves stack and a malloc arena) hits it before its RSS does.
  What a sandboxed function writes to its tmpfs is memory too, outside that limit.
- time: after ``timeout_seconds`` the function gets SIGKILL, then its whole process group;
  the group is also killed when the main process exits, or when the run is abandoned, so no
  child outlives the run. Without a PID namespace a grandchild that calls ``setsid()``
  leaves the group and escapes this.

Out of memory is reported when the function exits non-zero with ``MemoryError`` at the end
of its stderr (what Python does when ``RLIMIT_AS`` refuses an allocation), or dies of
SIGKILL / SIGSEGV / SIGABRT (a native allocation failing, or a host OOM killer) with its
peak RSS at 80% of the limit or more.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from nanogrid.runtime.base import Execution, ExecutionLimits, RuntimeUnavailable
from nanogrid.runtime.sandbox import SCRATCH, Sandbox, probe_sandbox
from nanogrid.runtime.spawner import Child, ExitReport, Spawner

_MIB = 1024 * 1024
#: How a run starts: forked from a warm interpreter, or a fresh interpreter exec'd.
ZYGOTE, INTERPRETER = "zygote", "interpreter"
STARTS = (ZYGOTE, INTERPRETER)
_SCRIPT = "main.py"
_SYSTEM_PATH = "/usr/bin:/bin"
_NETWORK_ARGS = ("--user", "--net", "--map-root-user")
_PROCESS_ARGS = ("--pid", "--fork", "--kill-child", "--mount-proc")
_READ_BYTES = 64 * 1024
#: Bytes of stderr's end kept apart from the capped head, to find a final ``MemoryError``.
_TAIL_BYTES = 512
#: How long pipes are still read after the function exited and its group was killed.
_DRAIN_SECONDS = 2.0
_OOM_SIGNALS = frozenset({signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT})
_OOM_PEAK_FRACTION = 0.8
#: What unshare (util-linux 2.38) writes when it cannot re-raise the SIGKILL of a timeout.
_UNSHARE_KILL_NOISE = "unshare: sigprocmask unblock failed: Invalid argument\n"


@functools.cache
def unshare_prefix() -> tuple[str, ...] | None:
    """The command prefix that isolates a process best here, or ``None``.

    Network, user and PID namespaces where the OS allows them all, else network and user
    namespaces only, else ``None``.
    """
    path = shutil.which("unshare", path=_SYSTEM_PATH)
    if path is None:
        return None
    for prefix in ((path, *_NETWORK_ARGS, *_PROCESS_ARGS), (path, *_NETWORK_ARGS)):
        try:
            probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if probe.returncode == 0:
            return prefix
    return None


class ProcessRuntime:
    """A :class:`~nanogrid.runtime.base.Runtime` running each function as a local process.

    It owns a fork server, started on the first run: :meth:`close` it (or use ``with``).

    Usage::

        with ProcessRuntime() as runtime:
            if not runtime.filesystem_isolated:
                logger.warning("filesystem isolation unavailable")
            execution = runtime.run(code_dir, {"x": 1}, ExecutionLimits(256, 10.0))

    ``isolate_network=False`` runs functions in no namespace at all, ``isolate_filesystem=False``
    without the filesystem sandbox; both exist to show what the isolation prevents. ``shared``
    folders are bound read-write into every sandbox, at their own paths: a hole for tests
    that need a ledger written by the functions themselves, never for production.
    """

    name: str = "process"

    def __init__(
        self,
        interpreter: str | None = None,
        *,
        isolate_network: bool = True,
        isolate_filesystem: bool = True,
        shared: Sequence[Path] = (),
        start: str = ZYGOTE,
    ) -> None:
        if start not in STARTS:
            raise ValueError(f"unknown start {start!r}: one of {', '.join(STARTS)}")
        self.interpreter = interpreter or sys.executable
        if not self.interpreter or not os.path.isabs(self.interpreter):
            raise RuntimeUnavailable(f"no absolute interpreter path: {self.interpreter!r}")
        if not os.access(self.interpreter, os.X_OK):
            raise RuntimeUnavailable(f"interpreter is not executable: {self.interpreter}")
        self._sandbox: Sandbox | None = None
        if isolate_network and isolate_filesystem:
            self._sandbox = probe_sandbox(self.interpreter)
        if self._sandbox is not None and shared:
            writable = tuple(os.path.abspath(p) for p in shared)
            self._sandbox = dataclasses.replace(self._sandbox, writable=writable)
        # The sandbox makes its namespaces itself; without it, unshare does, if it can.
        self._prefix = unshare_prefix() if isolate_network and self._sandbox is None else None
        self.filesystem_isolated = self._sandbox is not None
        self.network_isolated = self.filesystem_isolated or self._prefix is not None
        self.processes_isolated = self.filesystem_isolated or "--pid" in (self._prefix or ())
        # unshare isolates an exec'd interpreter only: without the sandbox, the zygote would
        # give up the namespaces unshare makes.
        self.start = INTERPRETER if self._prefix is not None else start
        self.spawner = Spawner(self.interpreter, zygote=self.start == ZYGOTE)

    def command(self) -> list[str]:
        """The command line a run executes (the unshare prefix, if any, included)."""
        return [*(self._prefix or ()), self.interpreter, _SCRIPT]

    def run(
        self,
        code_dir: Path,
        input_data: Any,
        limits: ExecutionLimits,
        env: Mapping[str, str] | None = None,
    ) -> Execution:
        """Run ``main.py`` in ``code_dir`` once; ``input_data`` must be JSON-serialisable."""
        command = self.command()
        with tempfile.TemporaryFile() as stdin, _Pipe() as stdout, _Pipe() as stderr:
            stdin.write(json.dumps(input_data).encode())
            stdin.seek(0)
            started = time.monotonic()
            fds = (stdin.fileno(), stdout.write_end(), stderr.write_end())
            # Leaving this block closes the run socket: the spawner kills what still runs.
            with self._spawn(command, code_dir, fds, limits, env) as child:
                supervisor = _Supervisor(child, stdout.read_fd, stderr.read_fd, limits)
                supervisor.run(started + limits.timeout_seconds)
        duration_ms = round((time.monotonic() - started) * 1000)
        return supervisor.execution(command, duration_ms)

    def close(self) -> None:
        """Stop the fork server and any function still running; a later run restarts it."""
        self.spawner.close()

    def __enter__(self) -> ProcessRuntime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _spawn(
        self,
        command: list[str],
        code_dir: Path,
        fds: tuple[int, int, int],
        limits: ExecutionLimits,
        env: Mapping[str, str] | None,
    ) -> Child:
        home = SCRATCH if self._sandbox is not None else os.path.abspath(code_dir)
        base = {
            "PATH": _SYSTEM_PATH,
            "HOME": home,
            **({"TMPDIR": SCRATCH} if self._sandbox is not None else {}),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        memory = limits.memory_mb * _MIB
        sandbox = None if self._sandbox is None else self._sandbox.spec(memory)
        try:
            script = _SCRIPT if self.start == ZYGOTE else None
            return self.spawner.spawn(
                command, code_dir, {**base, **(env or {})}, fds, memory, sandbox, script
            )
        except RuntimeUnavailable as exc:
            raise RuntimeUnavailable(f"cannot start {command[-2]} in {code_dir}: {exc}") from exc
        finally:
            for fd in fds[1:]:  # the spawner holds its copies of the pipes' write ends now
                os.close(fd)


class _Pipe:
    """A pipe whose write end goes to the child; both ends are closed on exit."""

    def __init__(self) -> None:
        self.read_fd, self._write_fd = os.pipe()

    def write_end(self) -> int:
        """Hand the write end over: the caller closes it."""
        fd, self._write_fd = self._write_fd, -1
        return fd

    def __enter__(self) -> _Pipe:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for fd in (self.read_fd, self._write_fd):
            if fd >= 0:
                os.close(fd)


class _Capture:
    """The first ``cap`` bytes of a stream, whether more came, and the stream's last bytes."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.tail = b""
        self.truncated = False

    def feed(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if len(chunk) > room:
            self.truncated = True
        self.data += chunk[: max(room, 0)]
        self.tail = (self.tail + chunk)[-_TAIL_BYTES:]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


class _Supervisor:
    """Reads a child's pipes, enforces its deadline and collects its exit report."""

    def __init__(self, child: Child, stdout: int, stderr: int, limits: ExecutionLimits) -> None:
        self.child = child
        self.limits = limits
        self.stdout = _Capture(limits.max_output_bytes)
        self.stderr = _Capture(limits.max_output_bytes)
        self.streams = {stdout: self.stdout, stderr: self.stderr}
        self.report: ExitReport | None = None
        self.killed = False

    def run(self, deadline: float) -> None:
        """Return once the child is reaped and its pipes are drained (or given up on)."""
        with selectors.DefaultSelector() as selector:
            for fd in self.streams:
                selector.register(fd, selectors.EVENT_READ)
            selector.register(self.child, selectors.EVENT_READ)
            self._loop(selector, deadline)

    def _loop(self, selector: selectors.BaseSelector, deadline: float) -> None:
        drain_until = math.inf
        while selector.get_map():
            now = time.monotonic()
            if now >= drain_until:
                return  # a process outside the group still holds the pipes open
            if self.report is None and not self.killed and now >= deadline:
                self.child.kill()
                self.killed = True
            wake = min(drain_until, math.inf if self.killed else deadline)
            timeout = None if wake == math.inf else max(wake - now, 0.0)
            for key, _ in selector.select(timeout):
                if key.fileobj is self.child:
                    selector.unregister(self.child)
                    self.report = self.child.wait()  # the spawner killed the group first
                    drain_until = time.monotonic() + _DRAIN_SECONDS
                else:
                    self._read(selector, key.fd)

    def _read(self, selector: selectors.BaseSelector, fd: int) -> None:
        chunk = os.read(fd, _READ_BYTES)
        if chunk:
            self.streams[fd].feed(chunk)
        else:
            selector.unregister(fd)

    def execution(self, command: list[str], duration_ms: int) -> Execution:
        """The :class:`Execution` of the reaped child."""
        assert self.report is not None
        status = self.report.status
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        timed_out = self.killed and sig == signal.SIGKILL
        if sig is None:
            exit_code: int | None = os.WEXITSTATUS(status)
        else:
            exit_code = None if timed_out else 128 + sig
        stderr = self.stderr.text()
        if timed_out:
            stderr = stderr.removesuffix(_UNSHARE_KILL_NOISE)
        return Execution(
            command=command,
            exit_code=exit_code,
            signal=sig,
            stdout=self.stdout.text(),
            stderr=stderr,
            stdout_truncated=self.stdout.truncated,
            stderr_truncated=self.stderr.truncated,
            duration_ms=duration_ms,
            peak_memory_bytes=self.report.peak_memory_bytes,
            timed_out=timed_out,
            out_of_memory=not timed_out and self._out_of_memory(exit_code, sig),
        )

    def _out_of_memory(self, exit_code: int | None, sig: int | None) -> bool:
        assert self.report is not None
        if sig is None:
            return exit_code != 0 and b"MemoryError" in self.stderr.tail
        peak = self.report.peak_memory_bytes
        near_limit = peak >= _OOM_PEAK_FRACTION * self.limits.memory_mb * _MIB
        return sig in _OOM_SIGNALS and near_limit
