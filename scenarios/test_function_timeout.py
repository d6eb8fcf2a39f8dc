from harness.artifacts import hang_source
from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="function-timeout",
    title="A function runs past its timeout",
    hypothesis="The worker kills the function's whole process group at timeoutSeconds and answers "
    "FAILED / FUNCTION_TIMEOUT before the controller's deadline.",
    workload=Workload(source=hang_source(30), timeout_seconds=1),
    expect=Expect("FAILED", error_type="FUNCTION_TIMEOUT"),
    verdicts=("FUNCTION_TIMEOUT",),
)


def test_function_timeout(run_scenario):
    run_scenario(SCENARIO)
