"""The rules, one behaviour each, on synthetic evidence shaped like what the platform records."""

from __future__ import annotations

import pytest

from harness.analysis import HEALTHY, Diagnosis, EvidenceKind, VerdictStatus, diagnose
from harness.analysis.model import Role
from harness.evidence import CallRecord
from harness.wire.model import DETAIL_ERROR_CODE, DETAIL_STATUS
from nanogrid.telemetry import semconv as sc
from tests.harness.analysis.builder import RunBuilder
from tests.harness.analysis.synth import request_run

CONFIRMED, RULED_OUT, UNKNOWN = (
    VerdictStatus.CONFIRMED,
    VerdictStatus.RULED_OUT,
    VerdictStatus.UNKNOWN,
)


def diagnosis_of(run: RunBuilder) -> Diagnosis:
    return diagnose(run.evidence())


def kinds(diagnosis: Diagnosis, code: str) -> set[EvidenceKind]:
    return {item.kind for item in diagnosis.verdict(code).evidence}


def poll_failures(run: RunBuilder, *times: float, symptom: str = "connect_timeout") -> None:
    """worker-1's serve loop: SQS receives failing, logged outside any request's scope."""
    for ms in times:
        run.log(
            ms,
            "worker-1",
            sc.POLL_FAILED,
            "poll failed, retrying: Connect timeout on endpoint URL",
            "ERROR",
            request=False,
            fields={
                sc.F_DEPENDENCY: sc.SQS,
                sc.F_SYMPTOM: symptom,
                sc.F_ERROR: "Connect timeout on endpoint URL",
            },
        )


# --- AWS_UNREACHABLE ------------------------------------------------------------------------


@pytest.mark.parametrize("dependency", [sc.DYNAMODB, sc.SQS])
def test_a_controller_503_names_the_aws_service_and_its_symptom(dependency):
    diagnosis = diagnosis_of(request_run(unavailable=(dependency, "connect_timeout")))
    verdict = diagnosis.verdict("AWS_UNREACHABLE")
    assert verdict.status is CONFIRMED
    assert verdict.detail["dependency"] == dependency
    assert verdict.detail["components"] == ["controller"]
    assert verdict.detail["symptom"] == "connect_timeout"
    assert verdict.role is Role.CAUSE
    assert {EvidenceKind.CALL, EvidenceKind.LOG} <= kinds(diagnosis, "AWS_UNREACHABLE")
    assert diagnosis.verdict("REDIS_UNREACHABLE").status is not CONFIRMED


def test_worker_sqs_poll_failures_make_not_consuming_their_consequence():
    run = request_run(worker=False, client="TIMEOUT")
    poll_failures(run, 100, 1200, 2300)
    diagnosis = diagnosis_of(run)
    aws = diagnosis.verdict("AWS_UNREACHABLE")
    assert aws.status is CONFIRMED
    assert (aws.detail["components"], aws.detail["dependencies"]) == (["worker-1"], [sc.SQS])
    assert aws.role is Role.CAUSE
    nowork = diagnosis.verdict("WORKER_NOT_CONSUMING")
    assert nowork.status is CONFIRMED
    assert nowork.detail["reason"] == "sqs_unreachable"
    assert "3 receive(s) failed" in nowork.explanation
    assert nowork.role is Role.CONSEQUENCE
    assert nowork.caused_by == ["AWS_UNREACHABLE"]
    assert [v.code for v in diagnosis.causes()] == ["AWS_UNREACHABLE"]


def test_poll_failures_that_ended_before_the_task_was_sent_do_not_explain_it():
    run = request_run(worker=False, client="TIMEOUT")
    poll_failures(run, -1500, -800)
    nowork = diagnosis_of(run).verdict("WORKER_NOT_CONSUMING")
    assert nowork.status is CONFIRMED
    assert nowork.detail["reason"] == "unknown"
    assert nowork.role is Role.CAUSE
    assert nowork.caused_by == []


def test_a_cloudwatch_failure_is_confirmed_though_the_client_saw_success():
    run = request_run()
    run.log(
        380,
        "worker-1",
        sc.METRICS_NOT_SENT,
        "CloudWatch metrics not sent: Throttling",
        "WARNING",
        fields={
            sc.F_DEPENDENCY: sc.CLOUDWATCH,
            sc.F_SYMPTOM: "throttled",
            sc.F_ERROR: "An error occurred (Throttling) when calling the PutMetricData operation",
        },
    )
    diagnosis = diagnosis_of(run)
    assert diagnosis.client_status == "SUCCESS"
    assert diagnosis.confirmed_codes() == ["AWS_UNREACHABLE"]
    verdict = diagnosis.verdict("AWS_UNREACHABLE")
    assert verdict.detail["dependency"] == sc.CLOUDWATCH
    assert verdict.detail["component"] == "worker-1"
    assert verdict.detail["symptom"] == "throttled"
    assert diagnosis.verdict(HEALTHY).status is RULED_OUT


@pytest.mark.parametrize(
    ("event", "dependency", "symptom"),
    [
        (sc.TASK_FAILED, sc.S3, "server_error"),
        (sc.MESSAGE_NOT_DELETED, sc.SQS, "reset"),
        (sc.VISIBILITY_NOT_EXTENDED, sc.SQS, "blackhole"),
    ],
)
def test_each_worker_dependency_failure_event_names_its_service(event, dependency, symptom):
    run = request_run()
    run.log(
        200,
        "worker-1",
        event,
        "text",
        "WARNING",
        fields={sc.F_DEPENDENCY: dependency, sc.F_SYMPTOM: symptom},
    )
    verdict = diagnosis_of(run).verdict("AWS_UNREACHABLE")
    assert verdict.status is CONFIRMED
    assert (verdict.detail["dependency"], verdict.detail["symptom"]) == (dependency, symptom)
    assert verdict.detail["components"] == ["worker-1"]


def test_an_aws_error_answer_on_the_wire_alone_is_aws_unreachable():
    run = request_run(wire=True)
    answer = {DETAIL_STATUS: 503, DETAIL_ERROR_CODE: "SlowDown"}
    run.exchange(400, "worker->s3", "S3.PutObject", "bucket/out", answer_ms=402, **answer)
    verdict = diagnosis_of(run).verdict("AWS_UNREACHABLE")
    assert verdict.status is CONFIRMED
    assert (verdict.detail["dependency"], verdict.detail["symptom"]) == (sc.S3, "throttled")
    assert "only the network shows it" in verdict.explanation


def test_an_unanswered_long_poll_is_not_silence():
    run = request_run(wire=True)
    run.exchange(400, "worker->sqs", "SQS.ReceiveMessage", "nanogrid-tasks", closed_ms=20_400)
    assert diagnosis_of(run).verdict("AWS_UNREACHABLE").status is RULED_OUT


def test_a_healthy_run_with_its_wire_recorded_is_healthy():
    diagnosis = diagnosis_of(request_run(wire=True))
    assert diagnosis.confirmed_codes() == [HEALTHY]
    assert EvidenceKind.WIRE in kinds(diagnosis, "REDIS_UNREACHABLE")


# --- REDIS_UNREACHABLE on the wire ------------------------------------------------------------


def silent_redis(path: str, name: str, closed_ms: float | None) -> RunBuilder:
    """A request whose components report nothing: only the client's timeout, and the wire."""
    run = RunBuilder()
    run.call("run", 0, 2500, None, {}, error="ReadTimeout: timed out")
    run.exchange(2, path, name, run.channel, closed_ms=closed_ms)
    return run


@pytest.mark.parametrize(
    ("path", "name", "component"),
    [("controller->redis", "SUBSCRIBE", "controller"), ("worker->redis", "PUBLISH", "worker")],
)
def test_a_redis_blackhole_seen_only_on_the_wire(path, name, component):
    diagnosis = diagnosis_of(silent_redis(path, name, closed_ms=2100))
    verdict = diagnosis.verdict("REDIS_UNREACHABLE")
    assert verdict.status is CONFIRMED
    assert verdict.detail["symptom"] == "blackhole"
    assert verdict.detail["components"] == [component]
    assert "only the network shows it" in verdict.explanation
    assert kinds(diagnosis, "REDIS_UNREACHABLE") == {EvidenceKind.WIRE}


def test_a_connection_closed_at_once_is_a_reset_not_a_blackhole():
    verdict = diagnosis_of(silent_redis("controller->redis", "SUBSCRIBE", 60)).verdict(
        "REDIS_UNREACHABLE"
    )
    assert verdict.status is CONFIRMED
    assert verdict.detail["symptom"] == "reset"


def test_a_command_still_in_flight_when_the_evidence_ends_shows_nothing():
    run = silent_redis("controller->redis", "SUBSCRIBE", closed_ms=None)
    assert diagnosis_of(run).verdict("REDIS_UNREACHABLE").status is UNKNOWN


def test_the_component_and_the_wire_both_seeing_it_say_so():
    run = request_run(unavailable=(sc.REDIS, "blackhole"))
    run.exchange(2, "controller->redis", "SUBSCRIBE", run.channel, closed_ms=2100)
    verdict = diagnosis_of(run).verdict("REDIS_UNREACHABLE")
    assert verdict.status is CONFIRMED
    assert verdict.detail["wireSymptoms"] == ["blackhole"]
    assert "the network saw it too: blackhole" in verdict.explanation


# --- delivery -------------------------------------------------------------------------------


def test_a_result_published_to_nobody_after_the_deadline_is_late_not_unsubscribed():
    diagnosis = diagnosis_of(request_run(function_ms=5000, receivers=0, client="TIMEOUT"))
    late = diagnosis.verdict("RESULT_AFTER_DEADLINE")
    assert late.status is CONFIRMED
    assert late.detail["lateMs"] > 0
    nosub = diagnosis.verdict("RESULT_PUBLISHED_WITHOUT_SUBSCRIBER")
    assert nosub.status is RULED_OUT
    assert "only after the controller had stopped waiting" in nosub.explanation
    assert {h.id: h.status for h in diagnosis.hypotheses}["H3"] is RULED_OUT


def test_a_result_published_to_nobody_in_time_is_unsubscribed_not_late():
    diagnosis = diagnosis_of(request_run(receivers=0, late_subscribe=True, client="TIMEOUT"))
    assert diagnosis.verdict("RESULT_PUBLISHED_WITHOUT_SUBSCRIBER").status is CONFIRMED
    late = diagnosis.verdict("RESULT_AFTER_DEADLINE")
    assert late.status is RULED_OUT
    assert "before the controller gave up" in late.explanation


def memo_shaped_run(*, controller_log: bool = False) -> RunBuilder:
    """What the memo's teams held: the worker's log without a receiver count, the client's
    TIMEOUT and the published FAILED result; the controller's own view optionally."""
    run = RunBuilder()
    run.log(0, "worker-1", sc.RESULT_PUBLISHING, "Publishing result to channel")
    run.log(1, "worker-1", sc.RESULT_PUBLISHED, "Result published successfully")
    run.log(2, "worker-1", sc.TASK_DONE, "[DONE][FAILED]", fields={sc.F_STATUS: "FAILED"})
    if controller_log:
        run.log(-5, "controller", sc.RESULT_SUBSCRIBING, "Subscribing to channel")
    run.call("run", -10, 25_000, 200, {"status": "TIMEOUT", "message": "Execution timed out"})
    run.call("fetch", 25_100, 25_101, 200, {"status": "FAILED", "exitCode": 2})
    return run


def test_failed_that_nobody_saw_arrive_is_unknown_not_ruled_out():
    diagnosis = diagnosis_of(memo_shaped_run())
    fnp = diagnosis.verdict("FAILED_NOT_PROPAGATED")
    assert fnp.status is UNKNOWN
    assert "subscribers=" in fnp.explanation
    assert diagnosis.verdict("RESULT_PUBLISHED_WITHOUT_SUBSCRIBER").status is UNKNOWN


def test_failed_that_the_recorded_controller_never_got_is_ruled_out():
    fnp = diagnosis_of(memo_shaped_run(controller_log=True)).verdict("FAILED_NOT_PROPAGATED")
    assert fnp.status is RULED_OUT
    assert "never reached the waiting controller" in fnp.explanation


def test_a_timeout_without_a_time_leaves_the_deadline_rules_undecided():
    run = memo_shaped_run()
    run.calls = [
        CallRecord("run", None, run.request_id, None, {"status": "TIMEOUT"}, 0, 0),
        *[c for c in run.calls if c.kind != "run"],
    ]
    diagnosis = diagnosis_of(run)
    for code in ("RESULT_AFTER_DEADLINE", "SLOW_FUNCTION"):
        assert diagnosis.verdict(code).status is UNKNOWN, code
        assert "when it gave up is not recorded" in diagnosis.verdict(code).explanation


def test_a_slow_function_causes_the_result_after_the_deadline():
    diagnosis = diagnosis_of(request_run(function_ms=5000, receivers=0, client="TIMEOUT"))
    slow = diagnosis.verdict("SLOW_FUNCTION")
    assert slow.status is CONFIRMED
    assert slow.role is Role.CAUSE
    assert slow.detail["runMs"] == 5000
    late = diagnosis.verdict("RESULT_AFTER_DEADLINE")
    assert late.role is Role.CONSEQUENCE
    assert late.caused_by == ["SLOW_FUNCTION"]
    assert [v.code for v in diagnosis.causes()] == ["SLOW_FUNCTION"]
    assert [v.code for v in diagnosis.consequences()] == ["RESULT_AFTER_DEADLINE"]


def test_a_function_that_ends_well_within_the_deadline_is_not_slow():
    verdict = diagnosis_of(request_run(client="TIMEOUT", ignored=True)).verdict("SLOW_FUNCTION")
    assert verdict.status is RULED_OUT


# --- SLOW_DEPENDENCY ------------------------------------------------------------------------


def test_a_slow_download_step_is_slow_though_its_s3_call_was_fast():
    run = request_run(download_ms=3000)
    client = next(s for s in run.spans if s.name == "S3.GetObject")
    assert client.duration_ns < 10_000_000
    verdict = diagnosis_of(run).verdict("SLOW_DEPENDENCY")
    assert verdict.status is CONFIRMED
    assert verdict.detail["steps"] == [f"step {sc.SPAN_DOWNLOAD}"]
    assert verdict.detail["components"] == ["worker-1"]


@pytest.mark.parametrize(("download_ms", "status"), [(3000, RULED_OUT), (7000, CONFIRMED)])
def test_a_big_package_gets_its_transfer_time_on_top_of_the_floor(download_ms, status):
    run = request_run(download_ms=download_ms, zip_bytes=50_000_000)  # 5 s at 10 MB/s
    assert diagnosis_of(run).verdict("SLOW_DEPENDENCY").status is status


def test_a_slow_answer_on_the_wire_is_slow_dependency():
    run = request_run(wire=True)
    run.exchange(400, "worker->cloudwatch", "CloudWatch.PutMetricData", answer_ms=1900)
    verdict = diagnosis_of(run).verdict("SLOW_DEPENDENCY")
    assert verdict.status is CONFIRMED
    assert verdict.detail["steps"] == ["wire worker->cloudwatch CloudWatch.PutMetricData"]


# --- WORKER_CRASHED -------------------------------------------------------------------------


def test_a_worker_killed_mid_run_then_redelivered():
    diagnosis = diagnosis_of(request_run(redelivered=True))
    verdict = diagnosis.verdict("WORKER_CRASHED")
    assert verdict.status is CONFIRMED
    assert verdict.detail == {"worker": "worker-1", "redelivered": True}
    assert "exited at 07:40:19.320 (signal 9) without being stopped" in verdict.explanation
    assert "SQS delivered the task again at 07:40:23.000" in verdict.explanation
    assert {EvidenceKind.SPAN, EvidenceKind.COMPONENT} <= kinds(diagnosis, "WORKER_CRASHED")
    assert verdict.role is Role.CAUSE
    assert diagnosis.verdict("WORKER_NOT_CONSUMING").status is RULED_OUT


def test_a_worker_killed_mid_run_without_redelivery():
    diagnosis = diagnosis_of(request_run(crashed=True, client="TIMEOUT"))
    verdict = diagnosis.verdict("WORKER_CRASHED")
    assert verdict.status is CONFIRMED
    assert verdict.detail == {"worker": "worker-1", "redelivered": False}
    assert "no other worker took the task" in verdict.explanation
    assert diagnosis.verdict("WORKER_NOT_CONSUMING").status is RULED_OUT
    assert diagnosis.verdict("SLOW_FUNCTION").status is not CONFIRMED


def test_a_redelivery_after_the_deadline_makes_the_late_result_a_consequence_of_the_crash():
    diagnosis = diagnosis_of(request_run(redelivered=True, receivers=0, client="TIMEOUT"))
    late = diagnosis.verdict("RESULT_AFTER_DEADLINE")
    assert late.status is CONFIRMED
    assert late.caused_by == ["WORKER_CRASHED"]
    assert [v.code for v in diagnosis.causes()] == ["WORKER_CRASHED"]


@pytest.mark.parametrize(
    ("evidence_ends_ms", "said"),
    [(1000, "expires at 07:40:29.100"), (12_000, "expired at 07:40:29.100")],
)
def test_a_crashed_workers_heartbeat_on_the_wire_says_when_it_lapses(evidence_ends_ms, said):
    run = request_run(crashed=True, client="TIMEOUT")
    fields = {sc.F_HEARTBEAT_TTL: 10}
    run.log(-10, "worker-1", sc.WORKER_POLLING, "polling", fields=fields, request=False)
    key = f"{sc.HEARTBEAT_KEY_PREFIX}worker-1"
    run.exchange(100, "worker->redis", "SET", key, answer_ms=101, value="OK")
    run.exchange(evidence_ends_ms, "worker->redis", "PING", answer_ms=evidence_ends_ms + 1)
    verdict = diagnosis_of(run).verdict("WORKER_CRASHED")
    assert f"its heartbeat, last renewed at 07:40:19.100, {said}" in verdict.explanation
    assert EvidenceKind.WIRE in {e.kind for e in verdict.evidence}


@pytest.mark.parametrize("witness", ["open span", "process exit"])
def test_either_witness_of_a_crash_is_enough(witness):
    run = request_run(crashed=True, client="TIMEOUT")
    if witness == "open span":
        run.components = [life for life in run.components if life.component != "worker-1"]
    else:
        run.spans = [s for s in run.spans if s.ended]
    verdict = diagnosis_of(run).verdict("WORKER_CRASHED")
    assert verdict.status is CONFIRMED
    assert verdict.detail["worker"] == "worker-1"


@pytest.mark.parametrize("life", ["still running", "stopped by the supervisor"])
def test_an_open_span_of_a_worker_that_did_not_crash_is_no_crash(life):
    run = request_run(crashed=True, client="TIMEOUT")
    run.components = [c for c in run.components if c.component != "worker-1"]
    if life == "still running":
        run.life("worker-1", -2000)
    else:
        run.life("worker-1", -2000, 4100, -15, stopped=True)
    assert diagnosis_of(run).verdict("WORKER_CRASHED").status is RULED_OUT


# --- WORKER_NOT_CONSUMING -------------------------------------------------------------------


def test_no_worker_alive_while_the_task_waited():
    run = request_run(worker=False, client="TIMEOUT")
    run.components = [c for c in run.components if not c.component.startswith("worker")]
    run.life("worker-1", -2000, -1000, 0, stopped=True)
    diagnosis = diagnosis_of(run)
    verdict = diagnosis.verdict("WORKER_NOT_CONSUMING")
    assert verdict.status is CONFIRMED
    assert verdict.detail["reason"] == "no_live_worker"
    assert "no worker process was running between 07:40:19.010 and" in verdict.explanation
    assert EvidenceKind.COMPONENT in kinds(diagnosis, "WORKER_NOT_CONSUMING")
    assert diagnosis.verdict("WORKER_CRASHED").status is not CONFIRMED


def test_a_worker_that_started_polling_after_the_send_started_late():
    run = request_run(worker=False, client="TIMEOUT")
    run.components = [c for c in run.components if not c.component.startswith("worker")]
    run.life("worker-1", 1900)
    run.log(2000, "worker-1", sc.WORKER_POLLING, "worker worker-1 polling", request=False)
    verdict = diagnosis_of(run).verdict("WORKER_NOT_CONSUMING")
    assert verdict.detail["reason"] == "late_start"
    assert "worker-1 started polling only at 07:40:21.000" in verdict.explanation


def test_a_worker_alive_throughout_leaves_the_reason_unknown():
    verdict = diagnosis_of(request_run(worker=False, client="TIMEOUT")).verdict(
        "WORKER_NOT_CONSUMING"
    )
    assert verdict.status is CONFIRMED
    assert verdict.detail["reason"] == "unknown"


# --- the evidence contract: events, not message text ----------------------------------------


def strip_events(run: RunBuilder) -> None:
    """The log lines as they were before the contract: the message text, no ``event``."""
    names = {sc.EVENT, sc.F_DEPENDENCY, sc.F_SYMPTOM, sc.F_RECEIVERS, sc.F_STATUS, sc.F_STAGE}
    run.logs = [{k: v for k, v in line.items() if k not in names} for line in run.logs]


def test_failure_wording_in_a_message_without_an_event_confirms_nothing():
    run = request_run()
    for ms, component, text in [
        (100, "controller", "dependency unavailable: redis: connection refused"),
        (200, "worker-1", "[REDIS] publish failed: connection refused (Error 111)"),
        (210, "worker-1", "poll failed, retrying: Connect timeout on endpoint URL"),
        (220, "worker-1", "CloudWatch metrics not sent: Throttling"),
        (230, "worker-1", "[S3][FAIL] The ZIP file is empty!"),
        (240, "controller", "Timeout waiting for result: stage=QUEUED after 4.0s"),
        (250, "worker-1", "[REDIS] Result published successfully, subscribers=0"),
    ]:
        run.log(ms, component, None, text, "ERROR")
    assert diagnosis_of(run).confirmed_codes() == [HEALTHY]


@pytest.mark.parametrize("events", [True, False])
def test_logs_alone_decide_only_through_their_events(events):
    run = request_run(receivers=0, late_subscribe=True, client="TIMEOUT")
    run.spans = []
    if not events:
        strip_events(run)
    verdict = diagnosis_of(run).verdict("RESULT_PUBLISHED_WITHOUT_SUBSCRIBER")
    assert verdict.status is (CONFIRMED if events else UNKNOWN)
    if events:
        assert verdict.detail["cause"] == "late_subscription"


def test_a_task_taken_and_never_seen_finishing_leaves_the_crash_undecided():
    run = RunBuilder()
    run.log(0, "worker-1", sc.TASK_RECEIVED, "task received", fields={sc.F_RECEIVE_COUNT: 1})
    run.call("run", -10, 2_000, 200, {"status": "TIMEOUT"})
    crash = diagnosis_of(run).verdict("WORKER_CRASHED")
    assert crash.status is UNKNOWN
    assert "nothing shows it finishing" in crash.explanation
    run.log(5, "worker-1", sc.TASK_DONE, "[DONE][SUCCESS]", fields={sc.F_STATUS: "SUCCESS"})
    assert diagnosis_of(run).verdict("WORKER_CRASHED").status is RULED_OUT


def test_success_is_not_healthy_while_what_success_can_hide_is_undecided():
    run = RunBuilder()
    run.call("run", 0, 50, 200, {"status": "SUCCESS"})
    healthy = diagnosis_of(run).verdict(HEALTHY)
    assert healthy.status is UNKNOWN
    assert "cannot rule out" in healthy.explanation
    assert diagnosis_of(request_run()).verdict(HEALTHY).status is CONFIRMED


def test_a_redelivered_task_whose_first_taker_is_unseen_leaves_the_crash_undecided():
    run = RunBuilder()
    run.log(0, "worker-2", sc.TASK_RECEIVED, "task received", fields={sc.F_RECEIVE_COUNT: 2})
    run.log(5, "worker-2", sc.TASK_DONE, "[DONE][SUCCESS]", fields={sc.F_STATUS: "SUCCESS"})
    run.call("run", -10, 2_000, 200, {"status": "SUCCESS"})
    assert diagnosis_of(run).verdict("WORKER_CRASHED").status is UNKNOWN
