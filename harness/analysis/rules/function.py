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
from harness.traces import SpanRecord


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
        exit_code = attrs.get("process.exit.code", 0)
        return (
            exit_code != 0
            and not attrs.get("nanogrid.timed_out")
            and not attrs.get("nanogrid.out_of_memory")
        )

    def __call__(self, facts: RunFacts, baseline: RunFacts | None) -> Verdict:
        items: list[EvidenceItem | None] = []
        ran = False
        for req in facts.requests:
            executes = req.named("execute")
            ran = ran or bool(executes)
            hits = [s for s in executes if self.matches(s)]
            items += [span_item(facts, s, self._describe(s)) for s in hits]
            if self._typed(req):
                items.append(call_item(facts, req.call) if req.call.status == "FAILED" else None)
                items += [log_item(facts, line) for line in req.logs_with("exec finished")[:1]]
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
            f"execute: exit code {attrs.get('process.exit.code')}, "
            f"{attrs.get('nanogrid.duration_ms')} ms, "
            f"peak {attrs.get('nanogrid.peak_memory_bytes')} bytes"
        )


FUNCTION_FAILED = FunctionOutcome("FUNCTION_FAILED", "USER_CODE_ERROR", None, "exited non-zero")
FUNCTION_TIMEOUT = FunctionOutcome(
    "FUNCTION_TIMEOUT",
    "FUNCTION_TIMEOUT",
    "nanogrid.timed_out",
    "ran past its timeout and was killed",
)
OUT_OF_MEMORY = FunctionOutcome(
    "OUT_OF_MEMORY", "OUT_OF_MEMORY", "nanogrid.out_of_memory", "went over its memory limit"
)
