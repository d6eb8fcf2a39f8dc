"""The 2025-12-02 incident, replayed: the 34-byte zip under each of the memo's hypotheses."""

from harness.faults import Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Scenario, Variant, Workload

LEGACY_IGNORES_FAILED = {"NANOGRID_LEGACY_IGNORE_FAILED": "1"}

SCENARIO = Scenario(
    name="incident-2025-12-02",
    title="Incident 2025-12-02: empty 34-byte zip, Controller TIMEOUT after the Worker answered",
    hypothesis="Each of the memo's three hypotheses, injected in turn, produces a different and "
    "recognisable record; the fixed system answers FAILED at once.",
    incident="incident-2025-12-02",
    workload=Workload(artifact="incident_empty_zip", via="s3"),
    control="control",
    variants=(
        Variant(
            "h1-failed-ignored",
            Expect("TIMEOUT", later_status="FAILED"),
            ("INVALID_PACKAGE", "FAILED_NOT_PROPAGATED"),
            controller_env=LEGACY_IGNORES_FAILED,
            description="Hypothesis 1 (memo: 60%): the Controller does not handle FAILED.",
        ),
        Variant(
            "h2-redis-blocked-for-controller",
            Expect("HTTP 503"),
            ("REDIS_UNREACHABLE",),
            faults=(
                FaultSpec("controller->redis", Fault("sg-drops-syn", FaultKind.CONNECT_TIMEOUT)),
            ),
            fresh_connections=True,
            description="Hypothesis 2 (memo: 30%): the Controller host cannot reach Redis.",
        ),
        Variant(
            "h3-late-subscription",
            Expect("TIMEOUT", later_status="FAILED"),
            ("INVALID_PACKAGE", "RESULT_PUBLISHED_WITHOUT_SUBSCRIBER"),
            controller_env={
                "NANOGRID_LEGACY_SUBSCRIBE_AFTER_SEND": "1.0",
                "NANOGRID_LEGACY_PUBSUB_ONLY": "1",
            },
            description="Hypothesis 3 (memo: 10%): the Worker published before the Controller subscribed.",
        ),
        Variant(
            "control",
            Expect("FAILED", error_type="INVALID_PACKAGE"),
            ("INVALID_PACKAGE",),
            description="The fixed system: FAILED relayed at once.",
        ),
    ),
)


def test_incident_2025_12_02(run_scenario):
    run_scenario(SCENARIO)
