"""REDIS_UNREACHABLE and AWS_UNREACHABLE: which component could not reach which dependency,
and how it failed.

The symptom tells a security group from a dead server: ``refused`` (RST on connect: nothing
listens), ``connect_timeout`` (SYNs dropped, as a security group does), ``blackhole``
(connected but silent until the client gave up), ``reset`` (closed mid-stream), and for AWS
``throttled``, ``denied``, ``server_error``. Two witnesses are told apart:

- what the *component* saw: the client's 503 body, its dependency-failure log events
  (``symptom`` named from the exception its client library raised), its waiter's events;
- what the *wire* saw: a command or request never answered (silence, or a close), an AWS
  error response. This holds for a component that emits no telemetry at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from harness.analysis.facts import RunFacts, log_component
from harness.analysis.model import EvidenceItem, Verdict
from harness.analysis.rules.base import (
    CONFIRMED,
    RULED_OUT,
    UNKNOWN,
    at,
    call_item,
    event_item,
    log_item,
    phrase,
    span_item,
    verdict,
    wire_item,
)
from harness.analysis.wire import WireCall
from nanogrid.telemetry import semconv as sc

#: Operations that wait on purpose: a long poll is not silence.
LONG_POLLS = frozenset({"SQS.ReceiveMessage"})

COMPONENT = "component"
WIRE = "wire"


@dataclass(frozen=True)
class Sighting:
    item: EvidenceItem
    component: str
    dependency: str
    symptom: str
    witness: str  # COMPONENT or WIRE


class Unreachable:
    """One rule for a family of dependencies: Redis, or the AWS services."""

    def __init__(self, code: str, dependencies: Iterable[str], what: str) -> None:
        self.code = code
        self.dependencies = frozenset(dependencies)
        self.what = what  # "Redis", "an AWS service"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        seen = self._component_saw(facts) + self._wire_saw(facts)
        if seen:
            return self._confirmed(seen)
        reached = self._reached(facts)
        if reached:
            because = [
                phrase(
                    "reach.reached",
                    "every component reached {what} (first at {ts})",
                    what=self.what,
                    ts=at(reached[0].ts_ns),
                )
            ]
            return verdict(self.code, RULED_OUT, reached[:3], because)
        because = [
            phrase(
                "reach.unknown",
                "no {what} traffic was recorded either way: record the components' logs or "
                "put a decoding proxy on the path",
                what=self.what,
            )
        ]
        return verdict(self.code, UNKNOWN, [], because)

    def _component_saw(self, facts: RunFacts) -> list[Sighting]:
        out: list[Sighting] = []
        for call in facts.evidence.calls:
            error = call.body.get("error")
            if isinstance(error, dict) and error.get(sc.F_DEPENDENCY) in self.dependencies:
                symptom = str(error.get(sc.F_SYMPTOM) or "error")
                dep = str(error[sc.F_DEPENDENCY])
                out.append(Sighting(call_item(facts, call), "controller", dep, symptom, COMPONENT))
        for line in facts.events(*sc.DEPENDENCY_FAILURES):
            dep = str(line.get(sc.F_DEPENDENCY, ""))
            if dep in self.dependencies:
                symptom = str(line.get(sc.F_SYMPTOM) or "error")
                item = log_item(facts, line)
                out.append(Sighting(item, log_component(line), dep, symptom, COMPONENT))
        if sc.REDIS in self.dependencies:
            for span in facts.spans(sc.SPAN_WAIT):
                for event in span.events:
                    if event.name == sc.EV_CONNECTION_LOST:
                        symptom = str(event.attributes.get("symptom") or "reset")
                        lost = event_item(facts, span, sc.EV_CONNECTION_LOST)
                        if lost is not None:
                            comp = facts.component(span)
                            out.append(Sighting(lost, comp, sc.REDIS, symptom, COMPONENT))
        return out

    def _wire_saw(self, facts: RunFacts) -> list[Sighting]:
        out = []
        for call in facts.wire.calls:
            if call.dependency not in self.dependencies or call.name in LONG_POLLS:
                continue
            symptom = call.symptom
            if symptom is not None:
                out.append(
                    Sighting(wire_item(facts, call), call.component, call.dependency, symptom, WIRE)
                )
        return out

    def _reached(self, facts: RunFacts) -> list[EvidenceItem]:
        items: list[EvidenceItem] = []
        if sc.REDIS in self.dependencies:
            for span in facts.spans(sc.SPAN_SUBSCRIBE):
                found = event_item(facts, span, sc.EV_SUBSCRIBE_CONFIRMED)
                if found is not None:
                    items.append(found)
            items += [span_item(facts, s) for s in facts.spans(sc.SPAN_PUBLISH) if not s.is_error]
        else:
            items += [
                span_item(facts, s)
                for s in facts.evidence.spans
                if s.attributes.get(sc.RPC_SYSTEM) == "aws-api" and not s.is_error
            ][:3]
        answered = [c for c in facts.wire.calls if self._fine(c)]
        items += [wire_item(facts, c) for c in answered[:3]]
        return sorted(items, key=lambda i: i.ts_ns)

    def _fine(self, call: WireCall) -> bool:
        return call.dependency in self.dependencies and call.answered and call.symptom is None

    def _confirmed(self, seen: list[Sighting]) -> Verdict:
        own = [s for s in seen if s.witness == COMPONENT]
        measured = own or seen
        first = min(measured, key=lambda s: s.item.ts_ns)
        components = sorted({s.component for s in seen})
        dependencies = sorted({s.dependency for s in seen})
        symptoms = sorted({s.symptom for s in measured})
        wire_symptoms = sorted({s.symptom for s in seen if s.witness == WIRE})
        because = [
            phrase(
                "reach.because",
                "{component} could not reach {dependency} ({symptom}) at {ts}",
                component=first.component,
                dependency=first.dependency,
                symptom=first.symptom,
                ts=at(first.item.ts_ns),
            )
        ]
        however = []
        if wire_symptoms and own:
            however.append(
                phrase(
                    "reach.wire_also",
                    "the network saw it too: {symptoms}",
                    symptoms=", ".join(wire_symptoms),
                )
            )
        elif not own:
            however.append(
                phrase(
                    "reach.wire_only",
                    "only the network shows it: no component reported an error",
                )
            )
        items = [s.item for s in own][:8] + [s.item for s in seen if s.witness == WIRE][:4]
        return verdict(
            self.code,
            CONFIRMED,
            items,
            because,
            however,
            components=components,
            dependencies=dependencies,
            symptoms=symptoms,
            wireSymptoms=wire_symptoms,
            component=first.component,
            dependency=first.dependency,
            symptom=first.symptom,
        )


REDIS_UNREACHABLE = Unreachable("REDIS_UNREACHABLE", (sc.REDIS,), "Redis")
AWS_UNREACHABLE = Unreachable("AWS_UNREACHABLE", sc.AWS_SERVICES, "AWS")
