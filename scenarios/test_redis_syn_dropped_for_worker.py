from harness.faults import Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="redis-syn-dropped-for-worker",
    title="A security group drops the worker's SYNs to Redis",
    hypothesis="The worker's connects to Redis time out: it cannot claim the task, the request "
    "times out at stage QUEUED, and the worker's errors name a connect timeout (they come after "
    "the controller's deadline: its client retries the connect, so the run settles 2 s).",
    workload=Workload(artifact="memo_function_zip", settle_seconds=2),
    expect=Expect("TIMEOUT", stage="QUEUED"),
    verdicts=("REDIS_UNREACHABLE",),
    faults=(FaultSpec("worker->redis", Fault("sg-drops-syn", FaultKind.CONNECT_TIMEOUT)),),
    fresh_connections=True,
)


def test_redis_syn_dropped_for_worker(run_scenario):
    run_scenario(SCENARIO)
