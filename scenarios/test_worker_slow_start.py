from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="worker-slow-start",
    title="The only worker starts polling after the deadline",
    hypothesis="The task waits in SQS until the worker polls, 4 s after it started: the "
    "controller times out at stage QUEUED and the result comes later, to nobody.",
    workload=Workload(artifact="memo_function_zip", settle_seconds=6),
    expect=Expect("TIMEOUT", stage="QUEUED", later_status="SUCCESS"),
    verdicts=("WORKER_NOT_CONSUMING",),
    consequences=("RESULT_AFTER_DEADLINE",),
    workers=1,
    worker_env={"NANOGRID_KNOB_SLOW_START": "4"},
)


def test_worker_slow_start(run_scenario):
    run_scenario(SCENARIO)
