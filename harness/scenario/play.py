"""Playing a scenario: run each variant, then check its evidence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.analysis import diagnose
from harness.evidence import load
from harness.scenario.checks import check_ledger, check_outcome, check_verdicts
from harness.scenario.model import Scenario, Variant
from harness.scenario.runner import ScenarioHarness


@dataclass
class Outcome:
    """How one variant went: where its evidence is and what did not hold."""

    scenario: str
    variant: str
    run_dir: Path
    client_status: str | None
    problems: list[str]
    confirmed: list[str]


def play(
    harness: ScenarioHarness,
    scenario: Scenario,
    out_dir: Path,
    on_variant: Callable[[Variant], None] | None = None,
) -> list[Outcome]:
    """Run every variant into ``out_dir/<variant>`` and check what was recorded."""
    outcomes = []
    for variant in scenario.variants:
        if on_variant is not None:
            on_variant(variant)
        run_dir = harness.run(scenario, variant, out_dir / variant.name)
        evidence = load(run_dir)
        diagnosis = diagnose(evidence)
        problems = [
            *check_outcome(variant.expect, evidence),
            *check_ledger(variant, evidence),
            *check_verdicts(variant, diagnosis),
        ]
        outcomes.append(
            Outcome(
                scenario.name,
                variant.name,
                run_dir,
                diagnosis.client_status,
                problems,
                sorted(diagnosis.confirmed_codes()),
            )
        )
    return outcomes
