"""The worker's side of the fork server that starts functions (``_spawner_main.py``).

Forking a function straight from the worker makes its ``ru_maxrss`` start at the worker's
RSS: the kernel records the peak of the forked copy before ``exec``. So the worker starts
one small stdlib-only Python process, the spawner, and has it fork and exec every function;
a child's reported peak then starts from the spawner's ~11 MiB. Forking that small process
is also cheaper than forking the worker.

The spawner is started on first use, restarted if it died, and stopped by :meth:`close`. It
dies with the worker (``PR_SET_PDEATHSIG``) and its functions die with it. Each function gets
its own *run socket*: the spawner writes the exit report there, and closing it kills the
function's process group, so an abandoned run never leaves a process behind.

Usage::

    with Spawner() as spawner, spawner.spawn(argv, cwd, env, (0, out_w, err_w)) as child:
        report = child.wait()
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from nanogrid.runtime.base import RuntimeUnavailable

_SCRIPT = Path(__file__).with_name("_spawner_main.py")
_REPLY_BYTES = 64 * 1024
_SPAWNER_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
#: How long the spawner may take to report that a child exec'd.
_START_TIMEOUT = 10.0
#: How long :meth:`Spawner.close` waits for the spawner to kill its children and exit.
_STOP_TIMEOUT = 5.0


class _Gone(Exception):
    """The spawner process exited (or its socket broke) before answering."""


@dataclass(frozen=True)
class ExitReport:
    """How a child ended: ``status`` as ``os.wait4`` returns it, and its peak RSS."""

    status: int
    peak_memory_bytes: int


class Child:
    """A function process started by the spawner; ``fileno()`` is readable once it exited."""

    def __init__(self, pid: int, run: socket.socket) -> None:
        self.pid = pid
        self._run = run

    def fileno(self) -> int:
        return self._run.fileno()

    def kill(self) -> None:
        """SIGKILL the child's whole process group (through the spawner, which reaps it)."""
        try:
            self._run.send(b"kill")
        except OSError:
            pass  # the spawner is gone: wait() reports that

    def wait(self) -> ExitReport:
        """Block until the spawner reaped the child; :exc:`RuntimeUnavailable` if it died."""
        self._run.settimeout(None)
        try:
            data = self._run.recv(_REPLY_BYTES)
        except OSError:
            data = b""
        if not data:
            # The child got SIGKILL with the spawner; its group may linger. Best effort: the
            # pid is no longer ours to hold, but a live group keeps its id from being reused.
            _kill_group(self.pid)
            raise RuntimeUnavailable(f"the spawner exited while process {self.pid} ran")
        reply = json.loads(data)
        return ExitReport(int(reply["status"]), int(reply["ru_maxrss"]) * 1024)  # KiB

    def close(self) -> None:
        """Stop tracking the child; the spawner kills its group if it still runs."""
        self._run.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Server:
    """One running spawner process, its control socket and the thread that reaps it."""

    def __init__(self, python: str, zygote: bool) -> None:
        self.control, remote = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc: subprocess.Popen[bytes] | None = None
        self._error: OSError | None = None
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._host,
            args=(python, zygote, remote, started),
            name="nanogrid-spawner",
            daemon=True,
        )
        with remote:
            self._thread.start()
            started.wait()
        if self.proc is None:
            self.control.close()
            raise RuntimeUnavailable(f"cannot start the spawner: {self._error}") from self._error

    def _host(
        self, python: str, zygote: bool, remote: socket.socket, started: threading.Event
    ) -> None:
        # PR_SET_PDEATHSIG fires when the *thread* that forked the spawner exits, so the
        # thread that starts it is the one that stays to reap it.
        fd = remote.fileno()
        flags, mode = (["-I"], ["--zygote"]) if zygote else (["-I", "-S"], [])
        try:
            self.proc = subprocess.Popen(
                [python, *flags, str(_SCRIPT), str(fd), str(os.getpid()), *mode],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=[fd],
                env=_SPAWNER_ENV,  # a zygote's stdio encoding is its functions' too
            )
        except OSError as exc:
            self._error = exc
        finally:
            started.set()
        if self.proc is not None:
            self.proc.wait()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def send(self, request: bytes, fds: Sequence[int]) -> None:
        try:
            socket.send_fds(self.control, [request], fds)
        except OSError as exc:
            raise _Gone from exc

    def shut(self, kill: bool = False) -> None:
        """Close the control socket: the spawner kills its children's groups and exits."""
        assert self.proc is not None
        if kill:
            self.proc.kill()
        self.control.close()

    def join(self) -> None:
        """Wait for the spawner to exit (SIGKILL it after a while)."""
        assert self.proc is not None
        self._thread.join(_STOP_TIMEOUT)
        if self._thread.is_alive():
            self.proc.kill()
            self._thread.join()


class Spawner:
    """Starts processes through one lazily started fork server; safe to share across threads.

    Usage::

        spawner = Spawner()
        child = spawner.spawn(["/usr/bin/true"], "/tmp", {}, (stdin_fd, out_fd, err_fd))
        report = child.wait()
        spawner.close()
    """

    def __init__(self, python: str | None = None, *, zygote: bool = False) -> None:
        self.python = python or sys.executable
        self.zygote = zygote
        self._lock = threading.Lock()
        self._server: _Server | None = None

    @property
    def pid(self) -> int | None:
        """The running spawner's pid, or ``None`` before it started / after :meth:`close`."""
        server = self._server
        return server.proc.pid if server is not None and server.proc is not None else None

    def spawn(
        self,
        argv: Sequence[str],
        cwd: str | os.PathLike[str],
        env: Mapping[str, str],
        fds: tuple[int, int, int],
        rlimit_as: int | None = None,
        sandbox: Mapping[str, Any] | None = None,
        script: str | None = None,
    ) -> Child:
        """Exec ``argv`` (an absolute path first) in a new session with ``fds`` as 0, 1, 2.

        ``rlimit_as`` caps its address space; core dumps are off. ``sandbox`` (see
        :meth:`nanogrid.runtime.sandbox.Sandbox.spec`) runs it in the filesystem sandbox.
        ``script`` (a zygote only) runs that Python script in the forked child instead, as
        ``argv[0] script`` would. Returns once it has exec'd (or is about to run the script).
        Raises :exc:`RuntimeUnavailable` if it could not (no such ``cwd``, no executable, a
        sandbox that could not be built).
        """
        if script is not None and not self.zygote:
            raise ValueError("a script runs in a zygote only: Spawner(zygote=True)")
        request: dict[str, Any] = {
            "argv": list(argv),
            "cwd": os.fspath(cwd),
            "env": dict(env),
            "rlimit_as": rlimit_as,
            "sandbox": None if sandbox is None else dict(sandbox),
            "script": script,
        }
        payload = json.dumps(request).encode()
        for _ in range(2):  # a dead spawner is restarted once; its children died with it
            server = self._ready_server()
            try:
                return self._spawn_on(server, payload, fds)
            except _Gone:
                self._discard(server)
        raise RuntimeUnavailable("the spawner exited twice before answering")

    def _spawn_on(self, server: _Server, payload: bytes, fds: tuple[int, int, int]) -> Child:
        run, remote = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with remote, self._lock:
                server.send(payload, [*fds, remote.fileno()])
            run.settimeout(_START_TIMEOUT)
            data = run.recv(_REPLY_BYTES)
        except TimeoutError as exc:
            run.close()
            self._discard(server)
            raise RuntimeUnavailable("the spawner did not answer") from exc
        except BaseException:
            run.close()
            raise
        if not data:
            run.close()
            raise _Gone
        reply = json.loads(data)
        if "error" in reply:
            run.close()
            raise RuntimeUnavailable(str(reply["error"]))
        return Child(int(reply["pid"]), run)

    def _ready_server(self) -> _Server:
        with self._lock:
            server = self._server
            if server is not None and not server.alive:
                server.shut()  # already reaped: only its socket is left to release
                server = None
            if server is None:
                server = self._server = _Server(self.python, self.zygote)
            return server

    def _discard(self, server: _Server) -> None:
        with self._lock:  # the lock keeps a send from using the socket being closed
            if self._server is server:
                self._server = None
            server.shut(kill=True)
        server.join()

    def close(self) -> None:
        """Stop the spawner and every process it still runs; a later spawn starts a new one."""
        with self._lock:
            server, self._server = self._server, None
            if server is not None:
                server.shut()
        if server is not None:
            server.join()

    def __enter__(self) -> Spawner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
