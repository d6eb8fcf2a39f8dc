"""ProcessRuntime's own machinery: the spawner, namespaces, and the worker's memory.

The behaviour it shares with DockerRuntime (output, limits, timeouts, environment, network)
is tested against both in ``test_contract.py``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nanogrid.runtime.base import ExecutionLimits, RuntimeUnavailable
from nanogrid.runtime.process import ProcessRuntime
from tests.nanogrid.runtime.conftest import (
    CONNECT,
    LIMITS,
    MEET_THE_OTHERS,
    MEMO_FUNCTION,
    MEMO_STDOUT,
    MIB,
    SPAWN_SLEEPER,
    Run,
    own_rss_bytes,
    processes_in,
    read_when_written,
    wait_until_dead,
    wait_until_none_in,
)

WRITE_PID_AND_SLEEP = (
    SPAWN_SLEEPER
    + """
import os
with open("function.pid", "w") as f:
    f.write(str(os.getpid()))
time.sleep(60)
"""
)


@pytest.fixture
def loopback_server() -> Iterator[int]:
    """A listening loopback socket (connects land in its backlog); yields its port."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as server:
        yield server.getsockname()[1]


def test_peak_memory_does_not_include_the_workers(code_dir: Path) -> None:
    # Forking from this process would start the child's ru_maxrss at its RSS; the ballast
    # is touched before the runtime (and so its spawner) exists.
    ballast = bytearray(200 * MIB)
    assert own_rss_bytes() >= 200 * MIB
    (code_dir / "main.py").write_text("pass\n")
    with ProcessRuntime() as runtime:
        execution = runtime.run(code_dir, None, LIMITS)
    assert execution.exit_code == 0, execution.stderr
    assert 0 < execution.peak_memory_bytes < 30 * MIB
    assert len(ballast) == 200 * MIB


def test_network_is_reachable_without_isolation(code_dir: Path, loopback_server: int) -> None:
    (code_dir / "main.py").write_text(textwrap.dedent(CONNECT))
    with ProcessRuntime(isolate_network=False) as runtime:
        assert not runtime.network_isolated
        execution = runtime.run(code_dir, loopback_server, LIMITS)
    assert execution.stdout == "connected\n", execution.stderr


def test_concurrent_runs_each_get_their_own_result(
    run: Run, code_dir: Path, tmp_path: Path
) -> None:
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    (code_dir / "main.py").write_text(textwrap.dedent(MEET_THE_OTHERS))
    env = {"MEETING_DIR": str(meeting)}
    names = ["a", "b", "c"]
    with ThreadPoolExecutor(len(names)) as pool:
        executions = list(pool.map(lambda name: run(None, name, env=env), names))
    answers = [json.loads(execution.stdout) for execution in executions]
    assert [answer["name"] for answer in answers] == names
    assert [answer["met"] for answer in answers] == [3, 3, 3]
    assert len({tuple(answer["process"]) for answer in answers}) == 3


def test_function_dies_with_the_spawner(runtime: ProcessRuntime, code_dir: Path) -> None:
    (code_dir / "main.py").write_text(WRITE_PID_AND_SLEEP)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(runtime.run, code_dir, None, LIMITS)
        read_when_written(code_dir / "function.pid")
        assert len(processes_in(code_dir)) >= 2  # the function and its child at least
        spawner_pid = runtime.spawner.pid
        assert spawner_pid is not None
        os.kill(spawner_pid, signal.SIGKILL)
        assert wait_until_none_in(code_dir) == []
        with pytest.raises(RuntimeUnavailable, match="spawner exited"):
            pending.result(timeout=10)


def test_spawner_restarts_after_being_killed(run: Run, runtime: ProcessRuntime) -> None:
    assert run(MEMO_FUNCTION).exit_code == 0
    first = runtime.spawner.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    assert wait_until_dead(first)
    execution = run(MEMO_FUNCTION)
    assert execution.stdout == MEMO_STDOUT
    assert runtime.spawner.pid not in (None, first)


def test_close_leaves_no_process_behind(code_dir: Path) -> None:
    (code_dir / "main.py").write_text(WRITE_PID_AND_SLEEP)
    runtime = ProcessRuntime()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(runtime.run, code_dir, None, LIMITS)
        read_when_written(code_dir / "function.pid")
        assert len(processes_in(code_dir)) >= 2  # the function and its child at least
        spawner_pid = runtime.spawner.pid
        assert spawner_pid is not None
        runtime.close()
        with pytest.raises(RuntimeUnavailable, match="spawner exited"):
            pending.result(timeout=10)
    assert runtime.spawner.pid is None
    assert wait_until_dead(spawner_pid)
    assert wait_until_none_in(code_dir) == []


def test_relative_interpreter_is_refused() -> None:
    with pytest.raises(RuntimeUnavailable, match="absolute"):
        ProcessRuntime("python")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"memory_mb": 0, "timeout_seconds": 1.0},
        {"memory_mb": 128, "timeout_seconds": 0},
        {"memory_mb": 128, "timeout_seconds": 1.0, "max_output_bytes": -1},
    ],
)
def test_invalid_limits_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid execution limits"):
        ExecutionLimits(**kwargs)  # type: ignore[arg-type]
