from harness.artifacts import FAILING_SOURCE
from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="failed-ignored-legacy",
    title="The legacy controller ignores FAILED and times out",
    hypothesis="Memo hypothesis 1: the worker answers FAILED within a second, but a controller that "
    "only accepts SUCCESS waits until its deadline.",
    incident="incident-2025-12-02",
    workload=Workload(source=FAILING_SOURCE),
    expect=Expect("TIMEOUT", later_status="FAILED"),
    verdicts=("FUNCTION_FAILED", "FAILED_NOT_PROPAGATED"),
    controller_env={"NANOGRID_LEGACY_IGNORE_FAILED": "1"},
)


def test_failed_ignored_legacy(run_scenario):
    run_scenario(SCENARIO)
