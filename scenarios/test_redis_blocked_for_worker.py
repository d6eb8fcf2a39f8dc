from harness.faults import Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="redis-blocked-for-worker",
    title="Redis unreachable for the worker only",
    hypothesis="The controller subscribes fine, but the worker can reach neither its claim nor the "
    "result channel: the request times out at stage QUEUED and the worker's errors say why.",
    workload=Workload(artifact="memo_function_zip", settle_seconds=0),
    expect=Expect("TIMEOUT", stage="QUEUED"),
    verdicts=("REDIS_UNREACHABLE",),
    faults=(FaultSpec("worker->redis", Fault("worker-redis-down", FaultKind.DOWN)),),
)


def test_redis_blocked_for_worker(run_scenario):
    run_scenario(SCENARIO)
