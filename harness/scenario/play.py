"""Playing a scenario: run each variant, diagnose each run once, then check it.

Each run is diagnosed once, with the scenario's control run as its baseline where there is
one; the checks, ``verdict.json`` and the reports all read that one diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.analysis import Diagnosis, diagnose
from harness.evidence import Evidence, load
from harness.scenario.checks import (
    check_actions,
    check_knobs,
    check_ledger,
    check_outcome,
    check_verdicts,
)
from harness.scenario.model import Scenario, Variant
from harness.scenario.runner import KNOBS, ScenarioHarness


@dataclass
class Outcome:
    """How one variant went: where its evidence is, its diagnosis and what did not hold."""

    scenario: str
    variant: str
    run_dir: Path
    client_status: str | None
    problems: list[str]
    confirmed: list[str]
    diagnosis: Diagnosis


def play(
    harness: ScenarioHarness,
    scenario: Scenario,
    out_dir: Path,
    on_variant: Callable[[Variant], None] | None = None,
) -> list[Outcome]:
    """Run every variant into ``out_dir/<variant>``, diagnose and check what was recorded."""
    runs: list[tuple[Variant, Evidence]] = []
    for variant in scenario.variants:
        if on_variant is not None:
            on_variant(variant)
        runs.append((variant, load(harness.run(scenario, variant, out_dir / variant.name))))
    control = next((ev for v, ev in runs if v.name == scenario.control), None)
    outcomes = []
    for variant, evidence in runs:
        baseline = control if control is not None and control is not evidence else None
        diagnosis = diagnose(evidence, baseline=baseline)
        problems = [
            *check_outcome(variant.expect, evidence),
            *check_ledger(variant, evidence),
            *check_actions(evidence),
            *check_knobs(variant, evidence, KNOBS),
            *check_verdicts(variant, diagnosis),
        ]
        outcomes.append(
            Outcome(
                scenario.name,
                variant.name,
                evidence.run_dir,
                diagnosis.client_status,
                problems,
                sorted(diagnosis.confirmed_codes()),
                diagnosis,
            )
        )
    return outcomes
