from harness.faults import Direction, Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="redis-blackholed-for-worker",
    title="The worker's Redis connection goes silent",
    hypothesis="Connected but silent: the worker's claim is never answered, it gives up at its "
    "socket timeout and the request times out at stage QUEUED; the wire shows the unanswered "
    "command (its errors may come after the deadline: the run settles 2 s).",
    workload=Workload(artifact="memo_function_zip", settle_seconds=2),
    expect=Expect("TIMEOUT", stage="QUEUED"),
    verdicts=("REDIS_UNREACHABLE",),
    faults=(
        FaultSpec("worker->redis", Fault("silent-redis", FaultKind.BLACKHOLE, Direction.BOTH)),
    ),
)


def test_redis_blackholed_for_worker(run_scenario):
    run_scenario(SCENARIO)
