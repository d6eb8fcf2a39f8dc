"""Results and responses read as the calls a client made."""

from __future__ import annotations

import json
from dataclasses import asdict

from harness.evidence import CallRecord
from harness.ingest import ingest

RID = "afc4198d-df18-46e3-85db-505b99b3a73e"
OTHER = "0b7e3a1c-1111-4222-8333-944445555666"
RESULT = {
    "requestId": RID,
    "functionId": "f1",
    "status": "FAILED",
    "exitCode": 2,
    "stdout": "",
    "stderr": "python: can't open file 'main.py'",
    "durationMillis": 312,
}


def test_a_pretty_printed_published_result_is_a_fetch(write):
    found = ingest([write("published-result.json", json.dumps(RESULT, indent=2) + "\n")])
    [call] = found.evidence.calls
    assert (call.kind, call.requestId, call.functionId, call.status) == (
        "fetch",
        RID,
        "f1",
        "FAILED",
    )
    assert (call.startNs, call.endNs, call.httpStatus) == (0, 0, None)
    [report] = found.sources
    assert (report.kind, report.lines_read, report.lines_parsed) == ("result-json", 9, 9)


def test_a_result_the_controller_answered_is_a_run(write):
    [call] = ingest([write("controller-response.json", json.dumps(RESULT))]).evidence.calls
    assert (call.kind, call.requestId) == ("run", RID)


def test_the_components_option_makes_a_result_the_controllers_answer(write):
    path = write("answer.json", json.dumps(RESULT))
    [call] = ingest([path], components={"controller": path}).evidence.calls
    assert call.kind == "run"


def test_timeout_and_error_answers_are_runs_and_in_flight_is_a_fetch(write):
    answers = [
        {
            "status": "TIMEOUT",
            "message": "Execution timed out",
            "requestId": RID,
            "deadlineSeconds": 25,
        },
        {"error": {"code": "FUNCTION_NOT_FOUND", "message": "no such function"}},
        {"requestId": OTHER, "stage": "QUEUED"},
    ]
    found = ingest([write("answers.json", json.dumps(answers))])
    assert [(c.kind, c.requestId, c.status) for c in found.evidence.calls] == [
        ("run", RID, "TIMEOUT"),
        ("run", None, None),
        ("fetch", OTHER, None),
    ]
    [report] = found.sources
    assert any("the evidence names 2" in note for note in report.notes)


def test_a_run_directorys_results_lines_are_read_as_they_are(write):
    calls = [
        CallRecord("run", "f1", RID, 202, {"status": "TIMEOUT"}, 10, 20),
        CallRecord("fetch", "f1", RID, 200, RESULT, 30, 40),
    ]
    path = write("results.jsonl", "".join(json.dumps(asdict(c)) + "\n" for c in calls))
    assert ingest([path]).evidence.calls == calls


def test_a_json_object_of_no_known_shape_is_unparsed(write):
    path = write("x.json", json.dumps({"status": "TIMEOUT"}) + "\n")
    extra = write("y.json", json.dumps({"hello": "world"}))
    found = ingest([path, extra])
    [report] = [r for r in found.sources if r.path == extra]
    assert report.unparsed_count == 1
