from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="no-worker-running",
    title="No worker is consuming the queue",
    hypothesis="The task waits in SQS: the controller times out at stage QUEUED and says where to "
    "fetch the result later.",
    workload=Workload(artifact="memo_function_zip", settle_seconds=0),
    expect=Expect("TIMEOUT", stage="QUEUED"),
    verdicts=("WORKER_NOT_CONSUMING",),
    workers=0,
)


def test_no_worker_running(run_scenario):
    run_scenario(SCENARIO)
