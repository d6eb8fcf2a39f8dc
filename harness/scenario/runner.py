"""Runs scenarios on a shared, proxied stack and writes each run's evidence to disk.

::

    with ScenarioHarness(Path("runs/scenarios")) as harness:
        run_dir = harness.run(scenario, scenario.variants[0], Path("runs/x/main"))
        evidence = harness_evidence.load(run_dir)

Between runs the stack is reset: faults cleared, results, stages and claims deleted, the
queues purged, and the controller or workers restarted when a run's knobs differ.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import boto3
import redis

from harness import traces
from harness.env.base import Backend
from harness.env.embedded import EmbeddedBackend
from harness.evidence import (
    FAULTS_FILE,
    SCENARIO_FILE,
    TRACE_FILE,
    load,
    log_time_ns,
    read_json_lines,
    write_logs,
    write_scenario,
)
from harness.faults import FaultLedger
from harness.provision import client_kwargs
from harness.scenario.client import ScenarioClient, new_function_id
from harness.scenario.model import Scenario, Variant
from harness.scenario.network import ProxiedNetwork
from harness.stack import Stack, StackConfig, wait_until
from nanogrid.telemetry import REQUEST_ID

#: Timings scaled down so that the catalogue runs in seconds (a controller deadline of 2 s).
SCENARIO_TIMINGS = {
    "NANOGRID_REDIS_CONNECT_TIMEOUT": "1",
    "NANOGRID_REDIS_SOCKET_TIMEOUT": "1",
}
SPAN_FLUSH_TIMEOUT = 10.0


def scenario_config(
    network: ProxiedNetwork, workers: int = 2, deadline: float = 2.0, runtime: str = "process"
) -> StackConfig:
    return StackConfig(
        workers=workers,
        runtime=runtime,
        run_deadline=deadline,
        visibility_timeout=2,
        poll_wait=1,
        min_workers=0,
        controller_env={**SCENARIO_TIMINGS, **network.env_for("controller")},
        worker_env={**SCENARIO_TIMINGS, **network.env_for("worker")},
    )


def drain(stack: Stack, queue_url: str) -> int:
    """Delete every visible message (PurgeQueue is limited to one call a minute)."""
    sqs = boto3.client("sqs", **client_kwargs(stack.endpoints))
    drained = 0
    while True:
        resp = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = resp.get("Messages", [])
        if not messages:
            return drained
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
        ]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]
        drained += len(messages)


class ScenarioHarness:
    """The embedded backend, the fault proxies and the platform, for a series of runs."""

    def __init__(
        self,
        root: Path,
        deadline: float = 2.0,
        backend: Callable[[Path], Backend] = EmbeddedBackend,
        runtime: str = "process",
        worker_env: dict[str, str] | None = None,
    ) -> None:
        """``backend`` builds the environment from its run directory (embedded by default);
        ``runtime`` and ``worker_env`` (e.g. ``NANOGRID_DOCKER_IMAGE``) configure the workers."""
        self.root = root
        self.deadline = deadline
        self.make_backend = backend
        self.runtime = runtime
        self.worker_env = dict(worker_env or {})
        self._stack_ctx = contextlib.ExitStack()
        self.backend: Backend | None = None
        self.network: ProxiedNetwork | None = None
        self.stack: Stack | None = None
        self._previous: Variant | None = None

    def __enter__(self) -> ScenarioHarness:
        try:
            stack_dir = self.root / "stack"
            self.backend = self._stack_ctx.enter_context(self.make_backend(stack_dir))
            self.network = self._stack_ctx.enter_context(ProxiedNetwork(self.backend.endpoints))
            config = scenario_config(self.network, deadline=self.deadline, runtime=self.runtime)
            config.worker_env.update(self.worker_env)
            self.stack = self._stack_ctx.enter_context(Stack(self.backend, stack_dir, config))
        except BaseException:
            self._stack_ctx.close()
            raise
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack_ctx.close()

    def run(self, scenario: Scenario, variant: Variant, run_dir: Path) -> Path:
        """Run one variant and write its evidence to ``run_dir``; returns ``run_dir``."""
        stack, network = self._parts()
        if (run_dir / SCENARIO_FILE).exists():  # evidence of an earlier run: start afresh
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        self._reset(variant, run_dir)
        write_scenario(run_dir, {**scenario.to_dict(), "variant": variant.name})
        mark = len(network.ledger.events)
        started = time.time_ns()
        client = ScenarioClient(stack, run_dir)
        try:
            for spec in variant.faults:
                network.add(spec)
            if variant.fresh_connections:
                for path in {spec.path for spec in variant.faults}:
                    network.proxies[path].close_connections("client reconnects (fresh_connections)")
            request_ids = self._workload(scenario, client)
        finally:
            client.close()
            network.clear()
        FaultLedger(network.ledger.events[mark:]).write_jsonl(run_dir / FAULTS_FILE)
        self._collect(run_dir, request_ids, started)
        self._previous = variant
        return run_dir

    def _parts(self) -> tuple[Stack, ProxiedNetwork]:
        if self.stack is None or self.network is None:
            raise RuntimeError("ScenarioHarness not started: use it as a context manager")
        return self.stack, self.network

    def _workload(self, scenario: Scenario, client: ScenarioClient) -> list[str]:
        """Deploy, run and settle; returns the request ids whose spans are evidence."""
        workload = scenario.workload
        deployed = client.deploy(workload, new_function_id(scenario.name))
        ids = [deployed.requestId] if deployed.requestId else []
        if not workload.run or (deployed.httpStatus is not None and deployed.httpStatus >= 300):
            return ids
        timer = None
        if workload.restart_redis_after is not None:
            assert self.backend is not None
            timer = threading.Timer(workload.restart_redis_after, self.backend.restart_redis)
            timer.start()
        try:
            run = client.run(str(deployed.functionId))
        finally:
            if timer is not None:
                timer.join()
        client.settle(run, workload.settle_seconds if run.httpStatus == 202 else 0.0)
        return [*ids, *([run.requestId] if run.requestId else [])]

    def _reset(self, variant: Variant, run_dir: Path) -> None:
        stack, network = self._parts()
        network.clear()
        self._clear_state(stack)
        worker_env = {
            k: v.replace("{run_dir}", str(run_dir)) for k, v in variant.worker_env.items()
        }
        if self._previous is not None and any(
            f.path.startswith("worker") for f in self._previous.faults
        ):
            for worker in stack.workers:  # a worker that fought a fault may still be retrying
                worker.stop()
        stack.ensure(variant.controller_env, worker_env, variant.workers)

    def _clear_state(self, stack: Stack) -> None:
        client = redis.Redis.from_url(stack.endpoints.redis_url, socket_timeout=5)
        try:
            for pattern in ("result:*", "stage:*", "claim:*"):
                keys = list(client.scan_iter(match=pattern, count=500))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()
        assert stack.provisioned is not None
        for url in (stack.provisioned.queue_url, stack.provisioned.dlq_url):
            drain(stack, url)

    def _collect(self, run_dir: Path, request_ids: list[str], started: int) -> None:
        stack, _ = self._parts()
        wanted = set(request_ids)
        completed = {c.requestId for c in load(run_dir).calls if c.status in ("SUCCESS", "FAILED")}
        spans: list[traces.SpanRecord] = []

        def flushed() -> bool:
            every = traces.load_spans(stack.telemetry_dir)
            spans[:] = [s for rid in wanted for s in traces.spans_for_request(every, rid)]
            roots = {s.attributes.get(REQUEST_ID) for s in spans if not s.parent_span_id}
            processed = {
                s.attributes.get(REQUEST_ID) for s in spans if s.name.startswith("process ")
            }
            return wanted <= roots and completed <= processed

        wait_until(flushed, timeout=SPAN_FLUSH_TIMEOUT, interval=0.1)
        traces.write_otlp_jsonl(spans, run_dir / TRACE_FILE)
        write_logs(run_dir, self._log_lines(started, time.time_ns()))

    def _log_lines(self, start_ns: int, end_ns: int) -> list[dict[str, object]]:
        stack, _ = self._parts()
        lines = []
        for path in sorted(stack.run_dir.glob("*.log")):
            if path.stem in ("redis", "moto"):
                continue
            for line in read_json_lines(path):
                if start_ns - 200_000_000 <= log_time_ns(line) <= end_ns:
                    lines.append({**line, "source": path.stem})
        return sorted(lines, key=lambda line: str(line.get("ts", "")))
