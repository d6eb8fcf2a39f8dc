from harness.faults import Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="aws-sqs-unreachable-for-worker",
    title="SQS unreachable for the workers",
    hypothesis="The workers cannot read the queue: the task waits in SQS, the controller times "
    "out at stage QUEUED, and the workers' failed receives say why nobody consumed it.",
    workload=Workload(artifact="memo_function_zip", settle_seconds=0),
    expect=Expect("TIMEOUT", stage="QUEUED"),
    verdicts=("AWS_UNREACHABLE",),
    consequences=("WORKER_NOT_CONSUMING",),
    faults=(FaultSpec("worker->sqs", Fault("sqs-down", FaultKind.DOWN)),),
)


def test_aws_sqs_unreachable_for_worker(run_scenario):
    run_scenario(SCENARIO)
