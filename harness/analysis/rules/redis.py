"""REDIS_UNREACHABLE: which component could not reach Redis, and how it failed.

The symptom tells a security group from a dead server: ``refused`` (RST on connect: nothing
listens), ``connect_timeout`` (SYNs dropped, as a security group does), ``blackhole``
(connected but silent: the subscribe confirmation or a read timed out), ``reset`` (RST
mid-stream). Measured symptoms (the client's 503, log lines, span events) come first; the
fault ledger's hits on a ``*->redis`` proxy support them.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analysis.facts import RunFacts, log_component, message
from harness.analysis.model import EvidenceItem, Verdict
from harness.analysis.rules.base import (
    CONFIRMED,
    RULED_OUT,
    UNKNOWN,
    at,
    call_item,
    event_item,
    fault_item,
    log_item,
    phrase,
    span_item,
    verdict,
)
from harness.faults import EventKind

_KIND_SYMPTOM = {
    "down": "refused",
    "connect_timeout": "connect_timeout",
    "blackhole": "blackhole",
    "reset": "reset",
}
_LOG_NEEDLES = ("dependency unavailable: redis", "[REDIS] publish failed", "could not record stage")


def symptom_of(text: str) -> str:
    """The symptom a Redis error message shows."""
    low = text.lower()
    if "refused" in low:
        return "refused"
    if "no subscribe confirmation" in low:
        return "blackhole"
    if "timed out" in low or "timeout" in low:
        return "connect_timeout" if "connect" in low else "blackhole"
    if "reset" in low or "closed" in low or "broken pipe" in low:
        return "reset"
    return "other"


@dataclass(frozen=True)
class Sighting:
    item: EvidenceItem
    component: str
    symptom: str
    measured: bool  # seen by a component, not only by the fault proxy


class RedisUnreachable:
    code = "REDIS_UNREACHABLE"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        seen = self._measured(facts) + self._ledger(facts)
        if seen:
            return self._confirmed(seen)
        reached = self._reached(facts)
        if reached:
            because = [
                phrase(
                    "redis.reached",
                    "every component reached Redis (first at {ts})",
                    ts=at(reached[0].ts_ns),
                )
            ]
            return verdict(self.code, RULED_OUT, reached[:3], because)
        because = [phrase("redis.unknown", "no Redis traffic was recorded either way")]
        return verdict(self.code, UNKNOWN, [], because)

    def _measured(self, facts: RunFacts) -> list[Sighting]:
        out: list[Sighting] = []
        for call in facts.evidence.calls:
            error = call.body.get("error")
            if isinstance(error, dict) and error.get("dependency") == "redis":
                text = str(error.get("message", ""))
                out.append(Sighting(call_item(facts, call), "controller", symptom_of(text), True))
        for line in facts.evidence.logs:
            text = message(line)
            if any(needle in text for needle in _LOG_NEEDLES):
                out.append(
                    Sighting(log_item(facts, line), log_component(line), symptom_of(text), True)
                )
        for req in facts.requests:
            for span in req.named("wait"):
                for _ts, attrs in req.wait_events("connection lost")[:1]:
                    item = event_item(facts, span, "connection lost")
                    if item is not None:
                        out.append(
                            Sighting(
                                item, "controller", symptom_of(str(attrs.get("error", ""))), True
                            )
                        )
            for span in req.publishes:
                if span.is_error:
                    out.append(
                        Sighting(
                            span_item(facts, span, f"{span.name}: {span.status_message}"),
                            facts.component(span),
                            symptom_of(span.status_message),
                            True,
                        )
                    )
        return out

    def _ledger(self, facts: RunFacts) -> list[Sighting]:
        out = []
        for ev in facts.ledger:
            hit = ev.event in (EventKind.FAULT_HIT, EventKind.CONNECTION_REFUSED)
            if not hit or "redis" not in ev.proxy:
                continue
            symptom = _KIND_SYMPTOM.get(str(ev.kind or ""), "")
            if ev.event is EventKind.CONNECTION_REFUSED:
                symptom = "refused"
            if symptom:
                component = ev.proxy.split("->")[0]
                out.append(Sighting(fault_item(facts, ev), component, symptom, False))
        return out

    def _reached(self, facts: RunFacts) -> list[EvidenceItem]:
        items: list[EvidenceItem] = []
        for req in facts.requests:
            for span in req.named("subscribe"):
                found = event_item(facts, span, "subscribe confirmed")
                if found is not None:
                    items.append(found)
            items += [span_item(facts, s) for s in req.publishes if not s.is_error]
        return sorted(items, key=lambda i: i.ts_ns)

    def _confirmed(self, seen: list[Sighting]) -> Verdict:
        measured = [s for s in seen if s.measured] or seen
        components = sorted({s.component for s in measured})
        symptoms = sorted({s.symptom for s in measured if s.symptom != "other"} or {"other"})
        first = min(measured, key=lambda s: s.item.ts_ns)
        because = [
            phrase(
                "redis.because",
                "{component} could not reach Redis ({symptom}) at {ts}",
                component=first.component,
                symptom=first.symptom,
                ts=at(first.item.ts_ns),
            )
        ]
        however = []
        if not any(s.measured for s in seen):
            however.append(
                phrase(
                    "redis.ledger_only",
                    "only the fault ledger shows it: no component reported an error",
                )
            )
        items = [s.item for s in measured] + [s.item for s in seen if not s.measured][:5]
        return verdict(
            self.code,
            CONFIRMED,
            items[:12],
            because,
            however,
            components=components,
            symptoms=symptoms,
            component=first.component,
            symptom=first.symptom,
        )
