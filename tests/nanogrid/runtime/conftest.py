"""Fixtures and process helpers shared by the runtime tests."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nanogrid.runtime.process import ProcessRuntime


@pytest.fixture
def runtime() -> Iterator[ProcessRuntime]:
    with ProcessRuntime() as started:
        yield started


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    path = tmp_path / "code"
    path.mkdir()
    return path


def is_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie nobody reaps counts as dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def wait_until_dead(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.02)
    return not is_alive(pid)


def processes_in(directory: Path) -> list[int]:
    """Host pids of live processes whose working directory is ``directory``.

    A function's pids are its PID namespace's, meaningless here: its processes (and the
    unshare that started it) are found by the code directory they run in instead.
    """
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd == str(directory) and is_alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def wait_until_none_in(directory: Path, timeout: float = 5.0) -> list[int]:
    """Poll until no process runs in ``directory``; return those still there at the end."""
    deadline = time.monotonic() + timeout
    while (left := processes_in(directory)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


def read_when_written(path: Path, timeout: float = 10.0) -> str:
    """The content of ``path`` once a process wrote it (non-empty), polling until ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and (text := path.read_text()):
            return text
        time.sleep(0.02)
    raise AssertionError(f"{path} was not written within {timeout}s")


def own_rss_bytes() -> int:
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024
