"""A per-run parent cgroup: where a container's peak memory survives the container.

A container's own cgroup disappears when it exits, and with it its peak. Docker's
``cgroup_parent`` puts the container under a cgroup of our choosing; with the ``cgroupfs``
driver that parent is a plain directory that outlives the container, and its peak is the
container's (hierarchical accounting, nothing else runs in it). runc places a relative
parent under the engine's own cgroup (here ``memory/process_api/<id>/<parent>``), so the
parent is looked for a few levels down:

- cgroup v1 (this machine, kernel 6.18): ``memory/.../<parent>/memory.max_usage_in_bytes``
- cgroup v2: ``.../<parent>/memory.peak`` (kernel 5.19+)

Both count the page cache the function touched first (a cold run reading the interpreter's
files is charged a few MiB more). Where the files are not visible (a worker inside a
container, the ``systemd`` driver), :meth:`RunCgroup.peak_bytes` is 0.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
_PEAK_FILES = ("memory.max_usage_in_bytes", "memory.peak")
#: How deep under a hierarchy's root the engine's own cgroup may be.
_MAX_DEPTH = 4
_RMDIR_SECONDS = 2.0


def parent_prefix(worker_id: str) -> str:
    """The name prefix of one worker's run cgroups (only ``[A-Za-z0-9_.-]``)."""
    safe = "".join(c if c.isalnum() or c in "_.-" else "_" for c in worker_id)
    return f"nanogrid-{safe}-"


class RunCgroup:
    """One run's parent cgroup, named ``nanogrid-<worker>-<hex>``; Docker creates it."""

    def __init__(self, worker_id: str, root: Path = CGROUP_ROOT) -> None:
        self.name = parent_prefix(worker_id) + uuid.uuid4().hex[:12]
        self.root = root

    def peak_bytes(self) -> int:
        """The run's peak memory, or 0 where no accounting file is readable."""
        for directory in find_cgroups(self.root, self.name):
            for file in _PEAK_FILES:
                try:
                    return int((directory / file).read_text())
                except (OSError, ValueError):
                    continue
        return 0

    def remove(self) -> None:
        """Remove the parent in every hierarchy (after the container is gone)."""
        remove_cgroups(self.root, self.name)


def find_cgroups(root: Path, pattern: str) -> list[Path]:
    """The cgroups named ``pattern`` (a glob) in every hierarchy, a few levels down.

    The memory hierarchy comes first: its accounting is what callers read.
    """
    found: list[Path] = []
    for depth in range(_MAX_DEPTH + 1):
        found += _glob(root, "/".join(["*"] * depth + [pattern]))
    return sorted(found, key=lambda path: "memory" not in path.relative_to(root).parts[:1])


def _glob(root: Path, pattern: str, attempts: int = 5) -> list[Path]:
    """``root.glob(pattern)``, again when a directory vanished mid-walk (a concurrent run's
    cgroup being removed makes pathlib's walk raise FileNotFoundError)."""
    for _ in range(attempts - 1):
        try:
            return list(root.glob(pattern))
        except FileNotFoundError:
            continue
    return list(root.glob(pattern))


def remove_cgroups(root: Path, pattern: str) -> None:
    """``rmdir`` the cgroups named ``pattern`` (a glob) in every hierarchy under ``root``.

    A container's own cgroup may still be going away: busy ones are retried briefly, then left.
    """
    deadline = time.monotonic() + _RMDIR_SECONDS
    pending = find_cgroups(root, pattern)
    while pending:
        busy = []
        for path in pending:
            try:
                path.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                busy.append(path)
        if not busy or time.monotonic() >= deadline:
            return
        pending = busy
        time.sleep(0.05)
