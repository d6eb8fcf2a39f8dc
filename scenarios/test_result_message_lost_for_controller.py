from harness.faults import Fault
from harness.scenario import Expect, FaultSpec, Workload, single

SCENARIO = single(
    name="result-message-lost-for-controller",
    title="The pushed result never reaches the controller",
    hypothesis="Redis counts the controller's subscription when the worker publishes, but the "
    "message is lost on the way (a protocol-aware fault drops it): the controller recovers the "
    "result from the stored key, and the diagnosis tells the loss from its own connection's "
    "record instead of calling the run healthy.",
    workload=Workload(artifact="memo_function_zip"),
    expect=Expect("SUCCESS"),
    verdicts=("RESULT_MESSAGE_LOST",),
    faults=(
        FaultSpec(
            "controller->redis", Fault("result-lost", "redis_message_drop", channel="result:*")
        ),
    ),
)


def test_result_message_lost_for_controller(run_scenario):
    run_scenario(SCENARIO)
