"""SLOW_DEPENDENCY: AWS or Redis client calls far slower than the baseline.

Measured span durations come first: a client span (AWS ``rpc.system=aws-api`` or
``db.system=redis``) is slow when it takes more than :data:`SLOW_FACTOR` times the
baseline's median for the same operation, and at least :data:`SLOW_FLOOR_MS` (loopback calls
take milliseconds). A latency, bandwidth or slicer fault that hit connections supports it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from harness.analysis.facts import RunFacts
from harness.analysis.model import Verdict
from harness.analysis.rules.base import (
    CONFIRMED,
    RULED_OUT,
    UNKNOWN,
    fault_item,
    phrase,
    span_item,
    verdict,
)
from harness.faults import EventKind
from harness.traces import SpanRecord

SLOW_FACTOR = 4.0
SLOW_FLOOR_MS = 500.0
_SLOW_KINDS = ("latency", "bandwidth", "slicer")


def operation(span: SpanRecord) -> str | None:
    """``S3.GetObject`` or ``redis SET`` for a dependency client span, else None."""
    attrs = span.attributes
    if span.kind != 3:
        return None
    if attrs.get("rpc.system") == "aws-api":
        return f"{attrs.get('rpc.service')}.{attrs.get('rpc.method')}"
    if attrs.get("db.system") == "redis":
        return f"redis {span.name.split(' ')[0]}"
    return None


def medians(spans: Iterable[SpanRecord]) -> dict[str, float]:
    """Median duration (ms) of each dependency operation among ``spans``."""
    by_op: dict[str, list[float]] = {}
    for span in spans:
        op = operation(span)
        if op is not None and not span.is_error:
            by_op.setdefault(op, []).append(span.duration_ns / 1e6)
    return {op: statistics.median(values) for op, values in by_op.items()}


class SlowDependency:
    code = "SLOW_DEPENDENCY"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        reference = medians(baseline.evidence.spans) if baseline else {}
        calls = [s for s in facts.evidence.spans if operation(s) and not s.is_error]
        slow = sorted((s for s in calls if self._slow(s, reference)), key=lambda s: -s.duration_ns)
        hits = [
            e
            for e in facts.ledger
            if e.event is EventKind.FAULT_HIT and str(e.kind or "") in _SLOW_KINDS
        ]
        items = [span_item(facts, s, self._describe(s, reference)) for s in slow[:5]]
        items += [fault_item(facts, e) for e in hits[:5]]
        if slow:
            worst = slow[0]
            because = [
                phrase(
                    "slow.spans",
                    "{n} dependency call(s) were slow; the slowest, {op}, took {ms} ms",
                    n=len(slow),
                    op=operation(worst),
                    ms=round(worst.duration_ns / 1e6),
                )
            ]
            return verdict(self.code, CONFIRMED, items, because)
        if hits:
            because = [
                phrase(
                    "slow.ledger",
                    "a {kind} fault hit {n} connection(s)",
                    kind=hits[0].kind,
                    n=len(hits),
                )
            ]
            however = [phrase("slow.unmeasured", "no span was measured above the threshold")]
            return verdict(self.code, CONFIRMED, items, because, however)
        if calls:
            worst = max(calls, key=lambda s: s.duration_ns)
            because = [
                phrase(
                    "slow.none",
                    "no dependency call was slow (slowest: {op} {ms} ms)",
                    op=operation(worst),
                    ms=round(worst.duration_ns / 1e6),
                )
            ]
            return verdict(self.code, RULED_OUT, [], because)
        because = [phrase("slow.unknown", "no dependency client spans were recorded")]
        return verdict(self.code, UNKNOWN, [], because)

    @staticmethod
    def _slow(span: SpanRecord, reference: dict[str, float]) -> bool:
        ms = span.duration_ns / 1e6
        base = reference.get(operation(span) or "")
        return ms > SLOW_FLOOR_MS and (base is None or ms > SLOW_FACTOR * base)

    @staticmethod
    def _describe(span: SpanRecord, reference: dict[str, float]) -> str:
        base = reference.get(operation(span) or "")
        vs = f" (baseline median {base:.1f} ms)" if base is not None else ""
        return f"{operation(span)} took {span.duration_ns / 1e6:.1f} ms{vs}"
