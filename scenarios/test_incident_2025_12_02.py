"""The 2025-12-02 incident, replayed: the 34-byte zip under each of the memo's hypotheses.

No hypothesis is a knob in the code under test. H1 (FAILED ignored) and H3 (late
subscription) run against ``examples/legacy-controller``, written apart from ``nanogrid/``
and behaving as the memo's Controller did; H3's timing is a protocol-aware fault on the
network (the controller's ``SUBSCRIBE result:*`` held past the worker's publish); H2 drops
the controller's SYNs to Redis. The control is the reference platform.
"""

from pathlib import Path

from harness.faults import Fault, FaultKind
from harness.scenario import Expect, FaultSpec, Scenario, Variant, Workload

LEGACY_CONTROLLER = str(Path(__file__).resolve().parents[1] / "examples/legacy-controller/run")
#: Held well past the worker's FAILED publish (a few hundred ms after the send), and shorter
#: than the controller's 2 s deadline, so that the subscription lands while it still waits.
LATE_SUBSCRIBE = Fault(
    "subscribe-held", "redis_delay", command="SUBSCRIBE", key="result:*", delay_ms=1500
)

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
            Expect("TIMEOUT"),
            ("INVALID_PACKAGE", "FAILED_NOT_PROPAGATED"),
            controller_command=LEGACY_CONTROLLER,
            description="Hypothesis 1 (memo: 60%): the Controller does not handle FAILED "
            "(the legacy controller).",
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
            Expect("TIMEOUT"),
            ("INVALID_PACKAGE", "RESULT_PUBLISHED_WITHOUT_SUBSCRIBER"),
            faults=(FaultSpec("controller->redis", LATE_SUBSCRIBE),),
            controller_command=LEGACY_CONTROLLER,
            description="Hypothesis 3 (memo: 10%): the Worker published before the Controller "
            "subscribed (the legacy controller, its SUBSCRIBE held on the network).",
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
