from harness.faults import Direction, Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="slow-aws-path",
    title="The worker's path to AWS is slow",
    hypothesis="1.2 s of latency on every AWS response to the worker slows the run but does not "
    "break it; the slow dependency shows in the client spans.",
    workload=Workload(artifact="memo_function_zip"),
    expect=Expect("SUCCESS"),
    verdicts=("SLOW_DEPENDENCY",),
    controller_env={"NANOGRID_RUN_DEADLINE": "10"},
    faults=(
        FaultSpec(
            "worker->aws",
            Fault(
                "slow-aws",
                FaultKind.LATENCY,
                Direction.DOWNSTREAM,
                latency_ms=1200,
                jitter_ms=20,
                seed=7,
            ),
        ),
    ),
)


def test_slow_aws_path(run_scenario):
    run_scenario(SCENARIO)
