"""Load without loss: hundreds of concurrent ``/run`` calls, a Redis restart, a killed worker.

Each test drives its own stack (two workers) with ``CALLS`` calls at ``CONCURRENCY``, and
checks that no request is lost and none runs twice: the function appends its requestId and
its working directory (the code cache of the worker that runs it) to a file the test owns,
as its last act, so every execution that reached its end is on record with its worker. Each test
prints its figures (runs/s, p50/p99, TIMEOUTs recovered later); none gates on them.
"""

from __future__ import annotations

import os
import signal
import statistics
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import artifacts
from harness.env.embedded import EmbeddedBackend
from harness.stack import Stack, StackConfig, wait_until

CALLS = 300
CONCURRENCY = 30
#: How long a TIMEOUT's result may take to appear at /runs/{requestId} afterwards.
RECOVERY_SECONDS = 60.0


def recording_source(ledger: Path) -> str:
    """A function that, as its last act, appends ``requestId cwd`` to ``ledger``."""
    return textwrap.dedent(
        f"""\
        import os
        line = f"{{os.environ['NANOGRID_REQUEST_ID']}} {{os.getcwd()}}\\n".encode()
        fd = os.open({str(ledger)!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(fd, line)
        os.close(fd)
        print("done")
        """
    )


@dataclass
class Call:
    """One ``/run`` call as the client saw it."""

    status_code: int
    body: dict[str, Any]
    seconds: float


@dataclass
class Load:
    """The outcome of a load: every call, the wall time, and the ledger of executions."""

    calls: list[Call]
    wall_seconds: float
    ledger: Path
    recovered: dict[str, dict[str, Any]] = field(default_factory=dict)

    def executions(self) -> list[tuple[str, str]]:
        """(requestId, worker name) of every execution that reached its end."""
        lines = self.ledger.read_text().splitlines() if self.ledger.exists() else []
        # The code directory is <run dir>/work/<worker name>/code/<sha256>.
        return [
            (rid, Path(cwd).parents[1].name) for rid, cwd in (line.split(" ", 1) for line in lines)
        ]

    def figures(self, name: str) -> str:
        latencies = sorted(c.seconds * 1000 for c in self.calls)
        p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
        statuses = Counter(str(c.body.get("status", c.status_code)) for c in self.calls)
        return (
            f"\n[load] {name}: {len(self.calls)} calls at concurrency {CONCURRENCY} in "
            f"{self.wall_seconds:.1f}s = {len(self.calls) / self.wall_seconds:.1f} runs/s; "
            f"p50 {statistics.median(latencies):.0f} ms, p99 {p99:.0f} ms; "
            f"statuses {dict(statuses)}; TIMEOUT then recovered: {len(self.recovered)}"
        )


@pytest.fixture
def load_stack(tmp_path: Path) -> Iterator[Callable[[StackConfig], Stack]]:
    """Starts a fresh backend and stack of the given config; stops both at the end.

    Its functions may write ``tmp_path / "shared"``, where the ledger is (nothing else:
    they run sandboxed).
    """
    opened: list[Any] = []
    (tmp_path / "shared").mkdir()

    def start(config: StackConfig) -> Stack:
        shared = {"NANOGRID_KNOB_SHARED_DIR": str(tmp_path / "shared")}
        config = replace(config, worker_env={**config.worker_env, **shared})
        backend = EmbeddedBackend(tmp_path / "backend").__enter__()
        opened.append(backend)
        stack = Stack(backend, tmp_path / "stack", config).__enter__()
        opened.append(stack)
        return stack

    yield start
    for item in reversed(opened):
        item.__exit__(None, None, None)


def upload(http: httpx.Client, ledger: Path) -> str:
    files = {"file": ("f.zip", artifacts.function_zip(recording_source(ledger)), "application/zip")}
    resp = http.post("/upload", files=files, data={"functionId": "recorded"})
    assert resp.status_code == 201, resp.text
    return "recorded"


def client(stack: Stack) -> httpx.Client:
    limits = httpx.Limits(max_connections=CONCURRENCY + 5)
    return httpx.Client(base_url=stack.controller_url, timeout=120, limits=limits)


def drive(http: httpx.Client, ledger: Path, midway: Callable[[], None] | None = None) -> Load:
    """Run ``CALLS`` calls at ``CONCURRENCY``; ``midway`` runs once half of them answered."""
    function_id = upload(http, ledger)
    half, answered, lock = threading.Event(), [0], threading.Lock()

    def one(i: int) -> Call:
        began = time.monotonic()
        resp = http.post("/run", json={"functionId": function_id, "inputData": {"i": i}})
        call = Call(resp.status_code, resp.json(), time.monotonic() - began)
        with lock:
            answered[0] += 1
            if answered[0] == CALLS // 2:
                half.set()
        return call

    began = time.monotonic()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        futures = [pool.submit(one, i) for i in range(CALLS)]
        if midway is not None:
            assert half.wait(timeout=120), "half of the calls never answered"
            midway()
        calls = [f.result() for f in futures]
    return Load(calls, time.monotonic() - began, ledger)


def recover_timeouts(load: Load, http: httpx.Client) -> None:
    """Poll ``/runs/{requestId}`` of every TIMEOUT until its result appears (bounded)."""
    for call in load.calls:
        if call.body.get("status") != "TIMEOUT":
            continue
        rid = call.body["requestId"]

        def stored(rid: str = rid) -> bool:
            body = http.get(f"/runs/{rid}").json()
            if body.get("status") in ("SUCCESS", "FAILED"):
                load.recovered[rid] = body
                return True
            return False

        assert wait_until(stored, timeout=RECOVERY_SECONDS, interval=0.2), f"{rid} was lost"


def final_results(load: Load) -> dict[str, dict[str, Any]]:
    """requestId -> the result the client ended up with (answered, or recovered later)."""
    results = {c.body["requestId"]: c.body for c in load.calls if "requestId" in c.body}
    results.update(load.recovered)
    return results


def assert_every_call_ended(load: Load) -> None:
    unexpected = [c for c in load.calls if c.status_code not in (200, 202)]
    assert not unexpected, unexpected[:5]
    assert len(final_results(load)) == CALLS  # one distinct requestId per call


def test_load_every_call_succeeds_and_can_be_fetched_again(load_stack, tmp_path, capsys):
    stack = load_stack(StackConfig(workers=2, run_deadline=30.0, visibility_timeout=10))
    with client(stack) as http:
        load = drive(http, tmp_path / "shared" / "ledger.txt")
        assert_every_call_ended(load)
        assert [c.body["status"] for c in load.calls] == ["SUCCESS"] * CALLS
        for call in load.calls:
            again = http.get(f"/runs/{call.body['requestId']}")
            assert again.status_code == 200
            assert again.json() == call.body
    executed = Counter(rid for rid, _ in load.executions())
    assert executed == Counter({rid: 1 for rid in final_results(load)})
    with capsys.disabled():
        print(load.figures("two workers"))


def test_load_through_a_redis_restart_loses_nothing(load_stack, tmp_path, capsys):
    stack = load_stack(StackConfig(workers=2, run_deadline=30.0, visibility_timeout=5))
    with client(stack) as http:
        load = drive(http, tmp_path / "shared" / "ledger.txt", midway=stack.backend.restart_redis)
        assert_every_call_ended(load)
        recover_timeouts(load, http)
    results = final_results(load)
    assert {r["status"] for r in results.values()} == {"SUCCESS"}
    executed = Counter(rid for rid, _ in load.executions())
    assert executed == Counter({rid: 1 for rid in results})
    with capsys.disabled():
        print(load.figures("Redis restarted midway"))


def test_load_with_a_worker_killed_midway_loses_nothing_and_runs_nothing_twice(
    load_stack, tmp_path, capsys
):
    stack = load_stack(StackConfig(workers=2, run_deadline=30.0, visibility_timeout=5))
    victim, survivor = stack.workers
    with client(stack) as http:
        kill = lambda: os.kill(victim.pid, signal.SIGKILL)  # noqa: E731
        load = drive(http, tmp_path / "shared" / "ledger.txt", midway=kill)
        assert_every_call_ended(load)
        recover_timeouts(load, http)
    assert not victim.alive
    results = final_results(load)
    assert {r["status"] for r in results.values()} == {"SUCCESS"}
    by_request: dict[str, list[str]] = {rid: [] for rid in results}
    for rid, worker in load.executions():
        by_request[rid].append(worker)
    for rid, ran_on in by_request.items():
        # The killed worker's run may have reached its end and died before publishing: then
        # the survivor ran it again. Otherwise each request ran to its end exactly once,
        # on the worker whose result the client got.
        assert ran_on.count(survivor.name) <= 1, (rid, ran_on)
        assert ran_on.count(victim.name) <= 1, (rid, ran_on)
        assert results[rid]["workerId"] in ran_on, (rid, ran_on, results[rid]["workerId"])
        if len(ran_on) == 2:
            assert results[rid]["workerId"] == survivor.name, (rid, ran_on)
    with capsys.disabled():
        print(load.figures("one worker SIGKILLed midway"))
