from harness.faults import Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="aws-s3-unreachable-for-controller",
    title="S3 unreachable for the controller at upload",
    hypothesis="The upload cannot be stored: /upload answers 503 naming S3, and no metadata is "
    "written for an object that does not exist.",
    workload=Workload(artifact="memo_function_zip", settle_seconds=0),
    expect=Expect("HTTP 503", upload_status=503),
    verdicts=("AWS_UNREACHABLE",),
    faults=(FaultSpec("controller->s3", Fault("s3-down", FaultKind.DOWN)),),
)


def test_aws_s3_unreachable_for_controller(run_scenario):
    run_scenario(SCENARIO)
