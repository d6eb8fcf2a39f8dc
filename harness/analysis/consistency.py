"""Inconsistencies in the evidence itself: lines that contradict each other, steps that took
far longer than their kind does.

A diagnosis trusts its evidence; when two pieces of it disagree, or a step of a request took
orders of magnitude longer than that step takes, the reader must know before believing the
verdicts (the memo's worker logged ``[DONE][OK]`` for a run whose published result was
FAILED, and 1.3 s between "Publishing" and "published" for a PUBLISH that answers in a
millisecond). Each check reads :class:`~harness.analysis.facts.RunFacts` only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.analysis.facts import RequestFacts, RunFacts, log_component
from harness.analysis.model import Phrase
from harness.evidence import log_time_ns
from nanogrid.telemetry import semconv as sc

#: How long a step may take before it is far longer than its kind normally does, in ms:
#: (from event, to event, bound, what the step is). Bounds are an order of magnitude above
#: what the platform's own steps take on a loaded 2-core machine.
STEP_BOUNDS: tuple[tuple[str, str, int, str], ...] = (
    (sc.RESULT_PUBLISHING, sc.RESULT_PUBLISHED, 250, "a Redis PUBLISH"),
    (sc.PACKAGE_DOWNLOADED, sc.PACKAGE_EXTRACTED, 2000, "extracting the package"),
    (sc.RESULT_PUBLISHED, sc.TASK_DONE, 1000, "finishing a task after its publish"),
)
#: A function's own run against the worker's view of it: a gap above this is a contradiction.
DURATION_SLACK_MS = 1000.0


@dataclass(frozen=True)
class Inconsistency:
    """One disagreement in the evidence: what kind, and what it says."""

    kind: str  # "contradiction" or "slow_step"
    request_id: str
    phrase: Phrase

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "requestId": self.request_id,
            "key": self.phrase.key,
            "text": self.phrase.en.format(**self.phrase.params),
            "params": self.phrase.params,
        }


Check = Callable[[RequestFacts], list[Inconsistency]]


def _statuses(req: RequestFacts) -> list[Inconsistency]:
    """The worker's DONE status against the result it published (or the client got)."""
    done = [str(line.get(sc.F_STATUS)) for line in req.events(sc.TASK_DONE) if sc.F_STATUS in line]
    result = req.published_result or {}
    published = result.get("status")
    if not done or published is None or done[0] == published:
        return []
    en = (
        "the worker logged DONE with status {done}, but the result it published says "
        "{published}: the worker's log does not report its outcome"
    )
    said = Phrase("incons.status", en, {"done": done[0], "published": published})
    return [Inconsistency("contradiction", req.request_id, said)]


def _ran_without_code(req: RequestFacts) -> list[Inconsistency]:
    """The function was started after the worker found no file in its package."""
    empty = [
        line
        for line in req.events(sc.PACKAGE_EXTRACTED, sc.PACKAGE_INVALID)
        if line.get(sc.F_FILES) == 0 or line.get(sc.F_REASON) == "EMPTY_ARCHIVE"
    ]
    executed = req.events(sc.FUNCTION_EXECUTING)
    if not empty or not executed or log_time_ns(executed[0]) < log_time_ns(empty[0]):
        return []
    en = (
        "the worker found no file in the package, yet went on to execute the function: "
        "an empty package should end the run as INVALID_PACKAGE before any execution"
    )
    return [Inconsistency("contradiction", req.request_id, Phrase("incons.ran_empty", en, {}))]


def _slow_steps(req: RequestFacts) -> list[Inconsistency]:
    found = []
    for start, end, bound, what in STEP_BOUNDS:
        began, ended = req.events(start), req.events(end)
        if not began or not ended:
            continue
        t0, t1 = log_time_ns(began[0]), log_time_ns(ended[0])
        if not t0 or not t1 or t1 < t0:
            continue
        ms = (t1 - t0) / 1e6
        if ms > bound:
            en = "{what} took {ms} ms ({start} -> {end}); it normally takes well under {bound} ms"
            said = Phrase(
                "incons.slow",
                en,
                {"what": what, "ms": round(ms), "start": start, "end": end, "bound": bound},
            )
            found.append(Inconsistency("slow_step", req.request_id, said))
    return found


def _duration(req: RequestFacts) -> list[Inconsistency]:
    """The result's durationMillis against the worker's own executing -> finished lines."""
    result = req.published_result or {}
    reported = result.get("durationMillis")
    began, ended = req.events(sc.FUNCTION_EXECUTING), req.events(sc.FUNCTION_FINISHED)
    if not isinstance(reported, int | float) or not began or not ended:
        return []
    workers = {log_component(began[0]), log_component(ended[0])}
    logged = (log_time_ns(ended[0]) - log_time_ns(began[0])) / 1e6
    if len(workers) != 1 or abs(logged - reported) <= DURATION_SLACK_MS:
        return []
    en = "the result says the function ran {reported} ms, the worker's log shows {logged} ms"
    said = Phrase("incons.duration", en, {"reported": reported, "logged": round(logged)})
    return [Inconsistency("contradiction", req.request_id, said)]


CHECKS: tuple[Check, ...] = (_statuses, _ran_without_code, _slow_steps, _duration)


def inconsistencies(facts: RunFacts) -> list[Inconsistency]:
    """Every inconsistency of every request in the run."""
    return [found for req in facts.requests for check in CHECKS for found in check(req)]
