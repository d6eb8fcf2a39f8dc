from harness.faults import Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="aws-dynamodb-unreachable-for-controller",
    title="DynamoDB unreachable for the controller",
    hypothesis="The function's metadata cannot be read: /run answers 503 at once, names DynamoDB "
    "and enqueues nothing.",
    workload=Workload(artifact="memo_function_zip", via="s3", settle_seconds=0),
    expect=Expect("HTTP 503"),
    verdicts=("AWS_UNREACHABLE",),
    faults=(FaultSpec("controller->dynamodb", Fault("dynamodb-down", FaultKind.DOWN)),),
)


def test_aws_dynamodb_unreachable_for_controller(run_scenario):
    run_scenario(SCENARIO)
