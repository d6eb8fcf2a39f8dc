"""Runs scenarios on a shared, proxied stack and writes each run's evidence to disk.

::

    with ScenarioHarness(Path("runs/scenarios")) as harness:
        run_dir = harness.run(scenario, scenario.variants[0], Path("runs/x/main"))
        evidence = harness_evidence.load(run_dir)

Between runs the stack is reset: faults cleared, results, stages and claims deleted, the
queues purged, and the controller or workers restarted when a run's knobs differ.

A run's evidence holds only that run: log lines written after its start mark (each log
file's offset is taken before the reset) and naming none of another run's requests, spans
of its own requests, wire events and component lifetimes of its own window. The window
closes when the workload has settled and in-flight work has finished, *before* the faults
are lifted, so nothing that happened after the faults were gone counts as this run's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import redis

from harness import traces
from harness.env.base import Backend
from harness.env.embedded import EmbeddedBackend
from harness.env.emulator import describe
from harness.evidence import (
    ACTIONS_FILE,
    COMPONENTS_FILE,
    FAULTS_FILE,
    SCENARIO_FILE,
    TRACE_FILE,
    WIRE_FILE,
    load,
    log_time_ns,
    write_environment,
    write_json_lines,
    write_logs,
    write_scenario,
)
from harness.faults import FaultLedger
from harness.provision import client_kwargs
from harness.scenario.client import ScenarioClient, new_function_id
from harness.scenario.model import Scenario, Variant
from harness.scenario.network import ProxiedNetwork
from harness.stack import Stack, StackConfig, wait_until
from harness.wire.model import (
    DETAIL_MESSAGE_IDS,
    DETAIL_SEQ,
    DETAIL_STATUS,
    KIND_CLOSED,
    KIND_REQUEST,
    KIND_RESPONSE,
    WireEvent,
    WireRecorder,
)
from nanogrid import defaults
from nanogrid.telemetry import REQUEST_ID
from nanogrid.telemetry import semconv as sc

logger = logging.getLogger(__name__)

#: Timings scaled down so that the catalogue runs in seconds (a controller deadline of 2 s).
SCENARIO_TIMINGS = {
    "NANOGRID_REDIS_CONNECT_TIMEOUT": "1",
    "NANOGRID_REDIS_SOCKET_TIMEOUT": "1",
}
SPAN_FLUSH_TIMEOUT = 10.0
#: Longest wait for in-flight work (a worker's deletion and metrics) before faults are lifted.
QUIESCE_TIMEOUT = 5.0
#: Knob variables and the name a component logs when the knob is active (``knob.active``
#: events; the controller's ``controller.ready`` lists its legacy knobs).
KNOBS = {
    "NANOGRID_KNOB_CRASH_MARKER": "crash",
    "NANOGRID_KNOB_SLOW_START": "slow_start",
    "NANOGRID_LEGACY_SUBSCRIBE_AFTER_SEND": "subscribe_after_send",
    "NANOGRID_LEGACY_PUBSUB_ONLY": "pubsub_only",
    "NANOGRID_LEGACY_IGNORE_FAILED": "ignore_failed",
    "NANOGRID_LEGACY_SKIP_VALIDATION": "skip_validation",
}


@dataclass
class RunMarks:
    """Where a run's evidence starts in every shared record."""

    ns: int
    logs: dict[Path, int]
    wire: int
    ledger: int


@dataclass
class Actions:
    """What the scenario did besides faults, and whether each took effect (ground truth)."""

    done: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, name: str, action: Callable[[], object], **detail: Any) -> None:
        entry: dict[str, Any] = {"action": name, "tsNs": time.time_ns(), **detail}
        try:
            action()
            entry["ok"] = True
        except Exception as exc:  # recorded: the scenario's check fails with this reason
            entry.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        with self._lock:
            self.done.append(entry)


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
        controller_command: str | None = None,
        worker_command: str | None = None,
    ) -> None:
        """``backend`` builds the environment from its run directory (embedded by default);
        ``runtime`` and ``worker_env`` (e.g. ``NANOGRID_DOCKER_IMAGE``) configure the workers;
        ``controller_command`` / ``worker_command`` replace a reference component by one
        under test (:mod:`harness.components`)."""
        self.root = root
        self.deadline = deadline
        self.make_backend = backend
        self.runtime = runtime
        self.worker_env = dict(worker_env or {})
        self.commands = (controller_command, worker_command)
        self._stack_ctx = contextlib.ExitStack()
        self.backend: Backend | None = None
        self.network: ProxiedNetwork | None = None
        self.stack: Stack | None = None
        self._previous: Variant | None = None
        self._wire_mark = 0  # where the current run's wire events begin

    def __enter__(self) -> ScenarioHarness:
        try:
            stack_dir = self.root / "stack"
            self.backend = self._stack_ctx.enter_context(self.make_backend(stack_dir))
            self.network = self._stack_ctx.enter_context(ProxiedNetwork(self.backend.endpoints))
            config = scenario_config(self.network, deadline=self.deadline, runtime=self.runtime)
            config.worker_env.update(self.worker_env)
            config.controller_command, config.worker_command = self.commands
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
        marks = self._marks()
        self._wire_mark = marks.wire
        self._reset(variant, run_dir)
        write_scenario(run_dir, {**scenario.to_dict(), "variant": variant.name})
        if self.backend is not None:
            write_environment(run_dir, {"emulator": describe(self.backend)})
        client = ScenarioClient(stack, run_dir)
        actions = Actions()
        request_ids: list[str] = []
        try:
            for spec in variant.faults:
                network.add(spec)
            if variant.fresh_connections:
                for path in sorted({spec.path for spec in variant.faults}):
                    actions.run("close_connections", _closer(network, path), path=path)
            request_ids = self._workload(scenario, client, actions)
            self._quiesce(run_dir, request_ids)
        finally:
            ended = time.time_ns()
            client.close()
            network.clear()
        FaultLedger(network.ledger.events[marks.ledger :]).write_jsonl(run_dir / FAULTS_FILE)
        write_json_lines(run_dir / ACTIONS_FILE, actions.done)
        self._collect(run_dir, request_ids, marks, ended)
        self._previous = variant
        return run_dir

    def _marks(self) -> RunMarks:
        stack, network = self._parts()
        offsets = {p: p.stat().st_size for p in sorted(stack.run_dir.glob("*.log"))}
        return RunMarks(time.time_ns(), offsets, network.wire.mark(), len(network.ledger.events))

    def _parts(self) -> tuple[Stack, ProxiedNetwork]:
        if self.stack is None or self.network is None:
            raise RuntimeError("ScenarioHarness not started: use it as a context manager")
        return self.stack, self.network

    def _workload(self, scenario: Scenario, client: ScenarioClient, actions: Actions) -> list[str]:
        """Deploy, run and settle; returns the request ids whose spans are evidence."""
        workload = scenario.workload
        deployed = client.deploy(workload, new_function_id(scenario.name))
        ids = [deployed.requestId] if deployed.requestId else []
        if not workload.run or (deployed.httpStatus is not None and deployed.httpStatus >= 300):
            return ids
        timer = None
        if workload.restart_redis_after is not None:
            backend = self.backend
            assert backend is not None
            timer = threading.Timer(
                workload.restart_redis_after,
                lambda: actions.run("restart_redis", backend.restart_redis),
            )
            timer.start()
        try:
            run = client.run(str(deployed.functionId))
        finally:
            if timer is not None:
                timer.join()
        client.settle(run, workload.settle_seconds if run.httpStatus == 202 else 0.0)
        if workload.await_redelivery_s:
            self._await_redelivery(workload.await_redelivery_s)
        return [*ids, *([run.requestId] if run.requestId else [])]

    def _await_redelivery(self, timeout: float) -> None:
        """Wait (bounded) until this run's wire shows a task delivered twice and a
        DeleteMessage answered after the second delivery."""
        _, network = self._parts()

        def redelivered() -> bool:
            return redelivery_settled(network.wire.since(self._wire_mark))

        wait_until(redelivered, timeout=timeout, interval=0.1)

    def _reset(self, variant: Variant, run_dir: Path) -> None:
        stack, network = self._parts()
        network.clear()
        clear_state(stack)
        worker_env = {
            k: v.replace("{run_dir}", str(run_dir)) for k, v in variant.worker_env.items()
        }
        fought = self._previous is not None and any(
            f.path.startswith("worker") for f in self._previous.faults
        )
        if fought or stack.workers_differ(worker_env, variant.workers):
            # A worker that fought a fault may still be retrying: killed (its spans are
            # written as they end, a kill loses none). Workers replaced for their knobs or
            # count stop first, and their last polls are answered before the run begins.
            stop_workers(stack, network, kill=fought)
        if any(var in KNOBS for var in variant.controller_env) and stack.controller is not None:
            stack.controller.stop()  # restarted: its ready line (with its knobs) is this run's
        # A worker that starts late on purpose is not waited for: the run must meet it late.
        slow_start = "NANOGRID_KNOB_SLOW_START" in variant.worker_env
        stack.ensure(
            variant.controller_env,
            worker_env,
            variant.workers,
            require_workers=not slow_start,
            # A component the harness was given is under test in every variant; otherwise a
            # variant may bring the controller whose behaviour it studies.
            controller_command=self.commands[0] or variant.controller_command,
        )

    def _quiesce(self, run_dir: Path, request_ids: list[str]) -> None:
        """Wait (bounded) until every started ``process`` span of the run's answered requests
        has ended or its worker has died: the worker's deletion and metrics, which follow the
        answer, are part of the run. A request that timed out had its settle time already."""
        stack, _ = self._parts()
        answered = {c.requestId for c in load(run_dir).calls if c.status in ("SUCCESS", "FAILED")}
        wanted = set(request_ids) & answered
        if not wanted:
            return

        def settled() -> bool:
            spans = traces.load_spans(stack.telemetry_dir)
            open_ = [
                s
                for s in spans
                if s.name.startswith(f"{sc.SPAN_PROCESS} ")
                and not s.end_ns
                and s.attributes.get(REQUEST_ID) in wanted
            ]
            dead = {w.name for w in stack.history if not w.alive}
            return all(_instance(s) in dead for s in open_)

        wait_until(settled, timeout=QUIESCE_TIMEOUT, interval=0.1)

    def _collect(self, run_dir: Path, request_ids: list[str], marks: RunMarks, ended: int) -> None:
        stack, network = self._parts()
        wanted = set(request_ids)
        completed = {c.requestId for c in load(run_dir).calls if c.status in ("SUCCESS", "FAILED")}
        spans: list[traces.SpanRecord] = []

        def flushed() -> bool:
            spans[:] = window_spans(stack, wanted, ended)
            roots = {
                s.attributes.get(REQUEST_ID) for s in spans if not s.parent_span_id and s.end_ns
            }
            processed = {
                s.attributes.get(REQUEST_ID)
                for s in spans
                if s.name.startswith(f"{sc.SPAN_PROCESS} ") and s.end_ns
            }
            return wanted <= roots and completed <= processed

        wait_until(flushed, timeout=SPAN_FLUSH_TIMEOUT, interval=0.1)
        write_window(run_dir, stack, network, marks, ended, spans, wanted)


#: Redis keys of in-flight and finished requests, deleted before each run.
STATE_KEYS = (f"{defaults.RESULT_PREFIX}*", f"{defaults.STAGE_PREFIX}*", "claim:*")
#: Log files of the backend's own services: not the platform's evidence.
SERVICE_LOGS = frozenset({"redis", "moto"})
#: Where the workers long-poll for tasks.
SQS_PATH = "worker->sqs"
#: Seconds beyond the workers' long-poll wait for SQS to answer a stopped worker's poll.
SETTLE_MARGIN = 5.0


def clear_state(stack: Stack) -> None:
    """Delete every result, stage and claim in Redis and drain both queues."""
    client = redis.Redis.from_url(stack.endpoints.redis_url, socket_timeout=5)
    try:
        for pattern in STATE_KEYS:
            if keys := list(client.scan_iter(match=pattern, count=500)):
                client.delete(*keys)
    finally:
        client.close()
    assert stack.provisioned is not None
    for url in (stack.provisioned.queue_url, stack.provisioned.dlq_url):
        drain(stack, url)


def window_spans(stack: Stack, wanted: Iterable[str], ended: int) -> list[traces.SpanRecord]:
    """The spans of the ``wanted`` requests started up to ``ended``."""
    every = traces.load_spans(stack.telemetry_dir)
    return [
        s for rid in wanted for s in traces.spans_for_request(every, rid) if s.start_ns <= ended
    ]


def write_window(
    run_dir: Path,
    stack: Stack,
    network: ProxiedNetwork,
    marks: RunMarks,
    ended: int,
    spans: list[traces.SpanRecord],
    wanted: set[str],
) -> None:
    """Write a run's window (``marks`` to ``ended``) of the shared records in the evidence
    contract's layout: the requests' spans, log lines, wire events, component lifetimes."""
    traces.write_otlp_jsonl(spans, run_dir / TRACE_FILE)
    write_logs(run_dir, log_lines(stack, marks, ended, wanted))
    wire = [e for e in network.wire.since(marks.wire) if e.ts_ns <= ended]
    WireRecorder(wire).write_jsonl(run_dir / WIRE_FILE)
    write_json_lines(run_dir / COMPONENTS_FILE, stack.lifetimes(marks.ns, ended))


def log_lines(stack: Stack, marks: RunMarks, ended: int, wanted: set[str]) -> list[dict[str, Any]]:
    """The components' JSON log lines written since ``marks``, up to ``ended``, naming no
    request outside ``wanted``, each with its ``source`` (the log file's component)."""
    lines: list[dict[str, Any]] = []
    for path in sorted(stack.run_dir.glob("*.log")):
        if path.stem in SERVICE_LOGS:
            continue
        for line in appended_json_lines(path, marks.logs.get(path, 0)):
            rid = line.get(sc.F_REQUEST_ID)
            if rid and rid not in wanted:
                continue
            if log_time_ns(line) <= ended:
                lines.append({**line, "source": path.stem})
    return sorted(lines, key=lambda line: str(line.get("ts", "")))


def stop_workers(stack: Stack, network: ProxiedNetwork, *, kill: bool) -> None:
    """Stop (or kill) every worker, then wait until SQS has answered their last long polls
    (seen on the wire): a poll still open when its worker died would take the next run's
    task. Polls still unanswered after the wait have their connections closed."""
    for worker in stack.workers:
        if kill:
            worker.kill()
        else:
            worker.stop()
    timeout = stack.config.poll_wait + SETTLE_MARGIN
    if not wait_until(lambda: not unanswered(network.wire.events), timeout, 0.05):
        logger.warning("a stopped worker's SQS poll was unanswered after %.0fs", timeout)
        network.close_connections(SQS_PATH, "the worker that sent it is gone")


def unanswered(events: list[WireEvent], path: str = SQS_PATH) -> bool:
    """Whether a request on ``path`` still waits for its response on an open connection."""
    waiting: dict[int, set[object]] = {}
    for event in events:
        if event.path != path:
            continue
        seq = event.detail.get(DETAIL_SEQ)
        if event.kind == KIND_REQUEST:
            waiting.setdefault(event.connection, set()).add(seq)
        elif event.kind == KIND_RESPONSE:
            waiting.get(event.connection, set()).discard(seq)
        elif event.kind == KIND_CLOSED:
            waiting.pop(event.connection, None)
    return any(waiting.values())


def redelivery_settled(events: list[WireEvent]) -> bool:
    """Whether some SQS message was delivered to the workers twice and a DeleteMessage was
    answered 200 after its second delivery (on the workers' wire)."""
    deliveries: dict[str, list[int]] = {}
    deleted: list[int] = []
    for e in events:
        if not e.path.startswith("worker") or e.kind != KIND_RESPONSE:
            continue
        if e.name == "SQS.ReceiveMessage":
            for mid in e.detail.get(DETAIL_MESSAGE_IDS) or []:
                deliveries.setdefault(str(mid), []).append(e.ts_ns)
        elif e.name == "SQS.DeleteMessage" and e.detail.get(DETAIL_STATUS) == 200:
            deleted.append(e.ts_ns)
    return any(
        len(times) >= 2 and any(t > times[1] for t in deleted) for times in deliveries.values()
    )


def _closer(network: ProxiedNetwork, path: str) -> Callable[[], None]:
    def close() -> None:
        network.close_connections(path, "client reconnects (fresh_connections)")

    return close


def _instance(span: traces.SpanRecord) -> str:
    for item in span.raw_resource.get("attributes", []):
        if item.get("key") == sc.SERVICE_INSTANCE:
            return str(item.get("value", {}).get("stringValue", ""))
    return ""


def appended_json_lines(path: Path, offset: int) -> list[dict[str, Any]]:
    """The JSON objects of the lines appended to ``path`` after byte ``offset``."""
    out = []
    with path.open("rb") as stream:
        stream.seek(offset)
        for raw in stream:
            if not raw.startswith(b"{"):
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
    return out
