from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="late-subscription-pubsub-only",
    title="Late subscription with pub/sub only: the result is lost",
    hypothesis="Memo hypothesis 3: the worker publishes before the controller subscribes; PUBLISH "
    "reaches 0 receivers and a controller that only listens never sees the result.",
    incident="incident-2025-12-02",
    workload=Workload(artifact="memo_function_zip"),
    expect=Expect("TIMEOUT", later_status="SUCCESS"),
    verdicts=("RESULT_PUBLISHED_WITHOUT_SUBSCRIBER",),
    controller_env={
        "NANOGRID_LEGACY_SUBSCRIBE_AFTER_SEND": "1.0",
        "NANOGRID_LEGACY_PUBSUB_ONLY": "1",
    },
)


def test_late_subscription_pubsub_only(run_scenario):
    run_scenario(SCENARIO)
