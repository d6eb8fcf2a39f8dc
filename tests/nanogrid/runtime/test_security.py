"""What a hostile function cannot do under ProcessRuntime: read the platform's secrets, reach
the network, outlive its run, exhaust the worker's memory with its output, write any file
but its scratch space (the code cache, other functions' code, its own, the worker's files),
or reach the worker through an inherited descriptor.

Each test runs the attack for real. Where the protection comes from the namespaces, the same
attack is also run without them (``isolate_network=False``, ``isolate_filesystem=False``),
which shows the test can fail. The filesystem tests skip, saying why, where the OS refuses
the sandbox (``ProcessRuntime.filesystem_isolated`` is then False and the worker warns);
``REQUIRE_SANDBOX=1`` makes them fail instead.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import nanogrid
from harness import artifacts
from nanogrid.errors import PackageTampered
from nanogrid.runtime.base import Execution, ExecutionLimits
from nanogrid.runtime.process import ProcessRuntime
from nanogrid.settings import Limits
from nanogrid.worker.codecache import CodeCache
from tests.nanogrid.runtime.conftest import (
    SPAWN_SLEEPER,
    is_alive,
    require_sandbox,
    wait_until_sleeper_in,
)

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
    # The spawner runs (and so has a pid) only once a first function started. It is started
    # with a clean environment, so a process of the worker's user started with the
    # credentials (as the worker itself was) stands for the worker.
    assert run_source(runtime, code_dir, "pass\n").exit_code == 0
    with subprocess.Popen(["sleep", "60"], env=dict(os.environ)) as holder:
        try:
            pids = [os.getpid(), runtime.spawner.pid, os.getppid(), holder.pid]
            execution = run_source(runtime, code_dir, READ_ENVIRONS, pids)
        finally:
            holder.kill()
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
# It says it started through a file in /tmp, which it shares with the function alone.
DAEMONIZE = textwrap.dedent("""
    import json, os, sys, time
    token = json.load(sys.stdin)
    started = f"/tmp/{token}.started"
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            sleeper = f"import pathlib, time; pathlib.Path({started!r}).touch(); time.sleep(60)"
            os.execv(sys.executable, [sys.executable, "-c", sleeper, token])
        os._exit(0)
    os.wait()
    while not os.path.exists(started):
        time.sleep(0.01)
    print("daemon started", flush=True)
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
        assert execution.stdout == "daemon started\n", execution.stderr
        assert execution.timed_out == bool(tail)
        assert gone_within(token) == []
    finally:
        for pid in processes_with(token):  # an escaped daemon must not outlive the test
            os.kill(pid, 9)
        Path(f"/tmp/{token}.started").unlink(missing_ok=True)  # the host's /tmp, unsandboxed


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


@pytest.fixture
def sandboxed(runtime: ProcessRuntime) -> ProcessRuntime:
    require_sandbox(runtime)
    return runtime


# The attack of the incident: walk up from the working directory and rewrite every main.py.
REWRITE_EVERY_MAIN_PY = """
import json, os
rewritten = []
top = os.getcwd()
for _ in range(3):  # the code cache, the work directory, what holds it
    top = os.path.dirname(top)
for folder, _, names in os.walk(top):
    for name in names:
        if name == "main.py":
            path = os.path.join(folder, name)
            try:
                os.chmod(folder, 0o755)
                os.chmod(path, 0o644)
                with open(path, "w") as f:
                    f.write("print('pwned')\\n")
                rewritten.append(path)
            except OSError:
                pass
print(json.dumps(rewritten))
"""


@dataclass
class Worker:
    """A worker's files as a test lays them out: a code cache holding an attacker's and a
    victim's function, and files of the worker's user (a state file beside the cache, a
    log, a run directory's events, telemetry)."""

    cache: CodeCache
    attacker: Path
    victim: Path
    files: list[Path]


@pytest.fixture
def worker(tmp_path: Path) -> Worker:
    work = tmp_path / "work"
    cache = CodeCache(work / "code", Limits())
    attacker, _ = cache.put(artifacts.function_zip(REWRITE_EVERY_MAIN_PY))
    victim, _ = cache.put(artifacts.function_zip("print('victim')\n"))
    files = [
        work / "state.json",
        tmp_path / "logs" / "worker.log",
        tmp_path / "runs" / "r1" / "events.jsonl",
        tmp_path / "telemetry" / "spans.jsonl",
    ]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("the worker's\n")
    return Worker(cache, attacker, victim, files)


def test_a_function_cannot_rewrite_the_code_cache(
    sandboxed: ProcessRuntime, worker: Worker
) -> None:
    execution = sandboxed.run(worker.attacker, None, LIMITS)
    assert execution.exit_code == 0, execution.stderr
    assert json.loads(execution.stdout) == []
    victim = worker.cache.get(worker.victim.name)  # raises PackageTampered if changed
    assert victim is not None
    assert sandboxed.run(victim, None, LIMITS).stdout == "victim\n"
    assert worker.cache.get(worker.attacker.name) == worker.attacker


def test_without_the_sandbox_the_rewrite_works_and_the_cache_catches_it(worker: Worker) -> None:
    # The hole this sandbox closes, and the code cache's defence in depth behind it.
    with ProcessRuntime(isolate_filesystem=False) as runtime:
        execution = runtime.run(worker.attacker, None, LIMITS)
        assert str(worker.victim / "main.py") in json.loads(execution.stdout), execution.stderr
        assert runtime.run(worker.victim, None, LIMITS).stdout == "pwned\n"
    with pytest.raises(PackageTampered, match=r"changed: main\.py"):
        worker.cache.get(worker.victim.name)
    assert worker.cache.get(worker.victim.name) is None  # evicted: the agent extracts it again


# Appends to each path given (creating it if need be); reports what happened to each.
WRITE_ALL = """
    import errno, json, sys
    outcome = {}
    for path in json.load(sys.stdin):
        try:
            with open(path, "a") as f:
                f.write("pwned")
            outcome[path] = "written"
        except OSError as exc:
            outcome[path] = errno.errorcode.get(exc.errno or 0, str(exc))
    print(json.dumps(outcome))
"""


def test_a_function_cannot_write_the_workers_files(
    sandboxed: ProcessRuntime, worker: Worker, code_dir: Path
) -> None:
    token = uuid.uuid4().hex[:12]
    planted = [
        worker.cache.root.parent / f"planted-{token}",  # the work directory
        worker.cache.root / f"planted-{token}",  # the code cache
        worker.victim / "main.py",  # another function's code
        worker.victim / f"planted-{token}.py",
        Path.home() / f".planted-{token}",  # the worker's own home, not the function's
        Path(nanogrid.__file__).with_name(f"planted_{token}.py"),  # the worker's code
    ]
    targets = [*worker.files, *planted]
    try:
        execution = run_source(sandboxed, code_dir, WRITE_ALL, [str(p) for p in targets])
        assert execution.exit_code == 0, execution.stderr
        outcome = json.loads(execution.stdout)
        assert [path for path, what in outcome.items() if what == "written"] == []
        assert [p.read_text() for p in worker.files] == ["the worker's\n"] * len(worker.files)
        assert [p for p in planted[:2] + planted[3:] if p.exists()] == []
        assert worker.cache.get(worker.victim.name) == worker.victim
    finally:
        for path in planted[4:]:  # outside tmp_path: must not survive a failure
            path.unlink(missing_ok=True)


# Tries every way to write its own code: files, modes, and the mounts themselves.
WRITE_OWN_CODE = """
    import ctypes, errno, json, os
    libc = ctypes.CDLL(None, use_errno=True)
    MS_REMOUNT, MS_BIND, MNT_DETACH, CLONE_NEWUSER, CLONE_NEWNS = 32, 4096, 2, 0x10000000, 0x20000
    here = os.getcwd().encode()

    def syscall(result):
        return "done" if result == 0 else errno.errorcode[ctypes.get_errno()]

    def attempt(action):
        try:
            action()
            return "done"
        except OSError as exc:
            return errno.errorcode.get(exc.errno or 0, str(exc))

    def append():
        with open("main.py", "a") as f:
            f.write("pwned")

    found = {
        "append main.py": attempt(append),
        "create a file": attempt(lambda: open("planted.py", "w").close()),
        "chmod main.py": attempt(lambda: os.chmod("main.py", 0o666)),
        "remount read-write": syscall(libc.mount(None, here, None, MS_REMOUNT | MS_BIND, None)),
        "unmount": syscall(libc.umount2(here, MNT_DETACH)),
    }
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0:  # all capabilities, in a new namespace
        remount = libc.mount(None, here, None, MS_REMOUNT | MS_BIND, None)
        found["remount in a new namespace"] = syscall(remount)
        found["append main.py then"] = attempt(append)
    print(json.dumps(found))
"""


@pytest.mark.parametrize("isolate_filesystem", [True, False], ids=["sandboxed", "unsandboxed"])
def test_a_function_cannot_write_its_own_code(code_dir: Path, isolate_filesystem: bool) -> None:
    with ProcessRuntime(isolate_filesystem=isolate_filesystem) as runtime:
        if isolate_filesystem:
            require_sandbox(runtime)
        execution = run_source(runtime, code_dir, WRITE_OWN_CODE)
    assert execution.exit_code == 0, execution.stderr
    found = json.loads(execution.stdout)
    if isolate_filesystem:
        assert [what for what, outcome in found.items() if outcome == "done"] == [], found
        assert (code_dir / "main.py").read_text() == textwrap.dedent(WRITE_OWN_CODE).lstrip()
        assert not (code_dir / "planted.py").exists()
    else:  # the contrast: the same attack, on a writable code directory
        assert found["append main.py"] == "done"
        assert (code_dir / "main.py").read_text().endswith("pwned")


# Reads the environ of the worker's processes, writes their oom_score_adj (its own value
# back: harmless, but the OOM killer's choice), and appends to a host file through their root.
REACH_THROUGH_PROC = """
    import errno, json, sys
    given = json.load(sys.stdin)

    MODES = {"read": "rb", "rewrite": "r+", "append": "a"}

    def attempt(path, action):
        try:
            with open(path, MODES[action]) as f:
                if action == "rewrite":
                    value = f.read()
                    f.seek(0)
                    f.write(value)
                elif action == "append":
                    f.write("pwned")
                else:
                    f.read()
            return "done"
        except OSError as exc:
            return errno.errorcode.get(exc.errno or 0, str(exc))

    found = {}
    for pid in given["pids"]:
        found[f"{pid}/environ"] = attempt(f"/proc/{pid}/environ", "read")
        found[f"{pid}/oom_score_adj"] = attempt(f"/proc/{pid}/oom_score_adj", "rewrite")
        found[f"{pid}/root"] = attempt(f"/proc/{pid}/root{given['file']}", "append")
    print(json.dumps(found))
"""


@pytest.mark.parametrize("isolate_network", [True, False], ids=["sandboxed", "no-namespaces"])
def test_a_function_cannot_reach_the_worker_through_proc(
    worker: Worker, code_dir: Path, isolate_network: bool
) -> None:
    target = worker.files[0]
    with ProcessRuntime(isolate_network=isolate_network) as runtime:
        if isolate_network:
            require_sandbox(runtime)
        assert run_source(runtime, code_dir, "pass\n").exit_code == 0  # the spawner runs
        given = {"pids": [os.getpid(), runtime.spawner.pid], "file": str(target)}
        execution = run_source(runtime, code_dir, REACH_THROUGH_PROC, given)
    assert execution.exit_code == 0, execution.stderr
    found = json.loads(execution.stdout)
    if isolate_network:
        assert [entry for entry, outcome in found.items() if outcome == "done"] == [], found
        assert target.read_text() == "the worker's\n"
    else:  # the contrast: no namespace, same user, the worker's files through its /proc
        assert found[f"{os.getpid()}/root"] == "done"
        assert found[f"{os.getpid()}/oom_score_adj"] == "done"
        assert target.read_text().startswith("the worker's\npwned")


LEAVE_TRACES = """
    import json, os, sys, tempfile
    token = json.load(sys.stdin)
    places = ["/tmp", os.environ["TMPDIR"], os.environ["HOME"], "/dev/shm", tempfile.gettempdir()]
    for place in places:
        with open(os.path.join(place, token), "w") as f:
            f.write(token)
    print(json.dumps(sorted({os.path.realpath(place) for place in places})))
"""
LOOK_FOR_TRACES = """
    import json, os, sys
    token = json.load(sys.stdin)
    found = [os.path.join(folder, name) for place in ("/tmp", os.environ["HOME"], "/dev/shm")
             for folder, _, names in os.walk(place) for name in names if token in name]
    print(json.dumps(found))
"""


def test_scratch_and_tmp_are_writable_and_private_to_the_run(
    sandboxed: ProcessRuntime, code_dir: Path
) -> None:
    token = f"trace-{uuid.uuid4().hex}"
    first = run_source(sandboxed, code_dir, LEAVE_TRACES, token)
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout) == ["/dev/shm", "/scratch", "/tmp"]
    second = run_source(sandboxed, code_dir, LOOK_FOR_TRACES, token)
    assert second.exit_code == 0, second.stderr
    assert json.loads(second.stdout) == []
    assert not (Path("/tmp") / token).exists()  # nor did they reach the host's /tmp
    assert not (Path("/dev/shm") / token).exists()


# Lists the descriptors it holds beyond stdin, stdout and stderr.
OPEN_FDS = """
    import os
    def is_open(fd):
        try:
            os.fstat(fd)
            return True
        except OSError:
            return False
    print([fd for fd in range(3, 1024) if is_open(fd)])
"""


@pytest.mark.parametrize("isolate_filesystem", [True, False], ids=["sandboxed", "unsandboxed"])
def test_a_function_inherits_no_descriptor_of_the_worker(
    tmp_path: Path, code_dir: Path, isolate_filesystem: bool
) -> None:
    # With another run in flight, the spawner holds that run's socket and its own control
    # socket: a function holding either could kill other runs or start processes outside.
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.py").write_text(SPAWN_SLEEPER + "time.sleep(60)\n")
    with (
        ProcessRuntime(isolate_filesystem=isolate_filesystem) as runtime,
        ThreadPoolExecutor(1) as pool,
    ):
        pending = pool.submit(runtime.run, other, None, ExecutionLimits(256, 5.0))
        wait_until_sleeper_in(other)
        execution = run_source(runtime, code_dir, OPEN_FDS)
        runtime.close()  # ends the other run
        pending.exception(timeout=10)
    assert execution.exit_code == 0, execution.stderr
    assert execution.stdout == "[]\n"


PLANT_ABOVE = """
    import os
    wrote = []
    for folder in (os.path.dirname(os.getcwd()), os.path.dirname(os.path.dirname(os.getcwd()))):
        try:
            with open(os.path.join(folder, "planted"), "w") as f:
                f.write("x")
            wrote.append(folder)
        except OSError:
            pass
    with open("/tmp/mine", "w") as f:  # its own private /tmp stays writable
        f.write("x")
    print(len(wrote))
"""


@pytest.mark.parametrize("start", ["zygote", "interpreter"])
def test_code_below_tmp_leaves_the_folders_holding_it_read_only(start: str) -> None:
    # The worker's cache may live below /tmp (its default): the folders the sandbox makes on
    # the function's private /tmp to hold the code must not be the function's to write.
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp, ProcessRuntime(start=start) as runtime:
        require_sandbox(runtime)
        code = Path(tmp) / "work" / "cache" / "abc"
        code.mkdir(parents=True)
        execution = run_source(runtime, code, PLANT_ABOVE)
        assert execution.exit_code == 0, execution.stderr
        assert execution.stdout.strip() == "0"
        assert not list(Path(tmp).rglob("planted"))
