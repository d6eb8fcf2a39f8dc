"""Supervision of every process the harness starts: start, readiness, stop, no orphans.

Each :class:`ManagedProcess` runs in its own session (hence its own process group), so
:meth:`ManagedProcess.stop` reaches the grandchildren too. Two safety nets catch the exits
that skip a ``with`` block: an :mod:`atexit` hook that stops whatever is still running, and
:func:`install_signal_handlers`, which turns SIGTERM / SIGHUP into :class:`Terminated` so
that ``finally`` blocks and ``__exit__`` methods run.

::

    with ManagedProcess("redis", argv, log_path=run_dir / "redis.log") as proc:
        proc.wait_ready(ping, timeout=10, transient=(ConnectionError,))
        ...
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType

logger = logging.getLogger(__name__)

LOG_TAIL_LINES = 30
_PR_SET_PDEATHSIG = 1
_TAIL_BYTES = 64 * 1024

_live: set[ManagedProcess] = set()
_live_lock = threading.Lock()
_atexit_registered = False


class StartupError(RuntimeError):
    """A process exited or was not ready by its deadline. The message ends with its log tail."""

    def __init__(self, name: str, reason: str, log_tail: str) -> None:
        super().__init__(f"{name}: {reason}\n--- last lines of its log ---\n{log_tail}")
        self.name = name
        self.reason = reason
        self.log_tail = log_tail


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM / SIGHUP by :func:`install_signal_handlers`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class ManagedProcess:
    """A child process in its own process group, with its output appended to ``log_path``.

    ``env`` is the child's whole environment (None: inherit this one). ``argv[0]`` should
    be an absolute path (a shim on PATH can cost 100 ms per spawn).
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None
        self.started_ns = 0  # wall clock (ns) of the spawn
        self.ended_ns = 0  # wall clock (ns) of the exit, as the reaper saw it; 0 while alive
        self.stopped = False  # the exit was asked for by stop(), not a crash

    def start(self) -> ManagedProcess:
        """Spawn the process. Its log file is appended to, after a header line."""
        if self._proc is not None:
            raise RuntimeError(f"{self.name} already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"--- nanogrid-harness: starting {self.argv} ---\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent(os.getpid()),
            )
        self.started_ns = time.time_ns()
        _register(self)
        reaper = threading.Thread(target=self._reap, name=f"reap-{self.name}", daemon=True)
        reaper.start()
        logger.info("started %s pid=%d log=%s", self.name, self._proc.pid, self.log_path)
        return self

    def _reap(self) -> None:
        """Record the moment the child exits (the supervisor's view of its lifetime)."""
        proc = self._proc
        if proc is not None:
            proc.wait()
            self.ended_ns = time.time_ns()

    def lifetime(self) -> dict[str, object]:
        """The supervisor's record of this process: when it ran and how it ended."""
        code = self.returncode
        return {
            "component": self.name,
            "pid": self._proc.pid if self._proc else None,
            "startedNs": self.started_ns,
            "endedNs": self.ended_ns or None,
            "exitCode": code,
            "stopped": self.stopped,
        }

    @property
    def pid(self) -> int:
        """The child's pid, which is also its process-group id."""
        return self._started().pid

    @property
    def alive(self) -> bool:
        """True while the child has not exited."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit status once the child has exited (negative: killed by that signal)."""
        return None if self._proc is None else self._proc.poll()

    def wait_ready(
        self,
        check: Callable[[], bool],
        timeout: float,
        interval: float = 0.05,
        transient: tuple[type[BaseException], ...] = (OSError,),
    ) -> None:
        """Poll ``check`` until it returns True; ``transient`` errors count as "not yet".

        Raises :class:`StartupError` if the process exits first or ``timeout`` passes.
        """
        proc = self._started()
        deadline = time.monotonic() + timeout
        last_error: BaseException | None = None
        while True:
            if proc.poll() is not None:
                raise self._startup_error(f"exited with status {proc.returncode} before ready")
            try:
                if check():
                    return
            except transient as exc:
                last_error = exc
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._startup_error(f"not ready after {timeout:g}s (last: {last_error!r})")
            try:  # the poll interval; returns at once if the process exits meanwhile
                proc.wait(min(interval, remaining))
            except subprocess.TimeoutExpired:
                pass

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the group, wait up to ``timeout``, then SIGKILL the group. Idempotent.

        The group is SIGKILLed even after a clean exit of the leader, so that a grandchild
        left behind cannot outlive it. Returns the leader's exit status.
        """
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            self.stopped = True
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("%s ignored SIGTERM for %gs; killing it", self.name, timeout)
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        _unregister(self)
        return proc.returncode

    def kill(self) -> int | None:
        """SIGKILL the group at once (a supervisor's hard stop); counts as stopped."""
        proc = self._proc
        if proc is None:
            return None
        self.stopped = self.stopped or proc.poll() is None
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        _unregister(self)
        return proc.returncode

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of the log ('' if there is none yet)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - _TAIL_BYTES))
                data = log.read()
        except FileNotFoundError:
            return ""
        return "\n".join(data.decode(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> ManagedProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        pid = self._proc.pid if self._proc else None
        return f"<ManagedProcess {self.name} pid={pid} alive={self.alive}>"

    def _started(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise RuntimeError(f"{self.name} not started")
        return self._proc

    def _startup_error(self, reason: str) -> StartupError:
        return StartupError(self.name, reason, self.log_tail())


def _die_with_parent(parent: int) -> Callable[[], None]:
    """A ``preexec_fn`` asking the kernel to SIGTERM the child when the harness dies.

    The third safety net, for the exit no handler sees: a SIGKILLed harness. Linux only;
    elsewhere it does nothing.
    """

    # The kernel ties the signal to the *thread* that forks: a child started from a short-lived
    # thread (a timer) would die with that thread, so only the main thread arms it.
    armed = sys.platform == "linux" and threading.current_thread() is threading.main_thread()

    def arm() -> None:
        if not armed:
            return
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the harness died before prctl took effect
            os._exit(1)

    return arm


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pid_running(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie (an orphan's zombie may never be reaped)."""
    if not Path("/proc/self").is_dir():  # no procfs (macOS): a null signal counts zombies
        return _signal_pid(pid)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    # The state follows the command name in parentheses, which may itself hold ') '.
    return stat.rpartition(")")[2].split()[0] != "Z"


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``, from /proc's parent links (empty without procfs)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def stop_all(timeout: float = 2.0) -> None:
    """Stop every process still running; the :mod:`atexit` hook calls this."""
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        logger.warning("stopping leftover %r", proc)
        proc.stop(timeout)


def install_signal_handlers(
    signums: Sequence[int] = (signal.SIGTERM, signal.SIGHUP),
) -> None:
    """Turn the first of ``signums`` into :class:`Terminated` in the main thread.

    Call from the main thread of an entry point (a CLI), never from library code. Later
    signals are logged and ignored so they cannot interrupt the cleanup the first started;
    every stop in this module is bounded by a deadline. Left uncaught, :class:`Terminated`
    (a KeyboardInterrupt) ends the interpreter as SIGINT would; an entry point that wants
    the conventional status catches it and exits with ``128 + exc.signum``.
    """
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if received:
            logger.warning("%s during cleanup; ignored", signal.Signals(signum).name)
            return
        received.append(signum)
        raise Terminated(signum)

    for signum in signums:
        signal.signal(signum, handler)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass  # the whole group is gone already


def _signal_pid(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _register(proc: ManagedProcess) -> None:
    global _atexit_registered
    with _live_lock:
        _live.add(proc)
        if not _atexit_registered:
            atexit.register(stop_all)
            _atexit_registered = True


def _unregister(proc: ManagedProcess) -> None:
    with _live_lock:
        _live.discard(proc)
