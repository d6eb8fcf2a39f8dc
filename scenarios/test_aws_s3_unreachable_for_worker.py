from harness.faults import Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="aws-s3-unreachable-for-worker",
    title="S3 unreachable for the worker",
    hypothesis="The worker takes the task but cannot download the code: it leaves the message "
    "for redelivery, and the controller times out while the task is claimed.",
    workload=Workload(artifact="memo_function_zip", settle_seconds=0),
    expect=Expect("TIMEOUT"),
    verdicts=("AWS_UNREACHABLE",),
    faults=(FaultSpec("worker->s3", Fault("s3-down", FaultKind.DOWN)),),
)


def test_aws_s3_unreachable_for_worker(run_scenario):
    run_scenario(SCENARIO)
