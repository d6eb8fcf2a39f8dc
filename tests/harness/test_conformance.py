"""`nanogrid-harness conformance`: the reference keeps every invariant, the legacy controller
breaks exactly the memo's defects, and each judge decides from the evidence it is given."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness import conformance
from harness.components import command_argv, command_env
from harness.evidence import CallRecord, Evidence, load
from harness.scenario.runner import ScenarioHarness
from harness.wire.model import (
    DETAIL_MESSAGE_IDS,
    KIND_COMMAND,
    KIND_REQUEST,
    KIND_RESPONSE,
    KIND_SUBSCRIBED,
    WireEvent,
)

ROOT = Path(__file__).resolve().parents[2]
LEGACY = ROOT / "examples" / "legacy-controller"
MEMO_DEFECTS = {"upload-validated", "subscribe-before-send", "failed-relayed", "stored-result-read"}


def _evidence(tmp_path: Path, calls: list[CallRecord], wire: list[WireEvent]) -> Evidence:
    return Evidence(tmp_path, {}, calls, [], [], wire=wire)


def _run_call(rid: str, status: int, body: dict[str, object]) -> CallRecord:
    return CallRecord("run", "f", rid, status, body, 1, 2)


def _wire(ts: int, path: str, kind: str, name: str, target: str) -> WireEvent:
    return WireEvent(ts, path, 1, "upstream", "redis", kind, name, target)


def test_subscribe_judge_fails_when_the_task_is_sent_first(tmp_path):
    calls = [_run_call("r1", 200, {"status": "SUCCESS"})]
    send = _wire(1_000_000, "controller->sqs", KIND_REQUEST, conformance.SEND_MESSAGE, "q")
    subscribed = _wire(5_000_000, "controller->redis", KIND_SUBSCRIBED, "SUBSCRIBE", "result:r1")
    late = conformance.judge_subscribe(_evidence(tmp_path, calls, [send, subscribed]))
    resent = _wire(9_000_000, "controller->sqs", KIND_REQUEST, conformance.SEND_MESSAGE, "q")
    early = conformance.judge_subscribe(_evidence(tmp_path, calls, [subscribed, resent]))
    assert not late.passed
    assert "4.0 ms before SUBSCRIBE result:r1" in late.evidence
    assert early.passed


def test_failed_judge_wants_the_failed_status_relayed(tmp_path):
    timeout = _run_call("r1", 504, {"status": "TIMEOUT", "message": "Execution timed out"})
    relayed = _run_call("r1", 200, {"status": "FAILED", "exitCode": 1})
    assert not conformance.judge_failed(_evidence(tmp_path, [timeout], [])).passed
    assert conformance.judge_failed(_evidence(tmp_path, [relayed], [])).passed


def _sqs(ts: int, path: str, name: str, *ids: str) -> WireEvent:
    return WireEvent(
        ts, path, 1, "downstream", "http", KIND_RESPONSE, name, "q", {DETAIL_MESSAGE_IDS: list(ids)}
    )


def test_redelivery_judge_wants_a_second_delivery_and_one_publish(tmp_path):
    calls = [_run_call("r1", 200, {"status": "SUCCESS"})]
    sent = _sqs(1, "controller->sqs", conformance.SEND_MESSAGE, "m1")
    taken = _sqs(2, "worker->sqs", "SQS.ReceiveMessage", "m1")
    again = _sqs(5, "worker->sqs", "SQS.ReceiveMessage", "m1")
    publish = _wire(3, "worker->redis", KIND_COMMAND, "PUBLISH", "result:r1")
    once = conformance.judge_redelivered(_evidence(tmp_path, calls, [sent, taken, publish]))
    assert not once.passed
    assert once.evidence.startswith("no redelivery happened")
    ran_once = [sent, taken, publish, again]
    assert conformance.judge_redelivered(_evidence(tmp_path, calls, ran_once)).passed
    twice = [*ran_once, _wire(6, "worker->redis", KIND_COMMAND, "PUBLISH", "result:r1")]
    finding = conformance.judge_redelivered(_evidence(tmp_path, calls, twice))
    assert not finding.passed
    assert "task delivered 2 time(s); 2 result(s) published" in finding.evidence


def test_upload_judge_wants_a_400(tmp_path):
    stored = CallRecord("upload", "f", None, 201, {"sizeBytes": 34}, 1, 2)
    refused = CallRecord("upload", "f", None, 400, {}, 1, 2)
    finding = conformance.judge_upload(_evidence(tmp_path, [stored], []))
    assert not finding.passed
    assert "answered 201 and stored (34 bytes)" in finding.evidence
    assert conformance.judge_upload(_evidence(tmp_path, [refused], [])).passed


def test_a_command_gets_the_contract(tmp_path):
    argv = command_argv(f"{LEGACY / 'run'} --flag")
    env = command_env({"PATH": "/usr/bin", "REDIS_URL": "redis://x:1/0"}, "q", port=4321)
    assert argv == [str(LEGACY / "run"), "--flag"]
    assert env["PORT"] == "4321"
    assert env["NANOGRID_QUEUE"] == "q"
    assert env["PATH"].endswith(":/usr/bin")
    with pytest.raises(ValueError, match="not an executable"):
        command_argv(str(LEGACY / "controller.py"))


def test_the_legacy_controller_is_independent_of_the_platform():
    tree = ast.parse((LEGACY / "controller.py").read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    roots = {name.split(".")[0] for name in names}
    assert not roots & {"nanogrid", "harness", "opentelemetry", "scenarios"}, roots


def _conformance(root: Path, controller: str | None) -> list[conformance.Verdict]:
    with ScenarioHarness(root, controller_command=controller) as harness:
        return conformance.check(harness, root / "runs")


@pytest.mark.timeout(90)
def test_the_reference_keeps_every_invariant(tmp_path):
    verdicts = _conformance(tmp_path, None)
    broken = [line for line in conformance.render_lines(verdicts) if line.startswith("FAIL")]
    assert not broken
    assert len(verdicts) == len(conformance.INVARIANTS)


@pytest.mark.timeout(90)
def test_the_legacy_controller_breaks_exactly_the_memo_defects(tmp_path):
    verdicts = _conformance(tmp_path, str(LEGACY / "run"))
    broken = {v.invariant.key for v in verdicts if not v.finding.passed}
    assert broken == MEMO_DEFECTS
    failed_run = load(tmp_path / "runs" / "function-failed-relayed")
    [run] = failed_run.runs
    assert (run.httpStatus, run.body["status"]) == (504, "TIMEOUT")
    assert run.body["message"] == "Execution timed out"
    report = conformance.write_report(tmp_path, verdicts, {"controller": "legacy"})
    text = report.read_text()
    assert text.count("**FAIL**") == len(MEMO_DEFECTS)
    log = (tmp_path / "stack" / "controller.log").read_text()
    assert "Subscribing to channel: result:" in log
    assert not any(line.startswith("{") for line in log.splitlines()), "plain text lines only"


@pytest.mark.timeout(120)
def test_replay_against_the_legacy_controller_names_its_defect(tmp_path: Path) -> None:
    # `nanogrid-harness replay NAME --controller CMD`: the diagnosis, from the client's view,
    # the wire and the reference worker's evidence (the legacy controller has no spans),
    # names the FAILED it ignored.
    from harness.replay import replay
    from harness.scenario.catalogue import find

    scenario = find("function-failed-relayed")
    outcomes = replay(
        [scenario], lambda s: tmp_path / s.name, controller_command=str(LEGACY / "run")
    )
    [outcome] = outcomes
    assert outcome.client_status == "TIMEOUT"
    assert "FAILED_NOT_PROPAGATED" in outcome.confirmed
    assert (tmp_path / scenario.name / "report.html").exists()
