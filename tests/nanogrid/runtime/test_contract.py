"""The runtime contract, run against each runtime: ProcessRuntime (forked from its zygote,
and with a fresh interpreter per run) and DockerRuntime.

What a worker relies on whichever runtime it has: the function's output and exit, its input
on stdin, the limits on its memory, time and output, and what it cannot see or reach. Where
a runtime meets the contract in its own way (a container's code is at ``/code``, the kernel
kills an oversized container where a process gets ``MemoryError``), the test says so with an
``if runtime.name == ...`` next to the reason. Each runtime's own machinery is tested in
``test_process.py``, ``test_spawner.py``, ``test_security.py`` and ``test_docker.py``.

The ``docker`` runs are marked ``docker``: skipped without an engine holding the local image
``nanogrid/python:local`` (scripts/build-images.sh), failed instead with ``REQUIRE_DOCKER=1``.
"""

from __future__ import annotations

import json
import signal
import socket
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from nanogrid.runtime.base import ExecutionLimits, Runtime, RuntimeUnavailable
from nanogrid.runtime.process import ProcessRuntime
from nanogrid.runtime.sandbox import SCRATCH
from tests.nanogrid.runtime.conftest import (
    CONNECT,
    LIMITS,
    MEMO_FUNCTION,
    MEMO_STDOUT,
    MIB,
    SPAWN_SLEEPER,
    Run,
    docker_runtime,
    wait_until_none_in,
)

TOUCH_100_MIB = """
    buf = bytearray(100 * 1024 * 1024)
    for i in range(0, len(buf), 4096):
        buf[i] = 1
"""
# The peak of TOUCH_100_MIB: the buffer plus the interpreter (about 10 MiB, 110 MiB measured).
PEAK_CEILING = 120 * MIB  # within 20% of the 100 MiB touched
# How long a run of a second or less may take: a container also starts and is removed.
RUN_SECONDS = {"process": 5.0, "docker": 8.0}

LeftRunning = Callable[[], Sequence[object]]


@pytest.fixture(
    params=["process", "process-interpreter", pytest.param("docker", marks=pytest.mark.docker)]
)
def runtime(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    if request.param == "docker":
        request.getfixturevalue("docker_engine")
        started: Runtime = docker_runtime()
    elif request.param == "process-interpreter":
        started = ProcessRuntime(start="interpreter")
    else:
        started = ProcessRuntime()
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def left_running(runtime: Runtime, code_dir: Path, request: pytest.FixtureRequest) -> LeftRunning:
    """What of the runs is still there: the worker's containers, or processes in the code."""
    if runtime.name == "docker":
        containers_of = request.getfixturevalue("containers_of")
        return lambda: containers_of(runtime.worker_id)  # type: ignore[attr-defined]
    return lambda: wait_until_none_in(code_dir)


@pytest.fixture
def loopback_server() -> Iterator[int]:
    """A listening loopback socket of this host (connects land in its backlog); its port."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as server:
        yield server.getsockname()[1]


def test_satisfies_runtime_protocol(runtime: Runtime, request: pytest.FixtureRequest) -> None:
    typed: Runtime = runtime
    assert isinstance(typed, Runtime)
    assert typed.name == request.node.callspec.params["runtime"].removesuffix("-interpreter")


def test_memo_function_succeeds(run: Run) -> None:
    execution = run(MEMO_FUNCTION)
    assert execution.exit_code == 0, execution.stderr
    assert execution.stdout == MEMO_STDOUT
    assert execution.stderr == ""
    assert execution.signal is None
    assert not execution.timed_out
    assert not execution.out_of_memory
    assert execution.command[-1] == "main.py"
    assert 0 < execution.duration_ms < 10_000


def test_non_zero_exit_keeps_stderr(run: Run) -> None:
    execution = run("import sys\nprint('bad input', file=sys.stderr)\nsys.exit(2)\n")
    assert execution.exit_code == 2
    assert execution.stderr == "bad input\n"
    assert execution.signal is None
    assert not execution.out_of_memory


def test_missing_main_py_is_exit_2_as_in_the_incident(run: Run) -> None:
    execution = run(None)
    assert execution.exit_code == 2
    assert "can't open file" in execution.stderr
    assert "main.py" in execution.stderr


def test_input_data_arrives_as_json_on_stdin(run: Run) -> None:
    source = """
        import json, os, sys
        data = json.load(sys.stdin)
        print(json.dumps({"echo": data, "request": os.environ["NANOGRID_REQUEST_ID"]}))
    """
    payload = {"name": "NanoGrid", "n": [1, 2.5, None], "text": "한국어"}
    execution = run(source, payload, env={"NANOGRID_REQUEST_ID": "req-1"})
    assert execution.exit_code == 0, execution.stderr
    assert json.loads(execution.stdout) == {"echo": payload, "request": "req-1"}


def test_peak_memory_is_the_functions(run: Run, runtime: Runtime) -> None:
    execution = run(TOUCH_100_MIB)
    assert execution.exit_code == 0, execution.stderr
    assert not execution.out_of_memory
    assert 100 * MIB <= execution.peak_memory_bytes <= PEAK_CEILING


def test_allocation_over_the_limit_is_out_of_memory(run: Run, runtime: Runtime) -> None:
    limits = ExecutionLimits(memory_mb=128, timeout_seconds=10.0)
    execution = run("buf = bytearray(300 * 1024 * 1024)\n", limits=limits)
    assert execution.out_of_memory
    assert not execution.timed_out
    if runtime.name == "docker":
        # The cgroup's limit is on memory used: the kernel's OOM killer ends the container.
        assert execution.exit_code == 128 + signal.SIGKILL
        assert execution.signal == signal.SIGKILL
    else:
        # RLIMIT_AS is on address space: the allocation fails and Python exits with the error.
        assert execution.exit_code == 1
        assert "MemoryError" in execution.stderr


def test_own_signal_is_reported_like_a_shell(run: Run) -> None:
    # A real fault: a process runtime's function, PID 1 of its namespace, ignores a SIGSEGV
    # it only sends itself.
    execution = run("import ctypes\nctypes.string_at(0)\n")
    assert execution.signal == signal.SIGSEGV
    assert execution.exit_code == 128 + signal.SIGSEGV
    assert not execution.timed_out
    assert not execution.out_of_memory


def test_timeout_leaves_nothing_running(
    run: Run, runtime: Runtime, left_running: LeftRunning
) -> None:
    limits = ExecutionLimits(memory_mb=256, timeout_seconds=1.0)
    started = time.monotonic()
    execution = run(SPAWN_SLEEPER + "time.sleep(60)\n", limits=limits)
    assert time.monotonic() - started < RUN_SECONDS[runtime.name]
    assert execution.timed_out
    assert execution.exit_code is None
    assert execution.signal == signal.SIGKILL
    assert not execution.out_of_memory
    assert execution.stderr.startswith("child started"), execution.stderr
    assert left_running() == []


def test_children_do_not_outlive_a_finished_function(
    run: Run, runtime: Runtime, left_running: LeftRunning
) -> None:
    started = time.monotonic()
    execution = run(SPAWN_SLEEPER + "print('done')\n")
    assert time.monotonic() - started < RUN_SECONDS[runtime.name]
    assert execution.exit_code == 0, execution.stderr
    assert execution.stdout == "done\n"
    assert not execution.timed_out
    assert execution.stderr.startswith("child started"), execution.stderr
    assert left_running() == []


def test_output_over_the_cap_is_truncated_without_buffering_it(run: Run) -> None:
    source = """
        import sys
        chunk = b"x" * (1024 * 1024)
        for _ in range(50):
            sys.stdout.buffer.write(chunk)
        sys.stderr.write("e" * (3 * 1024 * 1024))
    """
    limits = ExecutionLimits(memory_mb=256, timeout_seconds=20.0, max_output_bytes=MIB)
    tracemalloc.start()
    try:
        execution = run(source, limits=limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert execution.exit_code == 0, execution.stderr[-500:]
    assert execution.stdout == "x" * MIB
    assert execution.stderr == "e" * MIB
    assert execution.stdout_truncated
    assert execution.stderr_truncated
    assert peak < 8 * MIB


def test_output_at_the_cap_is_not_flagged(run: Run) -> None:
    limits = ExecutionLimits(memory_mb=256, timeout_seconds=10.0, max_output_bytes=4)
    execution = run("print('abc')\n", limits=limits)
    assert execution.stdout == "abc\n"
    assert not execution.stdout_truncated


def test_environment_is_clean(
    run: Run, runtime: Runtime, code_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    monkeypatch.setenv("REDIS_URL", "redis://secret")
    source = "import json, os\nprint(json.dumps(dict(os.environ)))\n"
    execution = run(source, env={"NANOGRID_FUNCTION_ID": "fn-1"})
    environ = json.loads(execution.stdout)
    assert "do-not-leak" not in execution.stdout
    # A sandboxed process has a writable scratch directory for HOME and TMPDIR; a container
    # has HOME at its code, mounted at /code; an unsandboxed process at its code directory.
    sandboxed = runtime.name == "process" and runtime.filesystem_isolated
    assert set(environ) == {
        "PATH",
        "HOME",
        "LANG",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "NANOGRID_FUNCTION_ID",
        *(["TMPDIR"] if sandboxed else []),
    }
    home = {"docker": "/code", "process": SCRATCH if sandboxed else str(code_dir)}
    assert environ["HOME"] == home[runtime.name]
    if sandboxed:
        assert environ["TMPDIR"] == SCRATCH
    assert environ["NANOGRID_FUNCTION_ID"] == "fn-1"


def test_network_is_isolated(run: Run, runtime: Runtime, loopback_server: int) -> None:
    if not runtime.network_isolated:
        pytest.skip("network isolation (unshare --user --net) unavailable on this OS")
    execution = run(CONNECT, loopback_server)
    assert execution.stdout.startswith("blocked"), execution.stdout + execution.stderr
    interfaces = run("import socket\nprint([name for _, name in socket.if_nameindex()])\n")
    assert interfaces.stdout == "['lo']\n", interfaces.stderr


def test_missing_code_dir_is_runtime_unavailable(runtime: Runtime, tmp_path: Path) -> None:
    with pytest.raises(RuntimeUnavailable, match="cannot start"):
        runtime.run(tmp_path / "absent", None, LIMITS)
