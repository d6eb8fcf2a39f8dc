from harness.artifacts import MEMO_STDOUT
from harness.faults import Direction, Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="two-faults-at-once",
    title="A throttled download and CloudWatch down, at once",
    hypothesis="Two independent faults on the worker's AWS paths: both are named, each a root "
    "cause of its own, and the run still succeeds.",
    workload=Workload(artifact="memo_with_payload_zip"),
    expect=Expect("SUCCESS", stdout=MEMO_STDOUT),
    verdicts=("AWS_UNREACHABLE", "SLOW_DEPENDENCY"),
    faults=(
        FaultSpec(
            "worker->s3",
            Fault("thin-pipe", FaultKind.BANDWIDTH, Direction.DOWNSTREAM, rate_kb_s=24),
        ),
        FaultSpec("worker->cloudwatch", Fault("cloudwatch-down", FaultKind.DOWN)),
    ),
    controller_env={"NANOGRID_RUN_DEADLINE": "10"},
)


def test_two_faults_at_once(run_scenario):
    run_scenario(SCENARIO)
