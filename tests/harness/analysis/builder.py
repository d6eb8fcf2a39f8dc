"""The evidence of one synthetic run, built piece by piece as NanoGrid records it.

:class:`RunBuilder` holds what a run directory holds (spans, JSON log lines, client calls,
wire events, component lives, and the fault ledger, which is ground truth and never
evidence) and adds each piece in the platform's own shape; times are milliseconds from
:data:`T0`. :func:`tests.harness.analysis.synth.request_run` uses it for a whole request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.evidence import CallRecord, ComponentLife, Evidence
from harness.faults import Direction, EventKind, FaultKind, LedgerEvent
from harness.traces import EventRecord, SpanRecord
from harness.wire.model import (
    DETAIL_BYTES_DOWNSTREAM,
    DETAIL_BYTES_UPSTREAM,
    DETAIL_COUNT,
    DETAIL_ERROR,
    DETAIL_LATENCY_NS,
    DETAIL_REQUEST_ID,
    DETAIL_SEQ,
    DETAIL_STATUS,
    DETAIL_TTFB_NS,
    DETAIL_TTLB_NS,
    DIRECTION_BOTH,
    DIRECTION_DOWNSTREAM,
    DIRECTION_UPSTREAM,
    KIND_CLOSED,
    KIND_COMMAND,
    KIND_ERROR,
    KIND_MESSAGE,
    KIND_REPLY,
    KIND_REQUEST,
    KIND_RESPONSE,
    KIND_SUBSCRIBED,
    PROTOCOL_HTTP,
    PROTOCOL_REDIS,
    WireEvent,
)
from nanogrid.telemetry import semconv as sc

T0 = 1_764_661_219_000_000_000  # 2025-12-02T07:40:19Z
MS = 1_000_000
CTL, WRK = "nanogrid-controller", "nanogrid-worker"
SPAN_KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}


def ns(ms: float) -> int:
    return T0 + int(ms * MS)


def iso(ms: float) -> str:
    moment = datetime.fromtimestamp(ns(ms) / 1e9, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _resource(service: str, instance: str | None) -> dict[str, Any]:
    attributes = [{"key": "service.name", "value": {"stringValue": service}}]
    if instance is not None:
        attributes.append({"key": sc.SERVICE_INSTANCE, "value": {"stringValue": instance}})
    return {"attributes": attributes}


@dataclass
class RunBuilder:
    """The evidence of one run under construction; :meth:`evidence` hands it over."""

    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    spans: list[SpanRecord] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    ledger: list[LedgerEvent] = field(default_factory=list)
    wire: list[WireEvent] = field(default_factory=list)
    components: list[ComponentLife] = field(default_factory=list)
    _seq: dict[tuple[str, int], int] = field(default_factory=dict, repr=False)

    @property
    def trace_id(self) -> str:
        return uuid.UUID(self.request_id).hex

    @property
    def channel(self) -> str:
        return f"result:{self.request_id}"

    def span(
        self,
        name: str,
        start: float,
        end: float = 0.0,
        *,
        service: str = CTL,
        instance: str | None = None,
        kind: str = "internal",
        attrs: dict[str, Any] | None = None,
        events: tuple[tuple[str, float, dict[str, Any]], ...] = (),
        error: str = "",
        open: bool = False,
    ) -> SpanRecord:
        """A span of this request's trace; ``open``: only its start record was written."""
        record = SpanRecord(
            trace_id=self.trace_id,
            span_id=uuid.uuid4().hex[:16],
            parent_span_id="",
            name=name,
            kind=SPAN_KINDS[kind],
            service=service,
            start_ns=ns(start),
            end_ns=0 if open else ns(end),
            status_code=2 if error else 0,
            status_message=error,
            attributes={sc.REQUEST_ID: self.request_id, **(attrs or {})},
            events=tuple(EventRecord(n, ns(t), a) for n, t, a in events),
            open=open,
            raw_resource=_resource(service, instance),
        )
        self.spans.append(record)
        return record

    def worker_span(
        self, name: str, start: float, end: float = 0.0, *, worker: str, **kw: Any
    ) -> SpanRecord:
        return self.span(name, start, end, service=WRK, instance=worker, **kw)

    def log(
        self,
        ms: float,
        component: str,
        event: str | None,
        message: str,
        level: str = "INFO",
        *,
        span: SpanRecord | None = None,
        request: bool = True,
        fields: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A JSON log line as :class:`nanogrid.logs.JsonFormatter` writes it, with the
        event's ``fields`` (named by ``sc.F_*`` where the contract names them): a worker's
        lines say ``component: worker`` and carry its ``workerId``; ``event`` None leaves the
        line with its message text only; ``request=False``: outside any request's scope."""
        line: dict[str, Any] = {
            "ts": iso(ms),
            "level": level,
            sc.F_COMPONENT: component,
            "message": message,
            sc.F_REQUEST_ID: self.request_id if request else "",
            "functionId": "fn" if request else "",
            "span_id": span.span_id if span else "",
        }
        if component.startswith("worker-"):
            line[sc.F_COMPONENT] = "worker"
            line[sc.F_WORKER_ID] = component
        if event is not None:
            line[sc.EVENT] = event
        line.update(fields or {})
        self.logs.append(line)
        return line

    def call(
        self,
        kind: str,
        start: float,
        end: float,
        status: int | None,
        body: dict[str, Any],
        error: str | None = None,
    ) -> CallRecord:
        record = CallRecord(
            kind,
            "fn",
            self.request_id if kind != "upload" else None,
            status,
            body,
            ns(start),
            ns(end),
            error,
        )
        self.calls.append(record)
        return record

    def exchange(
        self,
        ms: float,
        path: str,
        name: str,
        target: str = "",
        *,
        answer_ms: float | None = None,
        connection: int = 1,
        closed_ms: float | None = None,
        **answer: Any,
    ) -> None:
        """A command (``controller->redis``) or AWS request (``worker->s3``) on the wire and,
        at ``answer_ms``, its reply with ``answer`` as detail (``error=`` makes a Redis error
        reply, ``status=`` an HTTP status); ``closed_ms`` closes the connection."""
        redis = path.endswith("->redis")
        key = (path, connection)
        seq = self._seq.get(key, 0)
        self._seq[key] = seq + 1
        ask = KIND_COMMAND if redis else KIND_REQUEST
        self.wire_event(ms, path, ask, name, target, connection=connection, **{DETAIL_SEQ: seq})
        if answer_ms is not None:
            took = ns(answer_ms) - ns(ms)
            if not redis:
                kind = KIND_RESPONSE
                detail = {DETAIL_STATUS: 200, DETAIL_TTFB_NS: took, DETAIL_TTLB_NS: took}
            elif name == "SUBSCRIBE":
                kind, detail = KIND_SUBSCRIBED, {DETAIL_COUNT: 1, DETAIL_LATENCY_NS: took}
            else:
                kind = KIND_ERROR if DETAIL_ERROR in answer else KIND_REPLY
                detail = {DETAIL_LATENCY_NS: took}
            detail = {**detail, **answer, DETAIL_SEQ: seq}
            self.wire_event(answer_ms, path, kind, name, target, connection=connection, **detail)
        if closed_ms is not None:
            self.closed(closed_ms, path, connection)

    def closed(self, ms: float, path: str, connection: int = 1) -> None:
        sizes = {DETAIL_BYTES_UPSTREAM: 120, DETAIL_BYTES_DOWNSTREAM: 0}
        self.wire_event(ms, path, KIND_CLOSED, connection=connection, **sizes)

    def pushed(self, ms: float, status: str, connection: int = 1) -> None:
        """The result message Redis pushed to the controller's subscription."""
        detail = {DETAIL_STATUS: status, DETAIL_REQUEST_ID: self.request_id}
        path = "controller->redis"
        self.wire_event(
            ms, path, KIND_MESSAGE, "MESSAGE", self.channel, connection=connection, **detail
        )

    def wire_event(
        self,
        ms: float,
        path: str,
        kind: str,
        name: str = "",
        target: str = "",
        *,
        connection: int = 1,
        **detail: Any,
    ) -> WireEvent:
        """One decoded event on ``path``; its direction follows from its kind."""
        direction = {KIND_COMMAND: DIRECTION_UPSTREAM, KIND_REQUEST: DIRECTION_UPSTREAM}.get(
            kind, DIRECTION_BOTH if kind == KIND_CLOSED else DIRECTION_DOWNSTREAM
        )
        protocol = PROTOCOL_REDIS if path.endswith("->redis") else PROTOCOL_HTTP
        event = WireEvent(ns(ms), path, connection, direction, protocol, kind, name, target, detail)
        self.wire.append(event)
        return event

    def life(
        self,
        component: str,
        started_ms: float,
        ended_ms: float | None = None,
        exit_code: int | None = None,
        *,
        stopped: bool = False,
    ) -> ComponentLife:
        """The supervisor's record of one component (a negative exit code: killed by it)."""
        life = ComponentLife(
            component,
            4000 + len(self.components),
            ns(started_ms),
            None if ended_ms is None else ns(ended_ms),
            exit_code,
            stopped,
        )
        self.components.append(life)
        return life

    def fault(
        self, ms: float, proxy: str, event: EventKind, kind: FaultKind | None = None, **detail: Any
    ) -> None:
        """A fault-ledger entry: ground truth for grading, never evidence."""
        name = None if kind is None else f"{kind}-fault"
        direction = None if kind is None else Direction.BOTH
        self.ledger.append(
            LedgerEvent(
                ns(ms), proxy, event, name, kind, direction, detail.pop("connection", None), detail
            )
        )

    def evidence(self, scenario: str = "synthetic") -> Evidence:
        return Evidence(
            Path("/nonexistent"),
            {"name": scenario},
            self.calls,
            self.ledger,
            self.spans,
            self.logs,
            self.wire,
            self.components,
        )
