"""SLOW_DEPENDENCY: a step that depends on AWS or Redis took far longer than it should.

Every measured step counts: the AWS and Redis client spans, the platform's own steps that
call a dependency (``download``, ``publish``, ``send``, ``subscribe``, ``function lookup``,
``metrics``: a download's body is read after botocore's span has ended, so only the step
sees a slow transfer), and the wire's request-to-answer times, which hold for a component
without telemetry. A step is slow when it took more than its floor and, given a healthy
baseline, more than :data:`SLOW_FACTOR` times the baseline's median for the same step.

Floors (documented, for evidence without a baseline): loopback and same-region calls take
milliseconds, so a call or step over :data:`SLOW_FLOOR_MS` is slow; a download also gets
``bytes / DOWNLOAD_FLOOR_BYTES_PER_MS`` (10 MB/s) on top. Waiting on purpose is never slow:
SQS long polls, the controller's wait for the result, the function's own run.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass

from harness.analysis.facts import RunFacts
from harness.analysis.model import EvidenceItem, Verdict
from harness.analysis.rules.base import (
    CONFIRMED,
    RULED_OUT,
    UNKNOWN,
    phrase,
    span_item,
    verdict,
    wire_item,
)
from harness.analysis.rules.reach import LONG_POLLS
from nanogrid.telemetry import semconv as sc

SLOW_FACTOR = 4.0
SLOW_FLOOR_MS = 1000.0
DOWNLOAD_FLOOR_BYTES_PER_MS = 10_000.0  # 10 MB/s
_STEPS = frozenset(sc.PLATFORM_STEPS) - {sc.SPAN_STORE}  # a store retries: its publishes count


@dataclass(frozen=True)
class Measured:
    """One measured step: what it is, who did it, how long, and the item that shows it."""

    key: str  # "S3.GetObject", "redis SET", "step download", "wire worker->s3 S3.GetObject"
    component: str
    ms: float
    floor_ms: float
    item: EvidenceItem


def measurements(facts: RunFacts) -> Iterator[Measured]:
    """Every step of the run that has a duration, with its floor."""
    for span in facts.evidence.spans:
        if span.is_error or not span.end_ns:
            continue
        ms = span.duration_ns / 1e6
        attrs = span.attributes
        step = sc.step_of(span.name)
        if span.kind == 3 and attrs.get(sc.RPC_SYSTEM) == "aws-api":
            key = f"{attrs.get(sc.RPC_SERVICE)}.{attrs.get(sc.RPC_METHOD)}"
            if key in LONG_POLLS:
                continue
        elif span.kind == 3 and attrs.get(sc.DB_SYSTEM) == "redis":
            key = f"redis {span.name.split(' ')[0]}"
        elif step in _STEPS and not any(e.name == sc.EV_SUBSCRIBE_RETRIED for e in span.events):
            key = f"step {step}"
        else:
            continue
        floor = SLOW_FLOOR_MS
        if step == sc.SPAN_DOWNLOAD:
            floor += int(attrs.get(sc.ZIP_BYTES, 0)) / DOWNLOAD_FLOOR_BYTES_PER_MS
        text = f"{span.name} took {ms:.1f} ms"
        yield Measured(key, facts.component(span), ms, floor, span_item(facts, span, text))
    for call in facts.wire.calls:
        if not call.answered or call.error or call.name in LONG_POLLS or not call.name:
            continue
        if call.name in ("SUBSCRIBE", "PSUBSCRIBE"):
            continue
        ms = call.duration_ns / 1e6
        key = f"wire {call.path} {call.name}"
        text = f"{call.path}: {call.name} answered in {ms:.1f} ms on the wire"
        yield Measured(key, call.component, ms, SLOW_FLOOR_MS, wire_item(facts, call, text))


def medians(facts: RunFacts) -> dict[str, float]:
    """Median duration (ms) of each step of a run."""
    by_key: dict[str, list[float]] = {}
    for m in measurements(facts):
        by_key.setdefault(m.key, []).append(m.ms)
    return {key: statistics.median(values) for key, values in by_key.items()}


class SlowDependency:
    code = "SLOW_DEPENDENCY"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        reference = medians(baseline) if baseline is not None else {}
        measured = list(measurements(facts))
        slow = sorted((m for m in measured if _slow(m, reference)), key=lambda m: -m.ms)
        if slow:
            worst = slow[0]
            base = reference.get(worst.key)
            because = [
                phrase(
                    "slow.steps",
                    "{n} step(s) were slow; the slowest, {step} at {component}, took {ms} ms "
                    "(floor {floor} ms)",
                    n=len(slow),
                    step=worst.key,
                    component=worst.component,
                    ms=round(worst.ms),
                    floor=round(worst.floor_ms),
                )
            ]
            if base is not None:
                because.append(
                    phrase("slow.baseline", "the baseline's median was {ms} ms", ms=round(base, 1))
                )
            steps = sorted({m.key for m in slow})
            components = sorted({m.component for m in slow})
            items = [m.item for m in slow[:6]]
            return verdict(self.code, CONFIRMED, items, because, steps=steps, components=components)
        if measured:
            worst = max(measured, key=lambda m: m.ms / m.floor_ms)
            because = [
                phrase(
                    "slow.none",
                    "no step was slow (slowest against its floor: {step} {ms} ms)",
                    step=worst.key,
                    ms=round(worst.ms),
                )
            ]
            return verdict(self.code, RULED_OUT, [], because)
        because = [phrase("slow.unknown", "no step durations were recorded")]
        return verdict(self.code, UNKNOWN, [], because)


def _slow(m: Measured, reference: dict[str, float]) -> bool:
    base = reference.get(m.key)
    return m.ms > m.floor_ms and (base is None or m.ms > SLOW_FACTOR * base)
