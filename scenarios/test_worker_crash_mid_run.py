from harness.artifacts import hang_source
from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="worker-crash-mid-run",
    title="A worker dies mid-run; the task is redelivered and runs once to completion",
    hypothesis="SQS redelivers the task once its visibility expires; the second worker completes it "
    "and the controller, still waiting, gets the result.",
    workload=Workload(source=hang_source(1.0)),
    expect=Expect("SUCCESS", min_deliveries=2, later_status="SUCCESS"),
    verdicts=("WORKER_CRASHED",),
    controller_env={"NANOGRID_RUN_DEADLINE": "10"},
    worker_env={"NANOGRID_KNOB_CRASH_MARKER": "{run_dir}/crash-marker"},
)


def test_worker_crash_mid_run(run_scenario):
    run_scenario(SCENARIO)
