from harness.artifacts import MEMO_STDOUT
from harness.faults import Direction, Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="slow-download",
    title="The worker's code download is throttled",
    hypothesis="A 64 kB package under a 24 kB/s cap takes seconds to download. botocore's span "
    "ends at the response headers; only the platform's download step sees the slow body.",
    workload=Workload(artifact="memo_with_payload_zip"),
    expect=Expect("SUCCESS", stdout=MEMO_STDOUT),
    verdicts=("SLOW_DEPENDENCY",),
    faults=(
        FaultSpec(
            "worker->s3",
            Fault("thin-pipe", FaultKind.BANDWIDTH, Direction.DOWNSTREAM, rate_kb_s=24),
        ),
    ),
    controller_env={"NANOGRID_RUN_DEADLINE": "10"},
)


def test_slow_download(run_scenario):
    run_scenario(SCENARIO)
