"""``diagnose``: a run's evidence in, verdicts from the taxonomy out.

Every rule of :mod:`harness.analysis.rules` decides one fault code; ``HEALTHY`` follows
from them and the client's answers. When a request timed out, the memo's three hypotheses
are decided by the verdicts they map onto (H1 ``FAILED_NOT_PROPAGATED``, H2
``REDIS_UNREACHABLE`` from the controller, H3 ``RESULT_PUBLISHED_WITHOUT_SUBSCRIBER``).
Given a healthy baseline run, the first step where the two runs diverge is named too::

    diagnosis = diagnose(evidence.load(run_dir), baseline=evidence.load(healthy_dir))
    diagnosis.confirmed_codes()   # ['INVALID_PACKAGE', 'FAILED_NOT_PROPAGATED']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from harness.analysis.causality import assign_roles
from harness.analysis.consistency import Inconsistency, inconsistencies
from harness.analysis.facts import RunFacts
from harness.analysis.model import Divergence, Hypothesis, Phrase, Role, Verdict, VerdictStatus
from harness.analysis.rules import RULES
from harness.analysis.steps import first_divergence
from harness.analysis.taxonomy import HEALTHY, VERDICTS
from harness.evidence import Evidence

#: The memo's hypotheses: id, title, its guessed likelihood, the verdict code deciding it.
MEMO_HYPOTHESES: tuple[tuple[str, str, str, str], ...] = (
    ("H1", "FAILED not handled", "60%", "FAILED_NOT_PROPAGATED"),
    ("H2", "Controller <-> Redis connectivity", "30%", "REDIS_UNREACHABLE"),
    ("H3", "Subscription timing", "10%", "RESULT_PUBLISHED_WITHOUT_SUBSCRIBER"),
)


#: Faults a SUCCESS answer can hide (a slow step, a crash the redelivery covered, a path
#: that failed and was retried, a result the stored copy recovered): HEALTHY is confirmed
#: only when the evidence rules each of them out.
SILENT = frozenset(
    {
        "SLOW_DEPENDENCY",
        "WORKER_CRASHED",
        "AWS_UNREACHABLE",
        "REDIS_UNREACHABLE",
        "RESULT_PUBLISHED_WITHOUT_SUBSCRIBER",
        "RESULT_MESSAGE_LOST",
    }
)


@dataclass
class Diagnosis:
    """The verdicts of one run (``HEALTHY`` first), the memo's hypotheses, the divergence."""

    facts: RunFacts
    verdicts: list[Verdict]
    hypotheses: list[Hypothesis] = field(default_factory=list)
    divergence: Divergence | None = None
    inconsistencies: list[Inconsistency] = field(default_factory=list)

    def confirmed_codes(self) -> list[str]:
        return [v.code for v in self.verdicts if v.confirmed]

    def causes(self) -> list[Verdict]:
        """The confirmed root causes (HEALTHY when nothing is wrong)."""
        return [v for v in self.verdicts if v.confirmed and v.role is not Role.CONSEQUENCE]

    def consequences(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.confirmed and v.role is Role.CONSEQUENCE]

    def verdict(self, code: str) -> Verdict:
        for found in self.verdicts:
            if found.code == code:
                return found
        raise KeyError(code)

    @property
    def client_status(self) -> str | None:
        """The first ``/run`` call's client-visible status; without one, the last upload's
        (None when the client made neither)."""
        runs = self.facts.evidence.runs
        if runs:
            return runs[0].status
        uploads = self.facts.uploads
        return uploads[-1].status if uploads else None


def diagnose(evidence: Evidence, baseline: Evidence | None = None) -> Diagnosis:
    """Apply every rule to ``evidence``; ``baseline`` (a healthy run) sharpens the latency
    rule and enables :attr:`Diagnosis.divergence`."""
    facts = RunFacts(evidence)
    base = RunFacts(baseline) if baseline is not None else None
    faults = [rule(facts, base) for rule in RULES]
    assign_roles(faults)
    verdicts = [healthy(facts, faults), *faults]
    diagnosis = Diagnosis(facts, verdicts, inconsistencies=inconsistencies(facts))
    if any(r.client_status == "TIMEOUT" for r in facts.requests):
        diagnosis.hypotheses = hypotheses(diagnosis)
    if base is not None:
        diagnosis.divergence = first_divergence(facts, base)
    return diagnosis


def healthy(facts: RunFacts, faults: list[Verdict]) -> Verdict:
    confirmed = [v.code for v in faults if v.confirmed]
    statuses = [r.client_status for r in facts.requests]
    bad = [s for s in statuses if s != "SUCCESS"]
    if confirmed or bad:
        because = [
            Phrase(
                "healthy.not",
                "{codes} confirmed; client saw {statuses}",
                {
                    "codes": ", ".join(confirmed) or "no fault verdict",
                    "statuses": ", ".join(map(str, statuses)) or "no run",
                },
            )
        ]
        return Verdict(HEALTHY, VerdictStatus.RULED_OUT, [], because)
    if not statuses:
        return Verdict(
            HEALTHY, VerdictStatus.UNKNOWN, [], [Phrase("healthy.no_run", "no /run call was made")]
        )
    undecided = [v.code for v in faults if v.code in SILENT and v.status is VerdictStatus.UNKNOWN]
    if undecided:
        because = [
            Phrase(
                "healthy.undecided",
                "all {n} run(s) answered SUCCESS, but the evidence cannot rule out {codes}, "
                "which a successful answer can hide",
                {"n": len(statuses), "codes": ", ".join(undecided)},
            )
        ]
        return Verdict(HEALTHY, VerdictStatus.UNKNOWN, [], because)
    because = [
        Phrase(
            "healthy.ok",
            "all {n} run(s) answered SUCCESS and every fault verdict is ruled out or unknown",
            {"n": len(statuses)},
        )
    ]
    return Verdict(HEALTHY, VerdictStatus.CONFIRMED, [], because)


def hypotheses(diagnosis: Diagnosis) -> list[Hypothesis]:
    return [
        Hypothesis(hid, title, likelihood, _decide(hid, diagnosis.verdict(code)))
        for hid, title, likelihood, code in MEMO_HYPOTHESES
    ]


def _decide(hid: str, verdict: Verdict) -> Verdict:
    """H2 is about the controller only: Redis unreachable from a worker rules it out."""
    if hid != "H2" or not verdict.confirmed or "controller" in verdict.detail.get("components", []):
        return verdict
    because = [
        Phrase(
            "h2.worker_only",
            "Redis was unreachable only from {components}, not from the controller",
            {"components": ", ".join(verdict.detail.get("components", []))},
        )
    ]
    return dataclasses.replace(verdict, status=VerdictStatus.RULED_OUT, because=because, however=[])


def fix_of(code: str) -> str:
    return VERDICTS[code].fix
