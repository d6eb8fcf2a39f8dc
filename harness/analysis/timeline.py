"""One request's spans, logs, faults and client calls merged on one clock.

Every row has the absolute time (``HH:MM:SS.mmm`` UTC, the memo's notation), the offset from
the request's start, the component, the event and its evidence. Gaps longer than
:data:`IDLE_GAP_NS` become one ``idle`` row. A step whose outcome the evidence does not show
(a task no worker reported receiving, a worker that never published) is an ``unknown`` row,
never a done one. :func:`memo_steps` condenses a request into the memo's four steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

from harness.analysis.facts import (
    CLIENT,
    RequestFacts,
    RunFacts,
    call_ref,
    fault_ref,
    log_component,
    message,
    span_ref,
)
from harness.analysis.memo import MemoStep, memo_steps
from harness.evidence import Evidence, log_time_ns
from harness.faults import EventKind
from harness.traces import SpanRecord, key_attributes

IDLE_GAP_NS = 1_000_000_000
_QUIET_LEDGER = (EventKind.CONNECTION_OPENED, EventKind.CONNECTION_CLOSED)
_HIT_EVENTS = (EventKind.FAULT_HIT, EventKind.MESSAGE_HIT, EventKind.CONNECTION_REFUSED)


@dataclass(frozen=True)
class TimelineRow:
    ts_ns: int
    offset_ms: float
    component: str
    kind: str  # span | event | log | wire | component | fault | call | idle | unknown
    event: str
    evidence: str
    ref: str = ""
    status: str = "done"  # done | error | unknown | idle


@dataclass(frozen=True)
class FaultInterval:
    """When a fault acted on a proxy; ``end_ns`` is None while it was never lifted."""

    proxy: str
    fault: str
    kind: str
    direction: str
    start_ns: int
    end_ns: int | None


@dataclass
class RequestTimeline:
    request_id: str
    start_ns: int
    end_ns: int
    rows: list[TimelineRow]
    steps: list[MemoStep]
    spans: list[SpanRecord] = field(default_factory=list)
    span_components: dict[str, str] = field(default_factory=dict)

    @property
    def components(self) -> list[str]:
        """Components in order of first appearance (idle and unknown rows excluded)."""
        seen: dict[str, None] = {}
        for row in self.rows:
            if row.kind != "idle":
                seen.setdefault(row.component, None)
        return list(seen)


@dataclass
class Timeline:
    requests: list[RequestTimeline]
    faults: list[FaultInterval]


def build_timeline(evidence: Evidence, facts: RunFacts | None = None) -> Timeline:
    """The timeline of every ``/run`` request of a run."""
    facts = facts or RunFacts(evidence)
    return Timeline([request_timeline(facts, r) for r in facts.requests], fault_intervals(evidence))


def request_timeline(facts: RunFacts, req: RequestFacts) -> RequestTimeline:
    start, end = req.start_ns, req.end_ns
    raw = [*_span_rows(facts, req), *_log_rows(facts, req), *_call_rows(facts, req)]
    raw += _fault_rows(facts, start, end)
    raw += _wire_rows(facts, req, start, end)
    raw += _component_rows(facts, start, end)
    raw.sort(key=lambda r: r[0])
    raw += _unknown_rows(facts, req, end)
    rows = [
        TimelineRow(ts, (ts - start) / 1e6, comp, kind, event, text, ref, status)
        for ts, comp, kind, event, text, ref, status in raw
    ]
    components = {s.span_id: facts.component(s) for s in req.spans}
    return RequestTimeline(
        req.request_id, start, end, _with_idle(rows), memo_steps(req), req.spans, components
    )


_Raw = tuple[int, str, str, str, str, str, str]


def _span_rows(facts: RunFacts, req: RequestFacts) -> Iterator[_Raw]:
    for span in req.spans:
        comp = facts.component(span)
        attrs = " ".join(f"{k}={v}" for k, v in key_attributes(span).items())
        status = "error" if span.is_error else "done"
        yield span.start_ns, comp, "span", f"▶ {span.name}", "", span_ref(span), "done"
        if not span.end_ns:
            text = "started, never finished (its process ended first)"
            yield req.end_ns, comp, "span", f"? {span.name}", text, span_ref(span), "unknown"
            continue
        ended = f"■ {span.name} ({span.duration_ns / 1e6:.1f} ms)"
        note = span.status_message or attrs
        yield span.end_ns, comp, "span", ended, note, span_ref(span, "end"), status
        for n, ev in enumerate(span.events):
            text = " ".join(
                f"{k}={v}" for k, v in ev.attributes.items() if k != "exception.stacktrace"
            )
            yield ev.ts_ns, comp, "event", f"· {ev.name}", text, span_ref(span, f"ev{n}"), "done"


def _log_rows(facts: RunFacts, req: RequestFacts) -> Iterator[_Raw]:
    for line in req.logs:
        level = str(line.get("level", "INFO"))
        status = "error" if level in ("ERROR", "CRITICAL") else "done"
        event = f"log {level}"
        yield (
            log_time_ns(line),
            log_component(line),
            "log",
            event,
            message(line),
            facts.log_ref(line),
            status,
        )


def _call_rows(facts: RunFacts, req: RequestFacts) -> Iterator[_Raw]:
    for index, call in enumerate(facts.evidence.calls):
        if call.requestId != req.request_id:
            continue
        label = {"run": "POST /run", "fetch": f"GET /runs/{req.request_id[:8]}"}.get(call.kind)
        label = label or call.kind
        yield call.startNs, CLIENT, "call", f"{label} sent", "", call_ref(index), "done"
        outcome = call.error or f"HTTP {call.httpStatus} status={call.status}"
        status = "error" if call.error or (call.httpStatus or 0) >= 500 else "done"
        yield (
            call.endNs,
            CLIENT,
            "call",
            f"{label} answered",
            outcome,
            call_ref(index, "end"),
            status,
        )


def _wire_rows(facts: RunFacts, req: RequestFacts, start: int, end: int) -> Iterator[_Raw]:
    """What the network saw, in its own lane per path: each call and its answer."""
    for call in facts.wire.calls:
        mine = req.request_id in call.target or start <= call.start_ns <= end
        if not mine or call.name in ("PING",):
            continue
        if call.answer is None:
            answer, status = "no answer", "unknown" if not call.closed_ns else "error"
        elif call.error:
            answer, status = call.error, "error"
        else:
            answer, status = f"answered in {call.duration_ns / 1e6:.1f} ms", "done"
            if call.receivers is not None:
                answer = f"receivers={call.receivers}"
        event = f"⇄ {call.name} {call.target}".strip()
        yield call.start_ns, call.path, "wire", event, answer, facts.wire_ref(call.request), status


def _component_rows(facts: RunFacts, start: int, end: int) -> Iterator[_Raw]:
    """The supervisor's view: components that exited during the request."""
    for life in facts.components:
        if life.ended_ns is None or not start <= life.ended_ns <= end:
            continue
        code = life.exit_code
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"status {code}"
        verb = "stopped" if life.stopped else "exited"
        status = "error" if life.crashed else "done"
        text = f"pid {life.pid} {verb}: {how}"
        yield life.ended_ns, life.component, "component", f"process {verb}", text, "", status


def _fault_rows(facts: RunFacts, start: int, end: int) -> Iterator[_Raw]:
    """The fault ledger, drawn for the reader: never evidence for a verdict."""
    for index, ev in enumerate(facts.evidence.ledger):
        if ev.event in _QUIET_LEDGER or not start <= ev.ts_ns <= end:
            continue
        parts = [str(ev.kind or ""), str(ev.direction or "")]
        if ev.connection is not None:
            parts.append(f"conn #{ev.connection}")
        parts += [f"{k}={v}" for k, v in ev.detail.items() if k != "name"]
        status = "error" if ev.event in _HIT_EVENTS else "done"
        text = " ".join(p for p in parts if p)
        event = f"{ev.event} {ev.fault or ''}".strip()
        yield ev.ts_ns, ev.proxy, "fault", event, text, fault_ref(index), status


def _unknown_rows(facts: RunFacts, req: RequestFacts, end: int) -> list[_Raw]:
    workers = [line for line in req.logs if log_component(line).startswith("worker")]
    received = bool(req.processes or workers)
    if req.sent and not received:
        text = "the task was sent; no worker reported receiving it"
        return [(end, "worker", "unknown", "worker outcome unknown", text, "", "unknown")]
    published = bool(req.publishes or req.receivers)
    if received and not published:
        text = "a worker received the task and never reported publishing a result"
        comp = log_component(workers[0]) if workers else facts.component(req.processes[0])
        return [(end, comp, "unknown", "result unknown", text, "", "unknown")]
    return []


def _with_idle(rows: list[TimelineRow]) -> list[TimelineRow]:
    out: list[TimelineRow] = []
    for row in rows:
        if out and row.kind != "unknown" and row.ts_ns - out[-1].ts_ns > IDLE_GAP_NS:
            gap = (row.ts_ns - out[-1].ts_ns) / 1e9
            prev = out[-1]
            out.append(
                TimelineRow(
                    prev.ts_ns, prev.offset_ms, "", "idle", f"idle {gap:.1f} s", "", "", "idle"
                )
            )
        out.append(row)
    return out


def fault_intervals(evidence: Evidence) -> list[FaultInterval]:
    """Intervals from fault_active (or fault_added) to fault_removed / fault_expired."""
    open_: dict[tuple[str, str], FaultInterval] = {}
    done: list[FaultInterval] = []
    for ev in evidence.ledger:
        if ev.fault is None:
            continue
        key = (ev.proxy, ev.fault)
        if ev.event in (EventKind.FAULT_ADDED, EventKind.FAULT_ACTIVE):
            began = open_.get(key)
            if ev.event is EventKind.FAULT_ACTIVE or began is None:
                kind, direction = str(ev.kind or ""), str(ev.direction or "")
                open_[key] = FaultInterval(ev.proxy, ev.fault, kind, direction, ev.ts_ns, None)
        elif ev.event in (EventKind.FAULT_REMOVED, EventKind.FAULT_EXPIRED) and key in open_:
            began = open_.pop(key)
            done.append(dataclasses.replace(began, end_ns=ev.ts_ns))
    return sorted([*done, *open_.values()], key=lambda i: i.start_ns)
