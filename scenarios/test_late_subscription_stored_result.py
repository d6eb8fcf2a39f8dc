from harness.artifacts import MEMO_STDOUT
from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="late-subscription-stored-result",
    title="Late subscription recovered by the stored result",
    hypothesis="The same late subscription, but the controller also reads result:{id}: the message "
    "pub/sub dropped is recovered from the stored key.",
    workload=Workload(artifact="memo_function_zip"),
    expect=Expect("SUCCESS", stdout=MEMO_STDOUT),
    verdicts=("RESULT_PUBLISHED_WITHOUT_SUBSCRIBER",),
    controller_env={"NANOGRID_LEGACY_SUBSCRIBE_AFTER_SEND": "1.0"},
)


def test_late_subscription_stored_result(run_scenario):
    run_scenario(SCENARIO)
