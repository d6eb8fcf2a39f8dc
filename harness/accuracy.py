"""How right the diagnosis is: each catalogue run diagnosed blind, graded by its declaration.

A run is diagnosed *blind* (:func:`harness.evidence.blind`: no fault ledger, no actions, no
declaration, as on evidence from a real deployment, and no baseline), then graded against
what the scenario declares: the run is *exact* when every expected root cause is confirmed
and every other confirmed verdict is a consequence of one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analysis import Diagnosis, diagnose
from harness.evidence import Evidence, blind
from harness.scenario.checks import check_verdicts
from harness.scenario.model import Variant


@dataclass(frozen=True)
class Grade:
    """One variant's blind diagnosis against its declaration."""

    scenario: str
    variant: str
    expected: tuple[str, ...]
    causes: tuple[str, ...]
    consequences: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def exact(self) -> bool:
        return not self.problems


def grade(scenario: str, variant: Variant, evidence: Evidence) -> Grade:
    """Diagnose ``evidence`` blind and grade it against ``variant``."""
    diagnosis: Diagnosis = diagnose(blind(evidence))
    return Grade(
        scenario,
        variant.name,
        tuple(variant.verdicts or ("HEALTHY",)),
        tuple(v.code for v in diagnosis.causes()),
        tuple(v.code for v in diagnosis.consequences()),
        tuple(check_verdicts(variant, diagnosis)),
    )


def totals(grades: list[Grade]) -> str:
    exact = sum(g.exact for g in grades)
    share = 100 * exact / len(grades) if grades else 0.0
    return f"accuracy: {exact}/{len(grades)} variants exact ({share:.0f}%), blind"
