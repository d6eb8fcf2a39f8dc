from __future__ import annotations

import os

import pytest

from harness.evidence import load
from harness.procs import descendants, pid_running
from harness.scenario.play import play
from harness.scenario.rediagnosis import check_rediagnosis, check_text_logs
from harness.scenario.runner import ScenarioHarness
from harness.stack import wait_until


@pytest.fixture(scope="session")
def scenario_harness(tmp_path_factory):
    """One proxied stack for the whole catalogue, reset between scenarios."""
    others = descendants(os.getpid())  # servers of other fixtures in the same session
    with ScenarioHarness(tmp_path_factory.mktemp("scenarios")) as harness:
        yield harness
        started = descendants(os.getpid()) - others
    left = [pid for pid in started if pid_running(pid)]
    if not wait_until(lambda: not any(pid_running(pid) for pid in left), timeout=10):
        pytest.fail(f"processes left behind by the scenario stack: {left}")


@pytest.fixture
def run_scenario(scenario_harness, tmp_path):
    """Run every variant of a scenario; fail with each problem found in its evidence, and
    where ``diagnose`` of its run directory, or of its logs as text, disagrees."""

    def run(scenario):
        outcomes = play(scenario_harness, scenario, tmp_path / scenario.name)
        control = next((o for o in outcomes if o.variant == scenario.control), None)
        problems = []
        for o in outcomes:
            baseline = load(control.run_dir) if control is not None and control is not o else None
            problems += [f"{o.variant}: {p}" for p in o.problems]
            problems += [
                f"{o.variant}: {p}"
                for p in check_rediagnosis(o.run_dir, o.diagnosis, baseline)
                + check_text_logs(o.run_dir, o.diagnosis)
            ]
        assert not problems, "\n".join(problems)
        return outcomes

    return run
