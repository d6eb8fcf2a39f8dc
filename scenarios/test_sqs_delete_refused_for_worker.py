from harness.faults import Fault
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="sqs-delete-refused-for-worker",
    title="The worker's first DeleteMessage is refused: the finished task is redelivered",
    hypothesis="SQS answers the worker's first DeleteMessage with AccessDenied (in its own wire "
    "format), so the finished task comes back once its visibility expires; the platform runs "
    "it once: the second delivery finds it done, publishes nothing and deletes it. No crash, "
    "no knob: any worker can be judged by it.",
    workload=Workload(artifact="memo_function_zip", await_redelivery_s=10),
    expect=Expect("SUCCESS", min_deliveries=2),
    verdicts=("AWS_UNREACHABLE",),
    faults=(
        FaultSpec(
            "worker->sqs",
            Fault(
                "delete-denied",
                "aws_error",
                operation="SQS.DeleteMessage",
                error="access_denied",
                first_n_matches=1,
            ),
        ),
    ),
)


def test_sqs_delete_refused_for_worker(run_scenario):
    run_scenario(SCENARIO)
