from harness.artifacts import hang_source
from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="result-after-deadline",
    title="The result arrives after the controller stopped waiting",
    hypothesis="A function that runs 3 s under a 2 s deadline: the controller answers TIMEOUT, "
    "the worker publishes to nobody a second later. The late publish is the timeout's "
    "consequence, not a late subscription.",
    workload=Workload(source=hang_source(3.0), settle_seconds=6),
    expect=Expect("TIMEOUT", later_status="SUCCESS"),
    verdicts=("SLOW_FUNCTION",),
    consequences=("RESULT_AFTER_DEADLINE",),
)


def test_result_after_deadline(run_scenario):
    run_scenario(SCENARIO)
