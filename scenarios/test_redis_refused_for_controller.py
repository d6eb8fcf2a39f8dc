from harness.faults import Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="redis-refused-for-controller",
    title="Redis refuses the controller's connections",
    hypothesis="Memo hypothesis 2 (refused): /run answers 503 within the connect timeout (a restarting Redis gets that long) and nothing is enqueued.",
    incident="incident-2025-12-02",
    workload=Workload(artifact="memo_function_zip", settle_seconds=0),
    expect=Expect("HTTP 503"),
    verdicts=("REDIS_UNREACHABLE",),
    faults=(FaultSpec("controller->redis", Fault("redis-refuses", FaultKind.DOWN)),),
)


def test_redis_refused_for_controller(run_scenario):
    run_scenario(SCENARIO)
