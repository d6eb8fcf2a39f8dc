"""Rules about the function's own run: FUNCTION_FAILED, FUNCTION_TIMEOUT, OUT_OF_MEMORY.

One parameterised rule: each code is an ``errorType`` of the published result and a flag or
exit code on the worker's ``execute`` span.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analysis.facts import RequestFacts, RunFacts
from harness.analysis.model import EvidenceItem, Verdict
from harness.analysis.rules.base import (
    CONFIRMED,
    RULED_OUT,
    UNKNOWN,
    at,
    call_item,
    log_item,
    phrase,
    span_item,
    verdict,
)
from harness.analysis.rules.delivery import UNTIMED, untimed_timeouts
from harness.traces import SpanRecord
from nanogrid.telemetry import semconv as sc


@dataclass(frozen=True)
class FunctionOutcome:
    """Confirmed when an ``execute`` span or the published result shows ``error_type``."""

    code: str
    error_type: str
    flag: str | None  # the execute span's boolean attribute, None: a non-zero exit code
    what: str  # English words for the because phrase

    def matches(self, span: SpanRecord) -> bool:
        attrs = span.attributes
        if self.flag is not None:
            return bool(attrs.get(self.flag))
        exit_code = attrs.get(sc.EXIT_CODE, 0)
        return exit_code != 0 and not attrs.get(sc.TIMED_OUT) and not attrs.get(sc.OUT_OF_MEMORY)

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        items: list[EvidenceItem | None] = []
        ran = False
        for req in facts.requests:
            executes = [s for s in req.named(sc.SPAN_EXECUTE) if s.end_ns]
            ran = ran or bool(executes)
            hits = [s for s in executes if self.matches(s)]
            items += [span_item(facts, s, self._describe(s)) for s in hits]
            if self._typed(req):
                items.append(call_item(facts, req.call) if req.call.status == "FAILED" else None)
                items += [log_item(facts, line) for line in req.events(sc.FUNCTION_FINISHED)[:1]]
        found = [i for i in items if i is not None]
        if found:
            en = f"the function {self.what} at {{ts}}"
            because = [phrase(f"function.{self.code}", en, ts=at(found[0].ts_ns))]
            return verdict(self.code, CONFIRMED, found, because)
        if ran:
            because = [
                phrase(
                    "function.not",
                    "every run of the function ended without {what}",
                    what=self.error_type,
                )
            ]
            return verdict(self.code, RULED_OUT, [], because)
        if facts.requests and all(self._never_runs(r) for r in facts.requests):
            because = [
                phrase("function.never_ran", "the function never ran: the request ended before it")
            ]
            return verdict(self.code, RULED_OUT, [], because)
        because = [phrase("function.unknown", "no evidence of the function running")]
        return verdict(self.code, UNKNOWN, [], because)

    def _typed(self, req: RequestFacts) -> bool:
        return (req.published_result or {}).get("errorType") == self.error_type

    @staticmethod
    def _never_runs(req: RequestFacts) -> bool:
        result = req.published_result or {}
        return req.sent is False or result.get("errorType") in ("INVALID_PACKAGE", "PLATFORM_ERROR")

    @staticmethod
    def _describe(span: SpanRecord) -> str:
        attrs = span.attributes
        return (
            f"execute: exit code {attrs.get(sc.EXIT_CODE)}, "
            f"{attrs.get(sc.DURATION_MS)} ms, "
            f"peak {attrs.get(sc.PEAK_MEMORY_BYTES)} bytes"
        )


FUNCTION_FAILED = FunctionOutcome("FUNCTION_FAILED", "USER_CODE_ERROR", None, "exited non-zero")
FUNCTION_TIMEOUT = FunctionOutcome(
    "FUNCTION_TIMEOUT",
    "FUNCTION_TIMEOUT",
    sc.TIMED_OUT,
    "ran past its timeout and was killed",
)
OUT_OF_MEMORY = FunctionOutcome(
    "OUT_OF_MEMORY", "OUT_OF_MEMORY", sc.OUT_OF_MEMORY, "went over its memory limit"
)


class SlowFunction:
    """The function itself ran longer than the controller waits.

    Confirmed when a request timed out, its function was still running at the controller's
    deadline, and the run of the function alone took more than half of that deadline (so
    it, not a slow step before it, used the time up).
    """

    code = "SLOW_FUNCTION"

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        timed_out = [r for r in facts.requests if r.deadline_ns]
        for req in timed_out:
            for span in req.named(sc.SPAN_EXECUTE):
                if span.attributes.get(sc.TIMED_OUT) or not span.ended:
                    continue  # killed by its timeout, or its worker died: not a slow run
                found = self._slow(facts, req, span)
                if found is not None:
                    return found
        if not timed_out and (untimed := untimed_timeouts(facts)):
            return verdict(self.code, UNKNOWN, [call_item(facts, untimed[0].call)], [UNTIMED])
        if not timed_out:
            because = [phrase("slowfn.no_timeout", "no request outlasted the controller's wait")]
            return verdict(self.code, RULED_OUT, [], because)
        ran = [s for r in timed_out for s in r.named(sc.SPAN_EXECUTE)]
        if ran:
            because = [
                phrase(
                    "slowfn.in_time",
                    "the function finished well within the controller's deadline",
                )
            ]
            return verdict(self.code, RULED_OUT, [span_item(facts, ran[0])], because)
        because = [phrase("slowfn.unknown", "no evidence of how long the function ran")]
        return verdict(self.code, UNKNOWN, [], because)

    def _slow(self, facts: RunFacts, req: RequestFacts, span: SpanRecord) -> Verdict | None:
        window = req.deadline_ns - req.start_ns
        end = span.end_ns
        ran = end - span.start_ns
        if not (span.start_ns < req.deadline_ns < end and ran * 2 > window):
            return None
        deadline = req.deadline_seconds
        because = [
            phrase(
                "slowfn.because",
                "the function ran for {ran} s; the controller waits {deadline} s in all",
                ran=round(ran / 1e9, 2),
                deadline=deadline if deadline is not None else round(window / 1e9, 2),
            )
        ]
        items = [span_item(facts, span), call_item(facts, req.call)]
        return verdict(self.code, CONFIRMED, items, because, runMs=round(ran / 1e6))
