"""What a hostile function cannot do under ProcessRuntime: read the platform's secrets, reach
the network, outlive its run, or exhaust the worker's memory with its output.

Each test runs the attack for real. Where the protection comes from the namespaces, the same
attack is also run without them (``isolate_network=False``), which shows the test can fail.
"""

from __future__ import annotations

import json
import os
import socket
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nanogrid.runtime.base import Execution, ExecutionLimits
from nanogrid.runtime.process import ProcessRuntime
from tests.nanogrid.runtime.conftest import is_alive

MIB = 1024 * 1024
LIMITS = ExecutionLimits(memory_mb=256, timeout_seconds=10.0)
SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIA-DO-NOT-LEAK",
    "AWS_SECRET_ACCESS_KEY": "secret-do-not-leak",
    "AWS_SESSION_TOKEN": "token-do-not-leak",
    "AWS_ENDPOINT_URL": "http://aws.internal.do-not-leak:4566",
    "REDIS_URL": "redis://:password-do-not-leak@redis.internal:6379/0",
    "NANOGRID_QUEUE_URL": "https://sqs.internal/do-not-leak",
    "NANOGRID_BUCKET": "bucket-do-not-leak",
}


def run_source(
    runtime: ProcessRuntime,
    code_dir: Path,
    source: str,
    input_data: object = None,
    limits: ExecutionLimits = LIMITS,
) -> Execution:
    (code_dir / "main.py").write_text(textwrap.dedent(source).lstrip())
    return runtime.run(code_dir, input_data, limits)


@pytest.fixture
def isolated(runtime: ProcessRuntime) -> ProcessRuntime:
    if not runtime.network_isolated:
        pytest.skip("namespace isolation (unshare --user --net) unavailable on this OS")
    return runtime


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return SECRETS


# Prints its own environment and whatever it can read of the environ of the pids it is given.
READ_ENVIRONS = """
    import json, os, sys
    found = {"environ": dict(os.environ), "proc": {}}
    for pid in json.load(sys.stdin):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                found["proc"][pid] = f.read().decode(errors="replace")
        except OSError as exc:
            found["proc"][pid] = type(exc).__name__
    print(json.dumps(found))
"""


def read_environs(runtime: ProcessRuntime, code_dir: Path) -> dict[str, object]:
    # The spawner runs (and so has a pid) only once a first function started.
    assert run_source(runtime, code_dir, "pass\n").exit_code == 0
    pids = [os.getpid(), runtime.spawner.pid, os.getppid()]
    execution = run_source(runtime, code_dir, READ_ENVIRONS, pids)
    assert execution.exit_code == 0, execution.stderr
    found: dict[str, object] = json.loads(execution.stdout)
    return found


def test_function_cannot_read_the_platforms_credentials(
    isolated: ProcessRuntime, code_dir: Path, secrets: dict[str, str]
) -> None:
    found = read_environs(isolated, code_dir)
    text = json.dumps(found)
    leaked = [name for name, value in secrets.items() if value in text]
    assert leaked == [], found
    environ = found["environ"]
    assert isinstance(environ, dict)
    assert not [k for k in environ if k.startswith(("AWS_", "REDIS_", "NANOGRID_"))]
    # The worker's /proc entries are out of reach (another PID namespace, another user one).
    proc = found["proc"]
    assert isinstance(proc, dict)
    assert set(proc.values()) <= {"FileNotFoundError", "PermissionError"}, proc


def test_without_namespaces_the_workers_environ_is_readable(
    code_dir: Path, secrets: dict[str, str]
) -> None:
    # The contrast that shows the test above can fail: same uid, same /proc, readable.
    if os.getuid() != 0 and not os.access(f"/proc/{os.getpid()}/environ", os.R_OK):
        pytest.skip("this process's own environ is unreadable here")
    with ProcessRuntime(isolate_network=False) as runtime:
        found = read_environs(runtime, code_dir)
    assert secrets["AWS_SECRET_ACCESS_KEY"] in json.dumps(found["proc"])


# Connects to each address (with the timeout given) and reports errno and elapsed time.
CONNECT_ALL = """
    import errno, json, socket, sys, time
    answers = []
    for host, port in json.load(sys.stdin):
        started = time.monotonic()
        try:
            socket.create_connection((host, port), timeout=3).close()
            outcome = "connected"
        except OSError as exc:
            outcome = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        answers.append({"outcome": outcome, "seconds": time.monotonic() - started})
    print(json.dumps(answers))
"""
#: A non-routable address: outside a namespace a connect there hangs until its timeout.
UNROUTABLE = ("10.255.255.1", 9)


@pytest.fixture
def loopback_server() -> Iterator[tuple[str, int]]:
    with socket.create_server(("127.0.0.1", 0), backlog=8) as server:
        yield ("127.0.0.1", server.getsockname()[1])


def test_function_cannot_reach_the_network(
    isolated: ProcessRuntime, code_dir: Path, loopback_server: tuple[str, int]
) -> None:
    execution = run_source(isolated, code_dir, CONNECT_ALL, [loopback_server, UNROUTABLE])
    assert execution.exit_code == 0, execution.stderr
    loopback, external = json.loads(execution.stdout)
    # No interface is up in the namespace: no route at all, refused at once, nothing sent.
    assert loopback["outcome"] == "ENETUNREACH", loopback
    assert external["outcome"] == "ENETUNREACH", external
    assert external["seconds"] < 0.5


# The classic daemon: fork, setsid, fork again, the middle process exits; the grandchild runs
# a sleeper whose command line carries a token, so the test finds it in any PID namespace.
DAEMONIZE = textwrap.dedent("""
    import json, os, sys, time
    token = json.load(sys.stdin)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            sleeper = "import pathlib, time; pathlib.Path('daemon.started').touch(); time.sleep(60)"
            os.execv(sys.executable, [sys.executable, "-c", sleeper, token])
        os._exit(0)
    os.wait()
    while not os.path.exists("daemon.started"):
        time.sleep(0.01)
""")


def processes_with(token: str) -> list[int]:
    """Host pids of live processes whose command line carries ``token``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline.split(b"\0") and is_alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def gone_within(token: str, timeout: float = 5.0) -> list[int]:
    """Poll until no process carries ``token``; return those still alive at the deadline."""
    deadline = time.monotonic() + timeout
    while (alive := processes_with(token)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return alive


@pytest.mark.parametrize(
    ("tail", "timeout"),
    [("", 10.0), ("time.sleep(60)\n", 1.0)],
    ids=["function-exits", "function-times-out"],
)
def test_a_daemon_does_not_outlive_the_run(
    runtime: ProcessRuntime, code_dir: Path, tail: str, timeout: float
) -> None:
    token = f"nanogrid-daemon-{uuid.uuid4().hex}"
    limits = ExecutionLimits(memory_mb=256, timeout_seconds=timeout)
    try:
        execution = run_source(runtime, code_dir, DAEMONIZE + tail, token, limits)
        assert (code_dir / "daemon.started").exists(), execution.stderr
        assert execution.timed_out == bool(tail)
        assert gone_within(token) == []
    finally:
        for pid in processes_with(token):  # an escaped daemon must not outlive the test
            os.kill(pid, 9)


# Writes 200 MiB to stdout and 200 MiB to stderr at the same time, from two threads.
FLOOD = """
    import os, threading
    chunk = b"x" * (1024 * 1024)
    def flood(fd):
        for _ in range(200):
            os.write(fd, chunk)
    threads = [threading.Thread(target=flood, args=(fd,)) for fd in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
"""


def peak_rss_since_reset() -> int:
    """``VmHWM`` of this process, after :func:`reset_peak_rss`."""
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def reset_peak_rss() -> int:
    """Reset this process's peak RSS to its current RSS (``clear_refs`` 5); return it."""
    Path("/proc/self/clear_refs").write_text("5")
    return peak_rss_since_reset()


def test_output_flood_does_not_grow_the_workers_memory(
    runtime: ProcessRuntime, code_dir: Path
) -> None:
    limits = ExecutionLimits(memory_mb=256, timeout_seconds=60.0, max_output_bytes=MIB)
    assert run_source(runtime, code_dir, "pass\n").exit_code == 0  # spawner started
    before = reset_peak_rss()
    execution = run_source(runtime, code_dir, FLOOD, limits=limits)
    growth = peak_rss_since_reset() - before
    assert execution.exit_code == 0, execution.stderr[-500:]
    assert (execution.stdout_truncated, execution.stderr_truncated) == (True, True)
    assert (len(execution.stdout), len(execution.stderr)) == (MIB, MIB)
    # 400 MiB went through; the worker keeps 1 MiB of each and reads in 64 KiB chunks.
    assert growth < 16 * MIB, f"worker RSS grew by {growth / MIB:.1f} MiB"
