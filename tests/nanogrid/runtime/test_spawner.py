"""The fork server on its own: exec errors, kills, abandoned runs, lifetime of the spawner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nanogrid.runtime.base import RuntimeUnavailable
from nanogrid.runtime.spawner import Spawner
from tests.nanogrid.runtime.conftest import is_alive, wait_until_dead

SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


@pytest.fixture
def spawner() -> Iterator[Spawner]:
    with Spawner() as started:
        yield started


@pytest.fixture
def devnull() -> Iterator[tuple[int, int, int]]:
    fd = os.open(os.devnull, os.O_RDWR)
    yield (fd, fd, fd)
    os.close(fd)


def test_exit_status_and_peak_are_reported(spawner: Spawner, devnull: tuple[int, int, int]) -> None:
    argv = [sys.executable, "-c", "raise SystemExit(3)"]
    with spawner.spawn(argv, "/", {}, devnull) as child:
        report = child.wait()
    assert os.waitstatus_to_exitcode(report.status) == 3
    assert 0 < report.peak_memory_bytes < 64 * 1024 * 1024


def test_exec_failure_is_runtime_unavailable(
    spawner: Spawner, devnull: tuple[int, int, int], tmp_path: Path
) -> None:
    with pytest.raises(RuntimeUnavailable, match="No such file"):
        spawner.spawn([str(tmp_path / "absent")], "/", {}, devnull)
    with spawner.spawn(SLEEP, "/", {}, devnull) as child:  # the spawner carries on
        child.kill()
        assert os.WTERMSIG(child.wait().status) == signal.SIGKILL


def test_closing_a_child_kills_it(spawner: Spawner, devnull: tuple[int, int, int]) -> None:
    child = spawner.spawn(SLEEP, "/", {}, devnull)
    assert is_alive(child.pid)
    child.close()
    assert wait_until_dead(child.pid)


def test_spawner_outlives_the_thread_that_started_it(
    spawner: Spawner, devnull: tuple[int, int, int]
) -> None:
    # PR_SET_PDEATHSIG fires when the forking *thread* exits, not only the process.
    started = threading.Thread(target=lambda: spawner.spawn(SLEEP, "/", {}, devnull).close())
    started.start()
    started.join()
    first = spawner.pid
    assert first is not None
    with spawner.spawn(SLEEP, "/", {}, devnull) as child:
        assert is_alive(child.pid)
    assert spawner.pid == first
    assert is_alive(first)


WORKER = """
import os, signal
from nanogrid.runtime.spawner import Spawner
fd = os.open(os.devnull, os.O_RDWR)
spawner = Spawner()
child = spawner.spawn({argv!r}, "/", {{}}, (fd, fd, fd))
print(spawner.pid, child.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_spawner_and_children_die_with_the_worker() -> None:
    worker = subprocess.run(
        [sys.executable, "-c", WORKER.format(argv=SLEEP)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    spawner_pid, child_pid = map(int, worker.stdout.split())
    assert wait_until_dead(spawner_pid)
    assert wait_until_dead(child_pid)
