"""What one run's evidence says, read once: components, and each request's key facts.

:class:`RunFacts` names the component of every span and log line (``controller``,
``worker-N``, ``client``) and gives a :class:`RequestFacts` per request: its spans by step
(subscribe, send, process, publish, wait, response), its log events, its wire traffic, and
what its client saw. Rules read these, never raw evidence, and never what the harness
injected: there is no fault ledger and no scenario declaration here.

Everything is read through the evidence contract (:mod:`nanogrid.telemetry.semconv`):
log lines by their ``event`` field, spans by step and attribute, wire events by kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from harness.analysis.wire import WireFacts
from harness.evidence import CallRecord, ComponentLife, Evidence, log_time_ns
from harness.traces import SpanRecord
from harness.wire.model import KIND_COMMAND, KIND_MESSAGE, KIND_REPLY, WireEvent
from nanogrid.telemetry import semconv as sc

CLIENT = "client"
TERMINAL = ("SUCCESS", "FAILED")


def service_component(service: str) -> str:
    """``nanogrid-controller`` -> ``controller``; other names are kept."""
    return service.removeprefix("nanogrid-") or "unknown"


def log_component(line: dict[str, Any]) -> str:
    """A log line's component; a worker's id wins over the generic ``worker``."""
    component = str(line.get(sc.F_COMPONENT) or "unknown")
    worker = line.get(sc.F_WORKER_ID) or line.get("worker_id")
    return str(worker) if component == "worker" and worker else component


def message(line: dict[str, Any]) -> str:
    """The human wording of a log line (shown in reports, never matched by rules)."""
    return str(line.get("message", ""))


def event_of(line: dict[str, Any]) -> str:
    return str(line.get(sc.EVENT) or "")


def instance_of(span: SpanRecord) -> str:
    """The id of the process that wrote a span (``service.instance.id``, else its service)."""
    for item in span.raw_resource.get("attributes", []):
        if item.get("key") == sc.SERVICE_INSTANCE:
            return str(item.get("value", {}).get("stringValue", span.service))
    return span.service


def trace_id(request_id: str) -> str:
    """The trace id of a requestId ('' when it is not a UUID)."""
    try:
        return sc.trace_id_of(request_id)
    except ValueError:
        return ""


@dataclass
class RequestFacts:
    """One request: its call, spans, log lines and wire events, with accessors by step."""

    request_id: str
    call: CallRecord
    spans: list[SpanRecord]
    logs: list[dict[str, Any]]
    fetch: CallRecord | None = None  # GET /runs/{id} after the run, if made
    wire: list[WireEvent] = field(default_factory=list)  # events naming this request

    @property
    def fetched(self) -> dict[str, Any]:
        return self.fetch.body if self.fetch is not None else {}

    def named(self, step: str) -> list[SpanRecord]:
        """The spans of one step (``publish`` matches ``publish result:<id>``)."""
        return [s for s in self.spans if sc.step_of(s.name) == step]

    def first(self, step: str) -> SpanRecord | None:
        found = self.named(step)
        return found[0] if found else None

    def events(self, *names: str) -> list[dict[str, Any]]:
        """The log lines of these events, in time order."""
        return [line for line in self.logs if event_of(line) in names]

    def event(self, name: str) -> dict[str, Any] | None:
        found = self.events(name)
        return found[0] if found else None

    @cached_property
    def processes(self) -> list[SpanRecord]:
        return [s for s in self.named(sc.SPAN_PROCESS) if s.kind == 5 or "worker" in s.service]

    @cached_property
    def publishes(self) -> list[SpanRecord]:
        return self.named(sc.SPAN_PUBLISH)

    @property
    def client_status(self) -> str | None:
        return self.call.status

    @property
    def start_ns(self) -> int:
        return self.call.startNs or min((s.start_ns for s in self.spans), default=0)

    @property
    def end_ns(self) -> int:
        ends = [self.call.endNs, *(s.end_ns for s in self.spans)]
        ends += [log_time_ns(line) for line in self.logs]
        return max(ends)

    @cached_property
    def channel(self) -> str:
        return f"result:{self.request_id}"

    @cached_property
    def receivers(self) -> list[tuple[int, int]]:
        """(ts_ns, receiver count) of each PUBLISH: spans, else log events, else the wire."""
        found = [
            (s.start_ns, int(s.attributes[sc.PUBLISH_RECEIVERS]))
            for s in self.publishes
            if sc.PUBLISH_RECEIVERS in s.attributes
        ]
        if found:
            return found
        logged = [
            (log_time_ns(line), int(line[sc.F_RECEIVERS]))
            for line in self.events(sc.RESULT_PUBLISHED)
            if isinstance(line.get(sc.F_RECEIVERS), int)
        ]
        if logged:
            return logged
        return [
            (e.ts_ns, int(e.detail["receivers"]))
            for e in self.wire
            if e.kind == KIND_REPLY and e.name == "PUBLISH" and "receivers" in e.detail
        ]

    @cached_property
    def publish_ns(self) -> int:
        """When the worker first published the result (0: never seen)."""
        times = [s.start_ns for s in self.publishes]
        times += [log_time_ns(line) for line in self.events(sc.RESULT_PUBLISHING)]
        times += [
            e.ts_ns
            for e in self.wire
            if e.kind == KIND_COMMAND and e.name == "PUBLISH" and e.target == self.channel
        ]
        times += [t for t, _ in self.receivers]
        return min((t for t in times if t), default=0)

    @cached_property
    def published_status(self) -> str | None:
        """The status the worker published: stored result, DONE event, the wire, the client."""
        if "status" in self.fetched:
            return str(self.fetched["status"])
        for line in self.events(sc.TASK_DONE):
            return str(line.get(sc.F_STATUS))
        for e in self.wire:
            if e.kind == KIND_MESSAGE and e.target == self.channel and e.detail.get("status"):
                return str(e.detail["status"])
        for span in self.named(sc.SPAN_WAIT):
            for event in span.events:
                if event.name in (
                    sc.EV_MESSAGE_RECEIVED,
                    sc.EV_MESSAGE_IGNORED,
                    sc.EV_STORED_RESULT_READ,
                ):
                    return str(event.attributes.get("status"))
        if self.call.status in TERMINAL:
            return self.call.status
        return None

    @property
    def published_result(self) -> dict[str, Any] | None:
        """The result JSON the worker published, as the client or a later fetch saw it."""
        if "status" in self.fetched:
            return self.fetched
        if self.call.status in TERMINAL:
            return self.call.body
        return None

    def wait_events(self, name: str) -> list[tuple[int, dict[str, Any]]]:
        return [
            (e.ts_ns, e.attributes)
            for s in self.named(sc.SPAN_WAIT)
            for e in s.events
            if e.name == name
        ]

    @cached_property
    def deadline_ns(self) -> int:
        """When the controller stopped waiting for a result (0: it did not give up)."""
        if hit := self.wait_events(sc.EV_DEADLINE_HIT):
            return hit[0][0]
        if logged := self.events(sc.RUN_TIMEOUT):
            return log_time_ns(logged[0])
        if self.call.status == "TIMEOUT":
            return self.call.endNs
        return 0

    @cached_property
    def deadline_seconds(self) -> float | None:
        """The controller's own deadline, from its answer, its wait span or its log."""
        for value in (
            self.call.body.get("deadlineSeconds"),
            *(s.attributes.get(sc.DEADLINE_SECONDS) for s in self.named(sc.SPAN_WAIT)),
            *(line.get("deadlineSeconds") for line in self.events(sc.RUN_TIMEOUT)),
        ):
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
        return None

    @property
    def sent(self) -> bool | None:
        """Whether the task reached SQS; None when nothing says."""
        if any(not s.is_error for s in self.named(sc.SPAN_SEND)) or self.events(sc.TASK_SENT):
            return True
        if self.call.httpStatus is not None and self.call.httpStatus >= 500:
            return False
        return None

    @property
    def sent_ns(self) -> int:
        send = self.first(sc.SPAN_SEND)
        if send is not None:
            return send.end_ns
        logged = self.events(sc.TASK_SENT)
        return log_time_ns(logged[0]) if logged else self.start_ns

    @property
    def controller_recorded(self) -> bool:
        """Whether the controller's own view of the wait is in the evidence: its wait span,
        its log lines of this request, or its Redis traffic on the wire. Without it, that
        the result did not reach the controller is unknown rather than shown."""
        return (
            bool(self.named(sc.SPAN_WAIT))
            or any(log_component(line) == "controller" for line in self.logs)
            or any(e.path.startswith("controller") for e in self.wire)
        )

    def worker_seen(self, before: int = 0) -> bool:
        """A worker span or log line names this request (before ``before``, when given)."""
        limit = before or None
        return any(limit is None or s.start_ns <= limit for s in self.processes) or any(
            log_component(line).startswith("worker")
            and (limit is None or log_time_ns(line) <= limit)
            for line in self.logs
        )


class RunFacts:
    """The facts of a whole run (see the module docstring)."""

    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        self.log_index = {id(line): n for n, line in enumerate(evidence.logs)}
        self.wire = WireFacts(evidence.wire)
        self.components: list[ComponentLife] = list(evidence.components)
        self._instances = self._instance_components()
        self.requests = self._requests()

    def _instance_components(self) -> dict[str, str]:
        """Process instance -> component, from log lines that name a span of that process."""
        by_span: dict[str, str] = {}
        for line in self.evidence.logs:
            if line.get("span_id"):
                by_span[str(line["span_id"])] = log_component(line)
        found: dict[str, str] = {}
        for span in self.evidence.spans:
            if span.span_id in by_span:
                found.setdefault(instance_of(span), by_span[span.span_id])
        return found

    def component(self, span: SpanRecord) -> str:
        instance = instance_of(span)
        if instance in self._instances:
            return self._instances[instance]
        if instance != span.service:
            return instance
        return service_component(span.service)

    def _requests(self) -> list[RequestFacts]:
        fetched = {c.requestId: c for c in self.evidence.calls if c.kind == "fetch" and c.requestId}
        logs: dict[str, list[dict[str, Any]]] = {}
        for line in self.evidence.logs:
            if line.get(sc.F_REQUEST_ID):
                logs.setdefault(str(line[sc.F_REQUEST_ID]), []).append(line)
        spans: dict[str, list[SpanRecord]] = {}
        for span in self.evidence.spans:
            spans.setdefault(span.trace_id, []).append(span)
        out = []
        for call in self.evidence.runs:
            rid = call.requestId or ""
            lines = sorted(logs.get(rid, []), key=log_time_ns)
            mine = sorted(spans.get(trace_id(rid), []), key=lambda s: s.start_ns)
            wire = self.wire.naming(rid) if rid else []
            out.append(RequestFacts(rid, call, mine, lines, fetched.get(rid), wire))
        return out

    def events(self, *names: str) -> list[dict[str, Any]]:
        """Every log line of these events in the run (with or without a request)."""
        return [line for line in self.evidence.logs if event_of(line) in names]

    def spans(self, step: str) -> list[SpanRecord]:
        return [s for s in self.evidence.spans if sc.step_of(s.name) == step]

    def lives(self, prefix: str) -> list[ComponentLife]:
        """The supervisor's records of the components whose name starts with ``prefix``."""
        return [c for c in self.components if c.component.startswith(prefix)]

    @property
    def uploads(self) -> list[CallRecord]:
        return [c for c in self.evidence.calls if c.kind == "upload"]

    def log_ref(self, line: dict[str, Any]) -> str:
        return f"log-{self.log_index.get(id(line), 0)}"

    def wire_ref(self, event: WireEvent) -> str:
        return f"wire-{self.wire.index(event)}"


def span_ref(span: SpanRecord, edge: str = "start") -> str:
    return f"span-{span.span_id}-{edge}"


def fault_ref(index: int) -> str:
    return f"fault-{index}"


def call_ref(index: int, edge: str = "start") -> str:
    return f"call-{index}-{edge}"
