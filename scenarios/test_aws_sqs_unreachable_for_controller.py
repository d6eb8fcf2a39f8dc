from harness.faults import Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="aws-sqs-unreachable-for-controller",
    title="SQS unreachable for the controller",
    hypothesis="The task cannot be sent: /run answers 503 naming SQS instead of waiting for a "
    "result that can never come.",
    workload=Workload(artifact="memo_function_zip", via="s3", settle_seconds=0),
    expect=Expect("HTTP 503"),
    verdicts=("AWS_UNREACHABLE",),
    faults=(FaultSpec("controller->sqs", Fault("sqs-down", FaultKind.DOWN)),),
)


def test_aws_sqs_unreachable_for_controller(run_scenario):
    run_scenario(SCENARIO)
