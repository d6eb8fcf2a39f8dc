"""From a run's recorded evidence to a timeline and measured root-cause verdicts.

::

    from harness import evidence
    from harness.analysis import build_timeline, diagnose

    run = evidence.load(run_dir)
    diagnosis = diagnose(run, baseline=evidence.load(healthy_dir))
    for verdict in diagnosis.verdicts:
        print(verdict.code, verdict.status, verdict.explanation)
    timeline = build_timeline(run)
"""

from harness.analysis.diagnosis import MEMO_HYPOTHESES, Diagnosis, diagnose
from harness.analysis.facts import RequestFacts, RunFacts
from harness.analysis.memo import MemoStep, memo_steps
from harness.analysis.model import (
    Divergence,
    EvidenceItem,
    EvidenceKind,
    Hypothesis,
    Phrase,
    Step,
    Verdict,
    VerdictStatus,
    clock,
)
from harness.analysis.steps import first_divergence, request_steps
from harness.analysis.taxonomy import FAULT_CODES, HEALTHY, VERDICTS, VerdictInfo
from harness.analysis.timeline import (
    FaultInterval,
    RequestTimeline,
    Timeline,
    TimelineRow,
    build_timeline,
)

__all__ = [
    "FAULT_CODES",
    "HEALTHY",
    "MEMO_HYPOTHESES",
    "VERDICTS",
    "Diagnosis",
    "Divergence",
    "EvidenceItem",
    "EvidenceKind",
    "FaultInterval",
    "Hypothesis",
    "MemoStep",
    "Phrase",
    "RequestFacts",
    "RequestTimeline",
    "RunFacts",
    "Step",
    "Timeline",
    "TimelineRow",
    "Verdict",
    "VerdictInfo",
    "VerdictStatus",
    "build_timeline",
    "clock",
    "diagnose",
    "first_divergence",
    "memo_steps",
    "request_steps",
]
