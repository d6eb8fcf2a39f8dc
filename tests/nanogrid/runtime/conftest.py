"""Fixtures, functions and process helpers shared by the runtime tests.

``runtime`` is a :class:`ProcessRuntime` here; ``test_docker.py`` overrides it with a
:class:`DockerRuntime` and ``test_contract.py`` with each of the two in turn, and ``run``
uses whichever the test has.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nanogrid.runtime.base import Execution, ExecutionLimits, Runtime
from nanogrid.runtime.process import ProcessRuntime
from tests.docker_support import LOCAL_PYTHON_IMAGE, require_docker

if TYPE_CHECKING:
    from nanogrid.runtime.docker import DockerRuntime

MIB = 1024 * 1024
LIMITS = ExecutionLimits(memory_mb=256, timeout_seconds=10.0)
MEMO_STDOUT = "Hello from NanoGrid Plus!\nTest function is working!\nResult: 42\n"

MEMO_FUNCTION = """
    #!/usr/bin/env python3
    print("Hello from NanoGrid Plus!")
    print("Test function is working!")
    print("Result: 42")
"""
# Starts a long sleeper in the function's process group and says so on stderr (the code
# directory is read-only under both runtimes).
SLEEPER = "import time; time.sleep(60)"
SPAWN_SLEEPER = textwrap.dedent(f"""
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", {SLEEPER!r}])
    print("child started", child.pid, file=sys.stderr, flush=True)
""")
# Reads a port of this host's loopback from stdin and says whether it could connect.
CONNECT = """
    import socket, sys
    try:
        socket.create_connection(("127.0.0.1", int(sys.stdin.read())), timeout=3).close()
    except OSError as exc:
        print("blocked", type(exc).__name__)
    else:
        print("connected")
"""
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

Run = Callable[..., Execution]


@pytest.fixture
def runtime() -> Iterator[ProcessRuntime]:
    with ProcessRuntime() as started:
        yield started


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    path = tmp_path / "code"
    path.mkdir()
    return path


@pytest.fixture
def run(runtime: Runtime, code_dir: Path) -> Run:
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


@pytest.fixture(scope="module")
def docker_engine() -> None:
    """Skip (fail under ``REQUIRE_DOCKER=1``) without an engine holding the local image."""
    require_docker(LOCAL_PYTHON_IMAGE)


def docker_runtime() -> DockerRuntime:
    """A DockerRuntime on the local image with a worker id of its own (call after the engine)."""
    from nanogrid.runtime.docker import DockerRuntime

    return DockerRuntime(LOCAL_PYTHON_IMAGE, worker_id=f"test-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def containers_of(docker_engine: None) -> Iterator[Callable[[str], list[str]]]:
    """``containers_of(worker_id)``: the ids of that worker's containers, running or not."""
    import docker

    client = docker.from_env()

    def list_ids(worker_id: str) -> list[str]:
        filters = {"label": ["nanogrid.runtime=1", f"nanogrid.worker={worker_id}"]}
        return [c["Id"] for c in client.api.containers(all=True, filters=filters, quiet=True)]

    yield list_ids
    client.close()


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


def cmdline(pid: int) -> list[str]:
    """The command line of ``pid``; empty once it exited."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def wait_until_sleeper_in(directory: Path, timeout: float = 10.0) -> None:
    """Poll until a function running in ``directory`` has started ``SPAWN_SLEEPER``'s child.

    The function can leave no file behind (its code is read-only, its /tmp its own): the
    child's process, found by working directory and command line, is the sign it started.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(SLEEPER in cmdline(pid) for pid in processes_in(directory)):
            return
        time.sleep(0.02)
    raise AssertionError(f"no sleeper started in {directory} within {timeout}s")


def own_rss_bytes() -> int:
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


NO_SANDBOX = (
    "filesystem sandbox unavailable on this OS (it refuses user + mount namespaces, a tmpfs "
    "or pivot_root there): ProcessRuntime.filesystem_isolated is False"
)


def require_sandbox(runtime: ProcessRuntime) -> None:
    """Skip (or, with ``REQUIRE_SANDBOX=1``, fail) unless ``runtime`` has the sandbox."""
    if runtime.filesystem_isolated:
        return
    if os.environ.get("REQUIRE_SANDBOX") == "1":
        pytest.fail(f"{NO_SANDBOX} (REQUIRE_SANDBOX=1)")
    pytest.skip(NO_SANDBOX)


def run_where_user_namespaces_are_refused(source: str) -> subprocess.CompletedProcess[str]:
    """Run Python ``source`` where no user namespace can be created, as on a kernel that
    refuses them: in one whose own ``max_user_namespaces`` is 0. Skips where even the outer
    namespace is refused."""
    unshare = shutil.which("unshare")
    outer = [unshare or "unshare", "--user", "--map-root-user", "sh", "-c"]
    limit = 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" -c "$1"'
    if unshare is None or subprocess.run([*outer, "true"], check=False).returncode != 0:
        pytest.skip("cannot make a user namespace here to refuse nested ones in")
    return subprocess.run(
        [*outer, limit, sys.executable, textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
