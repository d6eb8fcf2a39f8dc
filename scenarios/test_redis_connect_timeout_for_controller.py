from harness.faults import Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="redis-connect-timeout-for-controller",
    title="A security group drops the controller's SYNs to Redis",
    hypothesis="Memo hypothesis 2 (port 6379 blocked): the controller's connect times out and /run "
    "answers 503 before enqueueing, within the connect timeout rather than the 25 s deadline.",
    incident="incident-2025-12-02",
    workload=Workload(artifact="memo_function_zip", settle_seconds=0),
    expect=Expect("HTTP 503"),
    verdicts=("REDIS_UNREACHABLE",),
    faults=(FaultSpec("controller->redis", Fault("sg-drops-syn", FaultKind.CONNECT_TIMEOUT)),),
    fresh_connections=True,
)


def test_redis_connect_timeout_for_controller(run_scenario):
    run_scenario(SCENARIO)
