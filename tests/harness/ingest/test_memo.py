"""The incident memo's own evidence: its worker log excerpt, the result the worker
published and the controller's TIMEOUT answer (as tests/harness/ingest/fixtures/memo)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from harness.ingest import ingest
from nanogrid.telemetry import semconv as sc
from tests.harness.ingest.conftest import MEMO_REQUEST_ID

DAY = datetime.date(2025, 12, 2)


@pytest.fixture
def memo(memo_dir):
    return ingest([memo_dir], date=DAY)


def by_event(found) -> dict[str, dict[str, Any]]:
    return {line[sc.EVENT]: line for line in found.evidence.logs if sc.EVENT in line}


def test_every_worker_line_gets_its_platform_event_and_typed_fields(memo):
    events = by_event(memo)
    assert [line.get(sc.EVENT) for line in memo.evidence.logs] == [
        sc.PACKAGE_DOWNLOADED,
        sc.PACKAGE_EXTRACTED,
        sc.PACKAGE_INVALID,
        sc.FUNCTION_EXECUTING,
        sc.FUNCTION_FINISHED,
        sc.RESULT_PUBLISHING,
        sc.RESULT_PUBLISHED,
        sc.TASK_DONE,
    ]
    assert events[sc.PACKAGE_DOWNLOADED][sc.F_BYTES] == 34
    assert events[sc.PACKAGE_EXTRACTED][sc.F_FILES] == 0
    assert events[sc.PACKAGE_INVALID][sc.F_REASON] == "EMPTY_ARCHIVE"
    assert events[sc.FUNCTION_FINISHED][sc.F_EXIT_CODE] == 2
    assert events[sc.RESULT_PUBLISHING]["channel"] == f"result:{MEMO_REQUEST_ID}"
    assert events[sc.TASK_DONE][sc.F_STATUS] == "SUCCESS"  # [DONE][OK], as the platform means it


def test_the_memo_did_not_log_receivers_so_no_receivers_field(memo):
    published = by_event(memo)[sc.RESULT_PUBLISHED]
    assert sc.F_RECEIVERS not in published
    assert published["message"] == "[REDIS] Result published successfully"


def test_lines_keep_their_wording_level_component_and_source(memo):
    first, _, warning = memo.evidence.logs[:3]
    assert first["message"] == "Successfully downloaded zip file: 34 bytes"
    assert first["source"] == "worker.log:1"
    assert warning["level"] == "WARNING"
    assert {line["component"] for line in memo.evidence.logs} == {"worker"}
    [report] = [s for s in memo.sources if s.path.name == "worker.log"]
    assert (report.kind, report.component, report.component_rule) == (
        "text-log",
        "worker",
        "file name",
    )
    assert (report.lines_read, report.lines_parsed, report.unparsed_count) == (8, 8, 0)


def test_every_line_is_about_the_one_request_the_log_names(memo):
    assert {line[sc.F_REQUEST_ID] for line in memo.evidence.logs} == {MEMO_REQUEST_ID}
    inferred = [line["source"] for line in memo.evidence.logs if line.get("requestIdInferred")]
    assert inferred == [f"worker.log:{n}" for n in (1, 2, 3, 4, 5, 7)]


def test_the_controller_answer_is_a_run_call_given_the_one_requestid(memo):
    [run] = memo.evidence.runs
    assert run.body == {"status": "TIMEOUT", "message": "Execution timed out"}
    assert run.requestId == MEMO_REQUEST_ID
    assert (run.startNs, run.endNs, run.httpStatus) == (0, 0, None)  # the memo gave no time
    [report] = [s for s in memo.sources if s.path.name == "controller-response.json"]
    assert report.component == "controller"
    assert any("inferred" in note and MEMO_REQUEST_ID in note for note in report.notes)


def test_the_published_result_is_what_a_fetch_would_return(memo):
    [fetch] = [c for c in memo.evidence.calls if c.kind == "fetch"]
    assert fetch.requestId == MEMO_REQUEST_ID
    assert fetch.status == "FAILED"
    assert fetch.body["exitCode"] == 2


def test_done_ok_beside_a_failed_result_is_noted(memo):
    [report] = [s for s in memo.sources if s.path.name == "worker.log"]
    assert any("task.done says SUCCESS" in note and "FAILED" in note for note in report.notes)


def test_the_date_comes_from_the_option(memo):
    assert memo.date_source == "option"
    assert memo.evidence.logs[0]["ts"] == "2025-12-02T07:40:19.996Z"
    assert not any(line.get("dateUnknown") for line in memo.evidence.logs)


def test_without_a_date_the_lines_say_it_is_unknown(memo_dir):
    found = ingest([memo_dir])
    assert found.date_source == "unknown"
    assert all(line["dateUnknown"] is True for line in found.evidence.logs)
    assert found.evidence.logs[0]["ts"] == "1970-01-01T07:40:19.996Z"


def test_evidence_is_never_a_ledger_and_names_only(memo, memo_dir):
    assert memo.evidence.ledger == []
    assert memo.evidence.actions == []
    assert memo.evidence.scenario == {"name": "memo", "variant": "evidence"}
    assert memo.evidence.run_dir == memo_dir.resolve()


def test_the_memo_evidence_confirms_the_empty_archive_and_decides_no_hypothesis(memo):
    from harness.analysis import diagnose

    status = {v.code: v.status for v in diagnose(memo.evidence).verdicts}
    assert status["INVALID_PACKAGE"] == "confirmed"
    for code in (
        "FAILED_NOT_PROPAGATED",
        "REDIS_UNREACHABLE",
        "RESULT_PUBLISHED_WITHOUT_SUBSCRIBER",
    ):
        assert status[code] != "confirmed"
