"""What every rule shares: the rule protocol and the evidence-item constructors.

Evidence items come from spans, log lines, wire events, the supervisor's component records
and the client's calls: what the system showed. There is no constructor for a fault-ledger
event: what the harness injected is never a verdict's evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from harness.analysis.facts import (
    CLIENT,
    RunFacts,
    call_ref,
    log_component,
    message,
    span_ref,
)
from harness.analysis.model import EvidenceItem, EvidenceKind, Phrase, Verdict, VerdictStatus, clock
from harness.analysis.wire import WireCall
from harness.evidence import CallRecord, ComponentLife, log_time_ns
from harness.traces import SpanRecord

CONFIRMED = VerdictStatus.CONFIRMED
RULED_OUT = VerdictStatus.RULED_OUT
UNKNOWN = VerdictStatus.UNKNOWN


class Rule(Protocol):
    """Decides one verdict code from a run's facts (``baseline`` is a healthy run's, or None)."""

    @property
    def code(self) -> str: ...

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict: ...


def phrase(key: str, en: str, **params: Any) -> Phrase:
    return Phrase(key, en, params)


def at(ts_ns: int) -> str:
    return clock(ts_ns)


def span_item(facts: RunFacts, span: SpanRecord, text: str = "", edge: str = "end") -> EvidenceItem:
    ts = span.end_ns if edge == "end" and span.end_ns else span.start_ns
    if not text:
        text = (
            f"{span.name} (started, never finished)"
            if not span.end_ns
            else f"{span.name} ({span.duration_ns / 1e6:.1f} ms)"
        )
    return EvidenceItem(ts, facts.component(span), EvidenceKind.SPAN, text, span_ref(span, edge))


def event_item(facts: RunFacts, span: SpanRecord, name: str) -> EvidenceItem | None:
    for n, ev in enumerate(span.events):
        if ev.name == name:
            attrs = " ".join(f"{k}={v}" for k, v in ev.attributes.items())
            text = f"{span.name} · {ev.name} {attrs}".strip()
            return EvidenceItem(
                ev.ts_ns, facts.component(span), EvidenceKind.SPAN, text, span_ref(span, f"ev{n}")
            )
    return None


def log_item(facts: RunFacts, line: dict[str, Any]) -> EvidenceItem:
    text = f"[{line.get('level', 'INFO')}] {message(line)}"
    return EvidenceItem(
        log_time_ns(line), log_component(line), EvidenceKind.LOG, text, facts.log_ref(line)
    )


def wire_item(facts: RunFacts, call: WireCall, text: str = "") -> EvidenceItem:
    if not text:
        if call.answer is None:
            answer = "no answer" + (f", connection closed at {at(call.closed_ns)}")
        else:
            answer = call.error or f"answered in {call.duration_ns / 1e6:.1f} ms"
            if call.receivers is not None:
                answer = f"receivers={call.receivers}"
        text = f"{call.path}: {call.name} {call.target} -> {answer}".replace("  ", " ")
    return EvidenceItem(
        call.start_ns, call.path, EvidenceKind.WIRE, text, facts.wire_ref(call.request)
    )


def life_item(life: ComponentLife) -> EvidenceItem:
    if life.ended_ns is None:
        text = f"{life.component} running (pid {life.pid})"
        return EvidenceItem(life.started_ns, life.component, EvidenceKind.COMPONENT, text, "")
    how = "stopped" if life.stopped else "exited"
    code = life.exit_code
    signal = f"killed by signal {-code}" if code is not None and code < 0 else f"status {code}"
    text = f"{life.component} (pid {life.pid}) {how}: {signal}"
    return EvidenceItem(life.ended_ns, life.component, EvidenceKind.COMPONENT, text, "")


def call_item(facts: RunFacts, call: CallRecord) -> EvidenceItem:
    index = next((n for n, c in enumerate(facts.evidence.calls) if c is call), 0)
    what = {"run": "POST /run", "upload": "POST /upload", "fetch": "GET /runs"}.get(
        call.kind, call.kind
    )
    shown = call.error or f"HTTP {call.httpStatus} {_body_summary(call.body)}"
    return EvidenceItem(
        call.endNs, CLIENT, EvidenceKind.CALL, f"{what} -> {shown}", call_ref(index, "end")
    )


def _body_summary(body: dict[str, Any]) -> str:
    if "status" in body:
        extra = {k: body[k] for k in ("stage", "errorType", "exitCode") if body.get(k) is not None}
        return f"status={body['status']} " + " ".join(f"{k}={v}" for k, v in extra.items())
    error = body.get("error")
    if isinstance(error, dict):
        return f"{error.get('code')}: {error.get('message')}"
    return ""


def verdict(
    code: str,
    status: VerdictStatus,
    evidence: Iterable[EvidenceItem | None],
    because: Iterable[Phrase],
    however: Iterable[Phrase] = (),
    **detail: Any,
) -> Verdict:
    items = sorted((e for e in evidence if e is not None), key=lambda e: e.ts_ns)
    return Verdict(code, status, items, list(because), list(however), detail)
