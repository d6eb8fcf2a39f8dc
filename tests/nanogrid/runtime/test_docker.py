"""DockerRuntime against a real engine: the process runtime's behaviour, in containers.

Marked ``docker``: skipped without an engine (failed with ``REQUIRE_DOCKER=1``). Functions
run from the local stand-in image ``nanogrid/python:local`` (scripts/build-images.sh).
"""

from __future__ import annotations

import json
import signal
import socket
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nanogrid.runtime.base import Execution, ExecutionLimits, Runtime, RuntimeUnavailable
from tests.docker_support import LOCAL_PYTHON_IMAGE, require_docker
from tests.nanogrid.runtime.test_process import (
    CONNECT,
    LIMITS,
    MEET_THE_OTHERS,
    MEMO_FUNCTION,
    MEMO_STDOUT,
    MIB,
    TOUCH_100_MIB,
)

pytestmark = pytest.mark.docker

SPAWN_SLEEPER = textwrap.dedent("""
    import subprocess, sys, time
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
""")

Run = Callable[..., Execution]


@pytest.fixture
def loopback_server() -> Iterator[int]:
    """A listening loopback socket of this host; yields its port."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as server:
        yield server.getsockname()[1]


@pytest.fixture(scope="module")
def engine() -> None:
    require_docker(LOCAL_PYTHON_IMAGE)


@pytest.fixture
def docker_runtime(engine: None):
    from nanogrid.runtime.docker import DockerRuntime

    with DockerRuntime(LOCAL_PYTHON_IMAGE, worker_id=f"test-{uuid.uuid4().hex[:8]}") as runtime:
        yield runtime


@pytest.fixture
def containers_of(engine: None) -> Iterator[Callable[[str], list[str]]]:
    """``containers_of(worker_id)``: the ids of that worker's containers, running or not."""
    import docker

    client = docker.from_env()

    def list_ids(worker_id: str) -> list[str]:
        filters = {"label": ["nanogrid.runtime=1", f"nanogrid.worker={worker_id}"]}
        return [c["Id"] for c in client.api.containers(all=True, filters=filters, quiet=True)]

    yield list_ids
    client.close()


@pytest.fixture
def run(docker_runtime, code_dir: Path) -> Run:
    def run_source(
        source: str | None,
        input_data: object = None,
        limits: ExecutionLimits = LIMITS,
        env: dict[str, str] | None = None,
    ) -> Execution:
        if source is not None:
            (code_dir / "main.py").write_text(textwrap.dedent(source).lstrip())
        return docker_runtime.run(code_dir, input_data, limits, env)

    return run_source


def test_satisfies_runtime_protocol(docker_runtime) -> None:
    typed: Runtime = docker_runtime
    assert isinstance(typed, Runtime)
    assert typed.name == "docker"


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


def test_peak_memory_is_the_containers(run: Run) -> None:
    execution = run(TOUCH_100_MIB)
    assert execution.exit_code == 0, execution.stderr
    assert not execution.out_of_memory
    assert 100 * MIB <= execution.peak_memory_bytes <= 120 * MIB


def test_allocation_over_the_limit_is_out_of_memory(run: Run) -> None:
    limits = ExecutionLimits(memory_mb=128, timeout_seconds=10.0)
    execution = run("buf = bytearray(300 * 1024 * 1024)\n", limits=limits)
    assert execution.out_of_memory
    assert not execution.timed_out
    assert execution.exit_code == 128 + signal.SIGKILL
    assert execution.signal == signal.SIGKILL


def test_own_signal_is_reported_like_a_shell(run: Run) -> None:
    execution = run("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    assert execution.signal == signal.SIGSEGV
    assert execution.exit_code == 128 + signal.SIGSEGV
    assert not execution.timed_out
    assert not execution.out_of_memory


def test_timeout_kills_and_removes_the_container(run: Run, docker_runtime, containers_of):
    limits = ExecutionLimits(memory_mb=256, timeout_seconds=1.0)
    started = time.monotonic()
    execution = run(SPAWN_SLEEPER + "time.sleep(60)\n", limits=limits)
    assert time.monotonic() - started < 8.0
    assert execution.timed_out
    assert execution.exit_code is None
    assert execution.signal == signal.SIGKILL
    assert not execution.out_of_memory
    assert containers_of(docker_runtime.worker_id) == []


def test_children_do_not_outlive_a_finished_function(run: Run, docker_runtime, containers_of):
    started = time.monotonic()
    execution = run(SPAWN_SLEEPER + "print('done')\n")
    assert time.monotonic() - started < 8.0
    assert execution.exit_code == 0, execution.stderr
    assert execution.stdout == "done\n"
    assert containers_of(docker_runtime.worker_id) == []


def test_output_over_the_cap_is_truncated(run: Run) -> None:
    source = """
        import sys
        chunk = b"x" * (1024 * 1024)
        for _ in range(20):
            sys.stdout.buffer.write(chunk)
        sys.stderr.write("e" * (3 * 1024 * 1024))
    """
    limits = ExecutionLimits(memory_mb=256, timeout_seconds=20.0, max_output_bytes=MIB)
    execution = run(source, limits=limits)
    assert execution.exit_code == 0, execution.stderr[-500:]
    assert execution.stdout == "x" * MIB
    assert execution.stderr == "e" * MIB
    assert execution.stdout_truncated
    assert execution.stderr_truncated


def test_environment_is_clean(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
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
    assert environ["HOME"] == "/code"
    assert environ["NANOGRID_FUNCTION_ID"] == "fn-1"


def test_network_is_none(run: Run, loopback_server: int) -> None:
    execution = run(CONNECT, loopback_server)
    assert execution.stdout.startswith("blocked"), execution.stdout + execution.stderr
    interfaces = run("import socket\nprint([name for _, name in socket.if_nameindex()])\n")
    assert interfaces.stdout == "['lo']\n", interfaces.stderr


def test_code_is_read_only(run: Run) -> None:
    execution = run("open('written.txt', 'w')\n")
    assert execution.exit_code == 1
    assert "Read-only file system" in execution.stderr


def test_concurrent_runs_each_get_their_own_result(docker_runtime, tmp_path: Path) -> None:
    # The runs meet in /tmp of their own containers: each only sees itself.
    source = textwrap.dedent(MEET_THE_OTHERS).replace('os.environ["MEETING_DIR"]', '"/tmp"')
    names = ["a", "b", "c"]

    def run_one(name: str) -> Execution:
        code = tmp_path / name
        code.mkdir()
        (code / "main.py").write_text(source.replace("< 3", "< 1"))
        return docker_runtime.run(code, name, LIMITS)

    with ThreadPoolExecutor(len(names)) as pool:
        executions = list(pool.map(run_one, names))
    answers = [json.loads(execution.stdout) for execution in executions]
    assert [answer["name"] for answer in answers] == names
    assert [answer["met"] for answer in answers] == [1, 1, 1]


def test_leftovers_of_a_crashed_worker_are_removed_at_start(engine, containers_of) -> None:
    import docker

    from nanogrid.runtime.docker import DockerRuntime

    worker_id = f"crashed-{uuid.uuid4().hex[:8]}"
    labels = {"nanogrid.runtime": "1", "nanogrid.worker": worker_id}
    client = docker.from_env()
    try:
        client.containers.run(
            LOCAL_PYTHON_IMAGE, ["sleep", "60"], detach=True, labels=labels, network_mode="none"
        )
    finally:
        client.close()
    assert len(containers_of(worker_id)) == 1
    with DockerRuntime(LOCAL_PYTHON_IMAGE, worker_id=worker_id):
        assert containers_of(worker_id) == []


def test_close_ends_a_running_function(docker_runtime, code_dir: Path, containers_of) -> None:
    (code_dir / "main.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(docker_runtime.run, code_dir, None, LIMITS)
        deadline = time.monotonic() + 10
        while not containers_of(docker_runtime.worker_id) and time.monotonic() < deadline:
            time.sleep(0.02)
        docker_runtime.close()
        with pytest.raises(RuntimeUnavailable):
            pending.result(timeout=15)
    assert containers_of(docker_runtime.worker_id) == []


def test_missing_code_dir_is_runtime_unavailable(docker_runtime, tmp_path: Path) -> None:
    with pytest.raises(RuntimeUnavailable, match="cannot start"):
        docker_runtime.run(tmp_path / "absent", None, LIMITS)
