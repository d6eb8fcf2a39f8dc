import os
import signal
import socket
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.procs import (
    ManagedProcess,
    StartupError,
    free_port,
    pid_running,
)

PY = sys.executable


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01) -> None:
    """Poll ``predicate`` with a deadline; fail the test if it never holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)


def python(tmp_path: Path, code: str, name: str = "child") -> ManagedProcess:
    """A ManagedProcess running ``code`` under this interpreter."""
    return ManagedProcess(
        name, [PY, "-c", textwrap.dedent(code)], log_path=tmp_path / f"{name}.log", cwd=tmp_path
    )


def log_has_line(proc: ManagedProcess, line: str) -> Callable[[], bool]:
    # A whole line: the log's header line quotes the command, which may hold ``line``.
    return lambda: line in proc.log_path.read_text().splitlines()


def test_start_and_stop(tmp_path):
    proc = ManagedProcess("sleeper", ["sleep", "60"], log_path=tmp_path / "logs" / "s.log")
    proc.start()
    pid = proc.pid
    assert proc.alive
    assert pid_running(pid)

    assert proc.stop() == -signal.SIGTERM
    assert not proc.alive
    assert not pid_running(pid)
    assert proc.stop() == -signal.SIGTERM  # idempotent
    assert "starting ['sleep', '60']" in proc.log_path.read_text()


def test_context_manager_stops_on_error(tmp_path):
    proc = ManagedProcess("sleeper", ["sleep", "60"], log_path=tmp_path / "s.log")

    def crash_inside() -> None:
        with proc:
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        crash_inside()
    assert not proc.alive
    assert not pid_running(proc.pid)


def test_stop_kills_grandchildren(tmp_path):
    proc = python(
        tmp_path,
        """
        import pathlib, subprocess, time
        grandchild = subprocess.Popen(["sleep", "60"])
        pathlib.Path("grandchild.pid").write_text(str(grandchild.pid))
        time.sleep(60)
        """,
    )
    pid_file = tmp_path / "grandchild.pid"
    with proc:
        proc.wait_ready(lambda: pid_file.exists() and pid_file.read_text() != "", timeout=10)
        grandchild = int(pid_file.read_text())
        assert pid_running(grandchild)
    assert not pid_running(proc.pid)
    wait_until(lambda: not pid_running(grandchild))


def test_grandchild_outliving_its_parent_is_killed(tmp_path):
    # The leader exits on SIGTERM at once; its child ignores SIGTERM and would be orphaned.
    proc = python(
        tmp_path,
        """
        import pathlib, subprocess, sys, time
        code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
        grandchild = subprocess.Popen([sys.executable, "-c", code])
        pathlib.Path("grandchild.pid").write_text(str(grandchild.pid))
        time.sleep(60)
        """,
    )
    pid_file = tmp_path / "grandchild.pid"
    with proc:
        proc.wait_ready(lambda: pid_file.exists() and pid_file.read_text() != "", timeout=10)
        grandchild = int(pid_file.read_text())
    wait_until(lambda: not pid_running(grandchild))


def test_sigterm_ignored_escalates_to_sigkill(tmp_path):
    proc = python(
        tmp_path,
        """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        time.sleep(60)
        """,
    )
    with proc:
        proc.wait_ready(log_has_line(proc, "ready"), timeout=10)
        started = time.monotonic()
        assert proc.stop(timeout=0.3) == -signal.SIGKILL
    assert 0.3 <= time.monotonic() - started < 3


def test_early_exit_raises_with_log_tail(tmp_path):
    proc = python(tmp_path, "print('boom: bad config', flush=True); raise SystemExit(3)")
    with proc, pytest.raises(StartupError) as caught:
        proc.wait_ready(lambda: False, timeout=30)
    assert "exited with status 3" in str(caught.value)
    assert "boom: bad config" in caught.value.log_tail
    assert caught.value.name == "child"


def test_log_tail_is_the_last_30_lines(tmp_path):
    proc = python(tmp_path, "for i in range(100): print(f'line {i}')\nraise SystemExit(1)")
    with proc, pytest.raises(StartupError) as caught:
        proc.wait_ready(lambda: False, timeout=30)
    lines = caught.value.log_tail.splitlines()
    assert len(lines) == 30
    assert lines[-1] == "line 99"
    assert "line 69" not in lines


def test_wait_ready_deadline(tmp_path):
    with ManagedProcess("sleeper", ["sleep", "60"], log_path=tmp_path / "s.log") as proc:
        started = time.monotonic()
        with pytest.raises(StartupError, match=r"not ready after 0.2s \(last: None\)"):
            proc.wait_ready(lambda: False, timeout=0.2)
        assert 0.2 <= time.monotonic() - started < 2
        assert proc.alive  # the caller decides whether to stop it


def test_wait_ready_retries_transient_errors_only(tmp_path):
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionRefusedError("not yet")
        return True

    def broken():
        raise ValueError("a bug, not a startup delay")

    with ManagedProcess("sleeper", ["sleep", "60"], log_path=tmp_path / "s.log") as proc:
        proc.wait_ready(flaky, timeout=10, interval=0.01, transient=(ConnectionError,))
        assert len(calls) == 3
        with pytest.raises(ValueError, match="a bug"):
            proc.wait_ready(broken, timeout=10, transient=(ConnectionError,))


def test_deadline_error_names_the_last_transient_error(tmp_path):
    def refused():
        raise ConnectionRefusedError("port closed")

    with ManagedProcess("sleeper", ["sleep", "60"], log_path=tmp_path / "s.log") as proc:
        with pytest.raises(StartupError, match="port closed"):
            proc.wait_ready(refused, timeout=0.1)


def test_pid_of_unstarted_process_is_an_error(tmp_path):
    proc = ManagedProcess("never", ["sleep", "1"], log_path=tmp_path / "n.log")
    assert not proc.alive
    assert proc.stop() is None
    with pytest.raises(RuntimeError, match="not started"):
        _ = proc.pid


def test_free_port_can_be_bound():
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    assert 1024 <= port <= 65535


def test_stop_all_stops_leftovers(tmp_path):
    # In a process of its own: stop_all() stops *every* live ManagedProcess, and this test
    # session has some of its own (the session-scoped embedded backend).
    code = """
        import pathlib
        from harness.procs import ManagedProcess, stop_all
        proc = ManagedProcess("leftover", ["sleep", "60"], log_path=pathlib.Path("s.log")).start()
        stop_all()
        print("alive" if proc.alive else "stopped", flush=True)
        """
    with python(tmp_path, code, name="owner") as owner:
        wait_until(lambda: not owner.alive, timeout=20)
    assert log_has_line(owner, "stopped")()


def _supervisor(tmp_path: Path, tail: str) -> ManagedProcess:
    """A Python process that starts a sleeping ManagedProcess, writes its pid, then ``tail``."""
    code = f"""
        import pathlib, sys, time
        from harness.procs import ManagedProcess, install_signal_handlers
        install_signal_handlers()
        child = ManagedProcess("sleeper", ["sleep", "60"], log_path=pathlib.Path("sleeper.log"))
        child.start()
        pathlib.Path("child.pid").write_text(str(child.pid))
        {tail}
        """
    return python(tmp_path, code, name="supervisor")


def test_sigterm_runs_cleanup(tmp_path):
    supervisor = _supervisor(
        tmp_path, "try:\n            time.sleep(60)\n        finally:\n            child.stop()"
    )
    pid_file = tmp_path / "child.pid"
    with supervisor:
        supervisor.wait_ready(pid_file.exists, timeout=10)
        wait_until(lambda: pid_file.read_text() != "")
        child = int(pid_file.read_text())
        os.kill(supervisor.pid, signal.SIGTERM)  # the supervisor only, not its group
        wait_until(lambda: not supervisor.alive)
    assert "Terminated: SIGTERM" in supervisor.log_path.read_text()
    wait_until(lambda: not pid_running(child))


def test_atexit_stops_what_was_left_running(tmp_path):
    supervisor = _supervisor(tmp_path, "sys.exit(0)")
    pid_file = tmp_path / "child.pid"
    with supervisor:
        wait_until(lambda: not supervisor.alive, timeout=10)
    assert supervisor.returncode == 0
    assert not pid_running(int(pid_file.read_text()))
