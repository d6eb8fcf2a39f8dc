"""Run a function as a local process: ``python main.py`` in the code directory.

The function reads its ``inputData`` as JSON from stdin and writes its answer to stdout;
``NANOGRID_REQUEST_ID`` / ``NANOGRID_FUNCTION_ID`` are in its environment when the worker
passes them in ``env``. Isolation, as far as an unprivileged Linux process gets:

- environment: a clean one (``PATH``, ``HOME`` = the code directory, ``LANG``,
  ``PYTHONUNBUFFERED``, ``PYTHONDONTWRITEBYTECODE``) plus ``env``; nothing of the worker's
  own (no ``AWS_*``, ``REDIS_*``, ``NANOGRID_*``).
- network: ``unshare --user --net --map-root-user`` gives the function an empty network
  namespace (not even loopback up), probed once; :attr:`ProcessRuntime.network_isolated`
  is ``False`` where the OS refuses it. unshare execs in place, so the pid we wait for *is*
  the function and ``wait4``'s ``ru_maxrss`` is its peak. Caveat: the kernel also counts
  the forked copy of the *worker* before exec, so the peak reported is never below the
  worker's RSS at spawn time (measured: ``pass`` reports 208 MiB from a 200 MiB parent).
- memory: ``RLIMIT_AS`` = ``memory_mb``. It limits address space, not RSS, so a function
  with many threads (each reserves stack and a malloc arena) hits it before its RSS does.
- time: after ``timeout_seconds`` the whole process group gets SIGKILL; the group is also
  killed when the main process exits, so no child outlives the run. A grandchild that
  calls ``setsid()`` leaves the group and escapes this (a PID namespace would catch it).

Out of memory is reported when the function exits non-zero with ``MemoryError`` at the end
of its stderr (what Python does when ``RLIMIT_AS`` refuses an allocation), or dies of
SIGKILL / SIGSEGV / SIGABRT (a native allocation failing, or a host OOM killer) with its
peak RSS at 80% of the limit or more.
"""

from __future__ import annotations

import functools
import json
import math
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from nanogrid.runtime.base import Execution, ExecutionLimits, RuntimeUnavailable

_MIB = 1024 * 1024
_SYSTEM_PATH = "/usr/bin:/bin"
_UNSHARE_ARGS = ("--user", "--net", "--map-root-user")
_READ_BYTES = 64 * 1024
#: Bytes of stderr's end kept apart from the capped head, to find a final ``MemoryError``.
_TAIL_BYTES = 512
#: How long pipes are still read after the function exited and its group was killed.
_DRAIN_SECONDS = 2.0
_OOM_SIGNALS = frozenset({signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT})
_OOM_PEAK_FRACTION = 0.8


@functools.cache
def unshare_prefix() -> tuple[str, ...] | None:
    """The command prefix that cuts a process off the network here, or ``None``."""
    path = shutil.which("unshare", path=_SYSTEM_PATH)
    if path is None:
        return None
    prefix = (path, *_UNSHARE_ARGS)
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return prefix if probe.returncode == 0 else None


class ProcessRuntime:
    """A :class:`~nanogrid.runtime.base.Runtime` running each function as a local process.

    Usage::

        runtime = ProcessRuntime()
        if not runtime.network_isolated:
            logger.warning("network isolation unavailable")
        execution = runtime.run(code_dir, {"x": 1}, ExecutionLimits(256, 10.0))
    """

    name: str = "process"

    def __init__(self, interpreter: str | None = None, *, isolate_network: bool = True) -> None:
        self.interpreter = interpreter or sys.executable
        if not self.interpreter or not os.path.isabs(self.interpreter):
            raise RuntimeUnavailable(f"no absolute interpreter path: {self.interpreter!r}")
        if not os.access(self.interpreter, os.X_OK):
            raise RuntimeUnavailable(f"interpreter is not executable: {self.interpreter}")
        self._prefix = unshare_prefix() if isolate_network else None
        self.network_isolated = self._prefix is not None

    def command(self) -> list[str]:
        """The command line a run executes (unshare prefix, if any, included)."""
        return [*(self._prefix or ()), self.interpreter, "main.py"]

    def run(
        self,
        code_dir: Path,
        input_data: Any,
        limits: ExecutionLimits,
        env: Mapping[str, str] | None = None,
    ) -> Execution:
        """Run ``main.py`` in ``code_dir`` once; ``input_data`` must be JSON-serialisable."""
        command = self.command()
        with tempfile.TemporaryFile() as stdin:
            stdin.write(json.dumps(input_data).encode())
            stdin.seek(0)
            started = time.monotonic()
            with self._spawn(command, code_dir, stdin, limits, env) as proc:
                supervisor = _Supervisor(proc, limits.max_output_bytes)
                supervisor.run(started + limits.timeout_seconds)
        duration_ms = round((time.monotonic() - started) * 1000)
        return supervisor.execution(command, limits, duration_ms)

    def _spawn(
        self,
        command: list[str],
        code_dir: Path,
        stdin: IO[bytes],
        limits: ExecutionLimits,
        env: Mapping[str, str] | None,
    ) -> subprocess.Popen[bytes]:
        base = {
            "PATH": _SYSTEM_PATH,
            "HOME": os.path.abspath(code_dir),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        try:
            return subprocess.Popen(
                command,
                cwd=code_dir,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**base, **(env or {})},
                start_new_session=True,
                preexec_fn=_limit_resources(limits.memory_mb * _MIB),
            )
        except OSError as exc:
            raise RuntimeUnavailable(f"cannot start {command[-2]} in {code_dir}: {exc}") from exc


def _limit_resources(memory_bytes: int) -> Callable[[], None]:
    """The ``preexec_fn`` setting the memory limit (and no core dumps) in the child."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        memory_bytes = min(memory_bytes, hard)

    # Runs between fork and exec: only setrlimit calls, nothing that takes a lock.
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


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
    """Reads a child's pipes, enforces its deadline, kills its group and reaps it."""

    def __init__(self, proc: subprocess.Popen[bytes], max_output_bytes: int) -> None:
        assert proc.stdout is not None
        assert proc.stderr is not None
        self.proc = proc
        self.stdout = _Capture(max_output_bytes)
        self.stderr = _Capture(max_output_bytes)
        self.streams = {proc.stdout.fileno(): self.stdout, proc.stderr.fileno(): self.stderr}
        self.status: int | None = None
        self.peak_memory_bytes = 0
        self.killed = False

    def run(self, deadline: float) -> None:
        """Return once the child is reaped and its pipes are drained (or given up on)."""
        pidfd = os.pidfd_open(self.proc.pid)
        try:
            with selectors.DefaultSelector() as selector:
                for fd in self.streams:
                    selector.register(fd, selectors.EVENT_READ)
                selector.register(pidfd, selectors.EVENT_READ)
                self._loop(selector, pidfd, deadline)
        finally:
            os.close(pidfd)
            if self.status is None:  # interrupted: still leave nothing behind
                self._kill_group()
                self._reap()

    def _loop(self, selector: selectors.BaseSelector, pidfd: int, deadline: float) -> None:
        drain_until = math.inf
        while selector.get_map():
            now = time.monotonic()
            if now >= drain_until:
                return  # a process outside the group still holds the pipes open
            if self.status is None and not self.killed and now >= deadline:
                self._kill_group()
                self.killed = True
            wake = min(drain_until, math.inf if self.killed else deadline)
            timeout = None if wake == math.inf else max(wake - now, 0.0)
            for key, _ in selector.select(timeout):
                if key.fd == pidfd:
                    selector.unregister(pidfd)
                    self._kill_group()  # before reaping, so the group id cannot be reused
                    self._reap()
                    drain_until = time.monotonic() + _DRAIN_SECONDS
                else:
                    self._read(selector, key.fd)

    def _read(self, selector: selectors.BaseSelector, fd: int) -> None:
        chunk = os.read(fd, _READ_BYTES)
        if chunk:
            self.streams[fd].feed(chunk)
        else:
            selector.unregister(fd)

    def _kill_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _reap(self) -> None:
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.status = status
        self.peak_memory_bytes = usage.ru_maxrss * 1024  # KiB on Linux
        self.proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen never waits

    def execution(self, command: list[str], limits: ExecutionLimits, duration_ms: int) -> Execution:
        """The :class:`Execution` of the reaped child."""
        assert self.status is not None
        sig = os.WTERMSIG(self.status) if os.WIFSIGNALED(self.status) else None
        timed_out = self.killed and sig == signal.SIGKILL
        if sig is None:
            exit_code: int | None = os.WEXITSTATUS(self.status)
        else:
            exit_code = None if timed_out else 128 + sig
        return Execution(
            command=command,
            exit_code=exit_code,
            signal=sig,
            stdout=self.stdout.text(),
            stderr=self.stderr.text(),
            stdout_truncated=self.stdout.truncated,
            stderr_truncated=self.stderr.truncated,
            duration_ms=duration_ms,
            peak_memory_bytes=self.peak_memory_bytes,
            timed_out=timed_out,
            out_of_memory=not timed_out and self._out_of_memory(exit_code, sig, limits),
        )

    def _out_of_memory(
        self, exit_code: int | None, sig: int | None, limits: ExecutionLimits
    ) -> bool:
        if sig is None:
            return exit_code != 0 and b"MemoryError" in self.stderr.tail
        near_limit = self.peak_memory_bytes >= _OOM_PEAK_FRACTION * limits.memory_mb * _MIB
        return sig in _OOM_SIGNALS and near_limit
