from harness.scenario import Expect, Workload, single

SCENARIO = single(
    name="empty-zip-refused-at-upload",
    title="The incident's 34-byte zip is refused at upload",
    hypothesis="An archive with no entries never reaches S3: /upload answers 400 and says how to fix it.",
    incident="incident-2025-12-02",
    workload=Workload(artifact="incident_empty_zip", run=False),
    expect=Expect("HTTP 400", upload_status=400, upload_reason="EMPTY_ARCHIVE"),
    verdicts=("UPLOAD_REJECTED",),
)


def test_empty_zip_refused_at_upload(run_scenario):
    run_scenario(SCENARIO)
