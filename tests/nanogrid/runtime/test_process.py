"""ProcessRuntime against real processes: output, limits, timeouts, environment, network."""

from __future__ import annotations

import json
import os
import signal
import socket
import textwrap
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nanogrid.runtime.base import Execution, ExecutionLimits, Runtime, RuntimeUnavailable
from nanogrid.runtime.process import ProcessRuntime
from tests.nanogrid.runtime.conftest import (
    own_rss_bytes,
    processes_in,
    read_when_written,
    wait_until_dead,
    wait_until_none_in,
)

MIB = 1024 * 1024
LIMITS = ExecutionLimits(memory_mb=256, timeout_seconds=10.0)
MEMO_STDOUT = "Hello from NanoGrid Plus!\nTest function is working!\nResult: 42\n"

MEMO_FUNCTION = """
    #!/usr/bin/env python3
    print("Hello from NanoGrid Plus!")
    print("Test function is working!")
    print("Result: 42")
"""
TOUCH_100_MIB = """
    buf = bytearray(100 * 1024 * 1024)
    for i in range(0, len(buf), 4096):
        buf[i] = 1
"""
# Starts a long sleeper in the function's process group and records its pid.
SPAWN_SLEEPER = textwrap.dedent("""
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open("child.pid", "w") as f:
        f.write(str(child.pid))
""")

Run = Callable[..., Execution]


@pytest.fixture
def run(runtime: ProcessRuntime, code_dir: Path) -> Run:
    """Write ``source`` as main.py (or no main.py for ``None``) and run it once."""

    def run_source(
        source: str | None,
        input_data: object = None,
        limits: ExecutionLimits = LIMITS,
        env: dict[str, str] | None = None,
    ) -> Execution:
        if source is not None:
            (code_dir / "main.py").write_text(textwrap.dedent(source).lstrip())
        return runtime.run(code_dir, input_data, limits, env)

    return run_source


@pytest.fixture
def loopback_server() -> Iterator[int]:
    """A listening loopback socket (connects land in its backlog); yields its port."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as server:
        yield server.getsockname()[1]


def test_satisfies_runtime_protocol(runtime: ProcessRuntime) -> None:
    typed: Runtime = runtime
    assert isinstance(typed, Runtime)
    assert typed.name == "process"


def test_memo_function_succeeds(run: Run) -> None:
    execution = run(MEMO_FUNCTION)
    assert execution.exit_code == 0
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


def test_peak_memory_is_the_functions(run: Run) -> None:
    execution = run(TOUCH_100_MIB)
    assert execution.exit_code == 0, execution.stderr
    assert not execution.out_of_memory
    # The buffer plus the interpreter (about 10 MiB, 110 MiB measured): within 25%.
    assert 100 * MIB <= execution.peak_memory_bytes <= 125 * MIB


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


def test_allocation_over_the_limit_is_out_of_memory(run: Run) -> None:
    limits = ExecutionLimits(memory_mb=128, timeout_seconds=10.0)
    execution = run("buf = bytearray(300 * 1024 * 1024)\n", limits=limits)
    assert execution.out_of_memory
    assert execution.exit_code == 1
    assert "MemoryError" in execution.stderr


def test_own_signal_is_reported_like_a_shell(run: Run) -> None:
    # A real fault: as PID 1 of its namespace the function ignores a SIGSEGV it sends itself.
    execution = run("import ctypes\nctypes.string_at(0)\n")
    assert execution.signal == signal.SIGSEGV
    assert execution.exit_code == 128 + signal.SIGSEGV
    assert not execution.timed_out
    assert not execution.out_of_memory


def test_timeout_kills_the_whole_process_group(run: Run, code_dir: Path) -> None:
    limits = ExecutionLimits(memory_mb=256, timeout_seconds=1.0)
    started = time.monotonic()
    execution = run(SPAWN_SLEEPER + "time.sleep(60)\n", limits=limits)
    assert time.monotonic() - started < 5.0
    assert execution.timed_out
    assert execution.exit_code is None
    assert execution.signal == signal.SIGKILL
    assert (code_dir / "child.pid").exists()
    assert wait_until_none_in(code_dir) == []


def test_children_do_not_outlive_a_finished_function(run: Run, code_dir: Path) -> None:
    started = time.monotonic()
    execution = run(SPAWN_SLEEPER + "print('done')\n")
    assert time.monotonic() - started < 5.0
    assert execution.exit_code == 0, execution.stderr
    assert execution.stdout == "done\n"
    assert not execution.timed_out
    assert (code_dir / "child.pid").exists()
    assert wait_until_none_in(code_dir) == []


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


def test_environment_is_clean(run: Run, code_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    monkeypatch.setenv("REDIS_URL", "redis://secret")
    source = "import json, os\nprint(json.dumps(dict(os.environ)))\n"
    execution = run(source, env={"NANOGRID_FUNCTION_ID": "fn-1"})
    environ = json.loads(execution.stdout)
    assert "do-not-leak" not in execution.stdout
    assert set(environ) == {
        "PATH",
        "HOME",
        "LANG",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "NANOGRID_FUNCTION_ID",
    }
    assert environ["HOME"] == str(code_dir)
    assert environ["NANOGRID_FUNCTION_ID"] == "fn-1"


CONNECT = """
    import socket, sys
    try:
        socket.create_connection(("127.0.0.1", int(sys.stdin.read())), timeout=3).close()
    except OSError as exc:
        print("blocked", type(exc).__name__)
    else:
        print("connected")
"""


def test_network_is_isolated(run: Run, runtime: ProcessRuntime, loopback_server: int) -> None:
    if not runtime.network_isolated:
        pytest.skip("network isolation (unshare --user --net) unavailable on this OS")
    execution = run(CONNECT, loopback_server)
    assert execution.stdout.startswith("blocked"), execution.stdout + execution.stderr


def test_network_is_reachable_without_isolation(code_dir: Path, loopback_server: int) -> None:
    (code_dir / "main.py").write_text(textwrap.dedent(CONNECT))
    with ProcessRuntime(isolate_network=False) as runtime:
        assert not runtime.network_isolated
        execution = runtime.run(code_dir, loopback_server, LIMITS)
    assert execution.stdout == "connected\n", execution.stderr


# Each run waits until all three have started, so they can only pass if they run at once.
MEET_THE_OTHERS = """
    import json, os, pathlib, sys, time
    name = json.load(sys.stdin)
    meeting = pathlib.Path(os.environ["MEETING_DIR"])
    (meeting / name).touch()
    deadline = time.monotonic() + 10
    while len(list(meeting.iterdir())) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    process = [os.getpid(), os.readlink("/proc/self/ns/pid")]  # pids repeat across namespaces
    print(json.dumps({"name": name, "process": process, "met": len(list(meeting.iterdir()))}))
"""


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


WRITE_PID_AND_SLEEP = (
    SPAWN_SLEEPER
    + """
import os
with open("function.pid", "w") as f:
    f.write(str(os.getpid()))
time.sleep(60)
"""
)


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


def test_missing_code_dir_is_runtime_unavailable(runtime: ProcessRuntime, tmp_path: Path) -> None:
    with pytest.raises(RuntimeUnavailable, match="cannot start"):
        runtime.run(tmp_path / "absent", None, LIMITS)


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
