"""What one run's evidence says, read once: components, and each request's key facts.

:class:`RunFacts` names the component of every span and log line (``controller``,
``worker-N``, ``client``, or a fault proxy's name) and gives a :class:`RequestFacts` per
``/run`` call: its spans by role (subscribe, send, process, publish, wait, response), its
log lines, and what its client saw. Rules and the timeline read these, not raw evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from harness.evidence import CallRecord, Evidence, log_time_ns
from harness.faults import LedgerEvent
from harness.traces import SpanRecord

CLIENT = "client"
_SUBSCRIBERS = re.compile(r"subscribers=(\d+)")


def service_component(service: str) -> str:
    """``nanogrid-controller`` -> ``controller``; other names are kept."""
    return service.removeprefix("nanogrid-") or "unknown"


def log_component(line: dict[str, Any]) -> str:
    """A log line's component; a worker's id wins over the generic ``worker``."""
    component = str(line.get("component") or "unknown")
    worker = line.get("workerId") or line.get("worker_id")
    return str(worker) if component == "worker" and worker else component


def message(line: dict[str, Any]) -> str:
    return str(line.get("message", ""))


def instance_of(span: SpanRecord) -> str:
    """The id of the process that wrote a span (``service.instance.id``, else its service)."""
    for item in span.raw_resource.get("attributes", []):
        if item.get("key") == "service.instance.id":
            return str(item.get("value", {}).get("stringValue", span.service))
    return span.service


@dataclass
class RequestFacts:
    """One request: its call, spans and log lines, with accessors by role."""

    request_id: str
    call: CallRecord
    spans: list[SpanRecord]
    logs: list[dict[str, Any]]
    fetch: CallRecord | None = None  # GET /runs/{id} after the run, if made

    @property
    def fetched(self) -> dict[str, Any]:
        return self.fetch.body if self.fetch is not None else {}

    def named(self, prefix: str) -> list[SpanRecord]:
        return [s for s in self.spans if s.name == prefix or s.name.startswith(prefix + " ")]

    def first(self, prefix: str) -> SpanRecord | None:
        found = self.named(prefix)
        return found[0] if found else None

    def logs_with(self, needle: str) -> list[dict[str, Any]]:
        return [line for line in self.logs if needle in message(line)]

    @cached_property
    def processes(self) -> list[SpanRecord]:
        return [s for s in self.named("process") if s.kind == 5 or "worker" in s.service]

    @cached_property
    def publishes(self) -> list[SpanRecord]:
        return [s for s in self.named("publish") if "result:" in s.name]

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
    def receivers(self) -> list[tuple[int, int]]:
        """(ts_ns, PUBLISH receiver count) of each publish, from spans, else from logs."""
        found = [
            (s.end_ns, int(s.attributes["nanogrid.publish.receivers"]))
            for s in self.publishes
            if "nanogrid.publish.receivers" in s.attributes
        ]
        if found:
            return found
        return [
            (log_time_ns(line), int(m.group(1)))
            for line in self.logs_with("Result published successfully")
            if (m := _SUBSCRIBERS.search(message(line)))
        ]

    @cached_property
    def published_status(self) -> str | None:
        """The status the worker published: stored result, DONE log, or the controller's view."""
        if "status" in self.fetched:
            return str(self.fetched["status"])
        for line in self.logs_with("[DONE]["):
            return "SUCCESS" if "[DONE][OK]" in message(line) else "FAILED"
        for span in self.named("wait"):
            for event in span.events:
                if event.name in ("message received", "message ignored", "stored result read"):
                    return str(event.attributes.get("status"))
        if self.call.status in ("SUCCESS", "FAILED"):
            return self.call.status
        return None

    @property
    def published_result(self) -> dict[str, Any] | None:
        """The result JSON the worker published, as the client or a later fetch saw it."""
        if "status" in self.fetched:
            return self.fetched
        if self.call.status in ("SUCCESS", "FAILED"):
            return self.call.body
        return None

    def wait_events(self, name: str) -> list[tuple[int, dict[str, Any]]]:
        return [
            (e.ts_ns, e.attributes) for s in self.named("wait") for e in s.events if e.name == name
        ]

    @property
    def sent(self) -> bool | None:
        """Whether the task reached SQS; None when nothing says."""
        if self.first("send") or self.logs_with("message sent to SQS"):
            return True
        if self.call.httpStatus is not None and self.call.httpStatus >= 500:
            return False
        return None


class RunFacts:
    """The facts of a whole run (see the module docstring)."""

    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        self.log_index = {id(line): n for n, line in enumerate(evidence.logs)}
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
        return self._instances.get(instance_of(span)) or service_component(span.service)

    def _requests(self) -> list[RequestFacts]:
        fetched = {c.requestId: c for c in self.evidence.calls if c.kind == "fetch" and c.requestId}
        logs: dict[str, list[dict[str, Any]]] = {}
        for line in self.evidence.logs:
            if line.get("requestId"):
                logs.setdefault(str(line["requestId"]), []).append(line)
        spans: dict[str, list[SpanRecord]] = {}
        for span in self.evidence.spans:
            spans.setdefault(span.trace_id, []).append(span)
        out = []
        for call in self.evidence.runs:
            rid = call.requestId or ""
            trace_id = rid.replace("-", "").lower()
            lines = sorted(logs.get(rid, []), key=log_time_ns)
            out.append(RequestFacts(rid, call, spans.get(trace_id, []), lines, fetched.get(rid)))
        return out

    @property
    def uploads(self) -> list[CallRecord]:
        return [c for c in self.evidence.calls if c.kind == "upload"]

    @property
    def ledger(self) -> list[LedgerEvent]:
        return self.evidence.ledger

    def log_ref(self, line: dict[str, Any]) -> str:
        return f"log-{self.log_index.get(id(line), 0)}"


def span_ref(span: SpanRecord, edge: str = "start") -> str:
    return f"span-{span.span_id}-{edge}"


def fault_ref(index: int) -> str:
    return f"fault-{index}"


def call_ref(index: int, edge: str = "start") -> str:
    return f"call-{index}-{edge}"
