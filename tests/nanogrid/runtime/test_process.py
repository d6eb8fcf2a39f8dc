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
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nanogrid.runtime.base import ExecutionLimits, RuntimeUnavailable
from nanogrid.runtime.process import ProcessRuntime
from tests.nanogrid.runtime.conftest import (
    CONNECT,
    LIMITS,
    MEMO_FUNCTION,
    MEMO_STDOUT,
    MIB,
    SPAWN_SLEEPER,
    Run,
    own_rss_bytes,
    processes_in,
    wait_until_dead,
    wait_until_none_in,
    wait_until_sleeper_in,
)

SPAWN_SLEEPER_AND_SLEEP = SPAWN_SLEEPER + "time.sleep(60)\n"
# Catches SIGUSR1 (which shows in its /proc status), then waits for it: functions cannot meet
# through files any more, so the test tells each one when all three run at once.
WAIT_FOR_THE_SIGNAL = """
    import json, os, signal, sys, time
    name = json.load(sys.stdin)
    got = []
    signal.signal(signal.SIGUSR1, lambda *_: got.append(1))
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        if signal.sigtimedwait({signal.SIGUSR1}, 0.1) is not None:
            got.append(1)
    met = bool(got)
    process = [os.getpid(), os.readlink("/proc/self/ns/pid")]  # pids repeat across namespaces
    print(json.dumps({"name": name, "process": process, "met": met}))
"""
_SIGUSR1_BIT = 1 << (signal.SIGUSR1 - 1)


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


def waiting_for_sigusr1(runtime: ProcessRuntime, code_dir: Path) -> list[int]:
    """Host pids of the functions in ``code_dir`` that catch SIGUSR1, so wait for it."""
    waiting = []
    for pid in processes_in(code_dir):  # unshare and the sandbox's init catch no SIGUSR1
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue  # exited meanwhile
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        if int(caught.split()[1], 16) & _SIGUSR1_BIT:
            waiting.append(pid)
    return waiting


def test_concurrent_runs_each_get_their_own_result(
    run: Run, runtime: ProcessRuntime, code_dir: Path
) -> None:
    # Each run waits for a signal that the test sends only once all three wait at once.
    (code_dir / "main.py").write_text(textwrap.dedent(WAIT_FOR_THE_SIGNAL))
    names = ["a", "b", "c"]
    with ThreadPoolExecutor(len(names)) as pool:
        pending = [pool.submit(run, None, name) for name in names]
        deadline = time.monotonic() + 10
        while len(waiting := waiting_for_sigusr1(runtime, code_dir)) < 3:
            assert time.monotonic() < deadline, f"only {len(waiting)} run(s) at once"
            time.sleep(0.02)
        for pid in waiting:
            os.kill(pid, signal.SIGUSR1)
        executions = [future.result(timeout=20) for future in pending]
    answers = [json.loads(execution.stdout) for execution in executions]
    assert [answer["name"] for answer in answers] == names
    assert [answer["met"] for answer in answers] == [True, True, True]
    assert len({tuple(answer["process"]) for answer in answers}) == 3


def test_function_dies_with_the_spawner(runtime: ProcessRuntime, code_dir: Path) -> None:
    (code_dir / "main.py").write_text(SPAWN_SLEEPER_AND_SLEEP)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(runtime.run, code_dir, None, LIMITS)
        wait_until_sleeper_in(code_dir)
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
    (code_dir / "main.py").write_text(SPAWN_SLEEPER_AND_SLEEP)
    runtime = ProcessRuntime()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(runtime.run, code_dir, None, LIMITS)
        wait_until_sleeper_in(code_dir)
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
