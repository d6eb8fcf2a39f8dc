from harness.artifacts import MEMO_STDOUT
from harness.faults import Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="aws-cloudwatch-unreachable-for-worker",
    title="CloudWatch unreachable for the worker",
    hypothesis="Metrics cannot be sent, but they are off the critical path: the client gets "
    "SUCCESS and the diagnosis still names the lost metrics.",
    workload=Workload(artifact="memo_function_zip"),
    expect=Expect("SUCCESS", stdout=MEMO_STDOUT),
    verdicts=("AWS_UNREACHABLE",),
    faults=(FaultSpec("worker->cloudwatch", Fault("cloudwatch-down", FaultKind.DOWN)),),
)


def test_aws_cloudwatch_unreachable_for_worker(run_scenario):
    run_scenario(SCENARIO)
