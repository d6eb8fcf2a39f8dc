from harness.artifacts import FAILING_SOURCE
from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="function-failed-relayed",
    title="A failing function's FAILED result is relayed promptly",
    hypothesis="The memo's hypothesis 1 does not hold for the fixed controller: FAILED ends the wait.",
    workload=Workload(source=FAILING_SOURCE),
    expect=Expect("FAILED", error_type="USER_CODE_ERROR", later_status="FAILED"),
    verdicts=("FUNCTION_FAILED",),
)


def test_function_failed_relayed(run_scenario):
    run_scenario(SCENARIO)
