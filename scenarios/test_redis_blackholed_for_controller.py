from harness.faults import Direction, Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="redis-blackholed-for-controller",
    title="The controller's Redis connection goes silent",
    hypothesis="Connected but silent: the subscribe confirmation never arrives, so the controller "
    "answers 503 within its socket timeout instead of waiting on a dead subscription.",
    workload=Workload(artifact="memo_function_zip", settle_seconds=0),
    expect=Expect("HTTP 503"),
    verdicts=("REDIS_UNREACHABLE",),
    faults=(
        FaultSpec("controller->redis", Fault("silent-redis", FaultKind.BLACKHOLE, Direction.BOTH)),
    ),
)


def test_redis_blackholed_for_controller(run_scenario):
    run_scenario(SCENARIO)
