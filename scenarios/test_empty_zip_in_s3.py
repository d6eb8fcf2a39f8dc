from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="empty-zip-in-s3",
    title="The 34-byte zip put straight into S3 fails fast as INVALID_PACKAGE",
    hypothesis="When the empty archive bypasses /upload (as in the incident), the worker refuses it "
    "without running anything and the controller relays FAILED at once.",
    incident="incident-2025-12-02",
    workload=Workload(artifact="incident_empty_zip", via="s3"),
    expect=Expect("FAILED", error_type="INVALID_PACKAGE", later_status="FAILED"),
    verdicts=("INVALID_PACKAGE",),
)


def test_empty_zip_in_s3(run_scenario):
    run_scenario(SCENARIO)
