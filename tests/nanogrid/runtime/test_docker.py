"""DockerRuntime's own machinery: read-only code, a container's own /tmp, leftover containers.

The behaviour it shares with ProcessRuntime is tested against both in ``test_contract.py``.
Marked ``docker``: skipped without an engine (failed with ``REQUIRE_DOCKER=1``). Functions
run from the local stand-in image ``nanogrid/python:local`` (scripts/build-images.sh).
"""

from __future__ import annotations

import json
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nanogrid.runtime.base import Execution, RuntimeUnavailable
from tests.docker_support import LOCAL_PYTHON_IMAGE
from tests.nanogrid.runtime.conftest import LIMITS, MEET_THE_OTHERS, Run, docker_runtime

if TYPE_CHECKING:
    from nanogrid.runtime.docker import DockerRuntime

pytestmark = pytest.mark.docker

ContainersOf = Callable[[str], list[str]]


@pytest.fixture
def runtime(docker_engine: None) -> Iterator[DockerRuntime]:
    with docker_runtime() as started:
        yield started


def test_code_is_read_only(run: Run) -> None:
    execution = run("open('written.txt', 'w')\n")
    assert execution.exit_code == 1
    assert "Read-only file system" in execution.stderr


def test_concurrent_runs_each_get_their_own_result(runtime: DockerRuntime, tmp_path: Path) -> None:
    # The runs meet in /tmp of their own containers: each only sees itself.
    source = textwrap.dedent(MEET_THE_OTHERS).replace('os.environ["MEETING_DIR"]', '"/tmp"')
    names = ["a", "b", "c"]

    def run_one(name: str) -> Execution:
        code = tmp_path / name
        code.mkdir()
        (code / "main.py").write_text(source.replace("< 3", "< 1"))
        return runtime.run(code, name, LIMITS)

    with ThreadPoolExecutor(len(names)) as pool:
        executions = list(pool.map(run_one, names))
    answers = [json.loads(execution.stdout) for execution in executions]
    assert [answer["name"] for answer in answers] == names
    assert [answer["met"] for answer in answers] == [1, 1, 1]


def test_leftovers_of_a_crashed_worker_are_removed_at_start(
    docker_engine: None, containers_of: ContainersOf
) -> None:
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


def test_close_ends_a_running_function(
    runtime: DockerRuntime, code_dir: Path, containers_of: ContainersOf
) -> None:
    (code_dir / "main.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(60)\n")
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(runtime.run, code_dir, None, LIMITS)
        deadline = time.monotonic() + 10
        while not containers_of(runtime.worker_id) and time.monotonic() < deadline:
            time.sleep(0.02)
        runtime.close()
        with pytest.raises(RuntimeUnavailable):
            pending.result(timeout=15)
    assert containers_of(runtime.worker_id) == []
