"""Playing a catalogue scenario under pytest: every variant, checked on its evidence.

A variant passes when its client-visible outcome, fault ledger, actions, knobs and
verdicts are those declared (:func:`harness.scenario.play.play`), and ``diagnose`` of its
run directory, and of its logs as plain text, agrees with the replay's verdicts
(:mod:`harness.scenario.rediagnosis`).
"""

from __future__ import annotations

from pathlib import Path

from harness.evidence import load
from harness.pytest_plugin.errors import NanoGridAssertion
from harness.scenario.model import Scenario
from harness.scenario.play import Outcome, play
from harness.scenario.rediagnosis import check_rediagnosis, check_text_logs
from harness.scenario.runner import ScenarioHarness


class ScenarioFailed(NanoGridAssertion):
    """A variant's evidence or diagnosis is not what the scenario declared."""


def problems_of(outcomes: list[Outcome], control: str | None) -> list[str]:
    """Each variant's problems, and where its re-diagnosis disagrees, prefixed by variant."""
    baseline = next((o for o in outcomes if o.variant == control), None)
    problems: list[str] = []
    for o in outcomes:
        against = load(baseline.run_dir) if baseline is not None and baseline is not o else None
        found = [
            *o.problems,
            *check_rediagnosis(o.run_dir, o.diagnosis, against),
            *check_text_logs(o.run_dir, o.diagnosis),
        ]
        problems += [f"{o.variant}: {p}" for p in found]
    return problems


def check_scenario(harness: ScenarioHarness, scenario: Scenario, out_dir: Path) -> list[Outcome]:
    """Run every variant into ``out_dir``; :class:`ScenarioFailed` lists each problem."""
    outcomes = play(harness, scenario, out_dir)
    if problems := problems_of(outcomes, scenario.control):
        raise ScenarioFailed("\n".join(problems))
    return outcomes
