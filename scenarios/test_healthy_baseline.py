from harness.artifacts import MEMO_STDOUT
from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="healthy-baseline",
    title="Healthy baseline",
    hypothesis="With no fault, the memo's test function runs to SUCCESS and comes straight back.",
    workload=Workload(artifact="memo_function_zip"),
    expect=Expect("SUCCESS", upload_status=201, stdout=MEMO_STDOUT, later_status="SUCCESS"),
    verdicts=("HEALTHY",),
)


def test_healthy_baseline(run_scenario):
    run_scenario(SCENARIO)
