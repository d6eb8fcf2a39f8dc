from __future__ import annotations

import pytest

from harness.analysis import FAULT_CODES, HEALTHY, VERDICTS, EvidenceKind, VerdictStatus, diagnose
from harness.evidence import Evidence
from harness.faults import EventKind, FaultKind
from nanogrid.telemetry import semconv as sc
from tests.harness.analysis.builder import RunBuilder
from tests.harness.analysis.synth import request_run

CONFIRMED, RULED_OUT, UNKNOWN = (
    VerdictStatus.CONFIRMED,
    VerdictStatus.RULED_OUT,
    VerdictStatus.UNKNOWN,
)


def status_of(builder: RunBuilder, code: str, baseline: Evidence | None = None) -> VerdictStatus:
    return diagnose(builder.evidence(), baseline).verdict(code).status


def test_taxonomy_documents_every_code():
    import harness.analysis.taxonomy as taxonomy

    for code, info in VERDICTS.items():
        assert f"``{code}``" in (taxonomy.__doc__ or "")
        assert info.title
        assert info.description
        assert info.fix


def test_healthy_baseline_is_healthy_and_rules_every_fault_out():
    diagnosis = diagnose(request_run().evidence())
    assert diagnosis.confirmed_codes() == [HEALTHY]
    for code in FAULT_CODES:
        assert diagnosis.verdict(code).status in (RULED_OUT, UNKNOWN), code
    assert diagnosis.hypotheses == []


def test_incident_confirms_invalid_package_and_failed_not_propagated():
    run = request_run(zip_bytes=34, invalid=True, client="TIMEOUT", ignored=True)
    diagnosis = diagnose(run.evidence())
    assert diagnosis.confirmed_codes() == ["INVALID_PACKAGE", "FAILED_NOT_PROPAGATED"]
    fnp = diagnosis.verdict("FAILED_NOT_PROPAGATED")
    assert "published FAILED at 07:40:19.322 with 1 receiver" in fnp.explanation
    assert "however the controller answered TIMEOUT at 07:40:23.000" in fnp.explanation
    assert {e.kind for e in fnp.evidence} >= {"span", "log", "call"}
    hypotheses = {h.id: h.status for h in diagnosis.hypotheses}
    assert hypotheses == {"H1": CONFIRMED, "H2": RULED_OUT, "H3": RULED_OUT}


def test_failed_relayed_promptly_rules_out_failed_not_propagated():
    run = request_run(zip_bytes=34, invalid=True, client="FAILED")
    diagnosis = diagnose(run.evidence())
    assert diagnosis.verdict("FAILED_NOT_PROPAGATED").status is RULED_OUT
    assert diagnosis.verdict("INVALID_PACKAGE").status is CONFIRMED
    assert diagnosis.verdict(HEALTHY).status is RULED_OUT


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"exit_code": 1, "client": "FAILED"}, "FUNCTION_FAILED"),
        ({"exit_code": -9, "timed_out": True, "client": "FAILED"}, "FUNCTION_TIMEOUT"),
        ({"exit_code": -9, "out_of_memory": True, "client": "FAILED"}, "OUT_OF_MEMORY"),
        ({"upload_status": 400}, "UPLOAD_REJECTED"),
        (
            {"receivers": 0, "late_subscribe": True, "client": "TIMEOUT"},
            "RESULT_PUBLISHED_WITHOUT_SUBSCRIBER",
        ),
        ({"worker": False, "client": "TIMEOUT"}, "WORKER_NOT_CONSUMING"),
        ({"redelivered": True}, "WORKER_CRASHED"),
        ({"s3_ms": 2500.0}, "SLOW_DEPENDENCY"),
    ],
)
def test_each_failure_confirms_its_verdict_and_the_healthy_run_rules_it_out(kwargs, code):
    assert status_of(request_run(**kwargs), code) is CONFIRMED
    assert status_of(request_run(), code) is RULED_OUT
    assert status_of(request_run(**kwargs), HEALTHY) is RULED_OUT


def test_function_outcomes_do_not_confirm_each_other():
    diagnosis = diagnose(request_run(exit_code=-9, timed_out=True, client="FAILED").evidence())
    assert diagnosis.verdict("FUNCTION_FAILED").status is RULED_OUT
    assert diagnosis.verdict("OUT_OF_MEMORY").status is RULED_OUT


@pytest.mark.parametrize("symptom", ["refused", "connect_timeout", "blackhole", "reset"])
@pytest.mark.parametrize("witness", ["body and log", "body", "log"])
def test_redis_unreachable_names_the_symptom_and_the_component(symptom, witness):
    """The symptom is the controller's own (its 503 body and its log event say it)."""
    run = request_run(unavailable=(sc.REDIS, symptom))
    if witness == "body":
        run.logs = [line for line in run.logs if line.get(sc.EVENT) != sc.DEPENDENCY_UNAVAILABLE]
    elif witness == "log":  # a body that does not name the dependency
        del run.calls[-1].body["error"][sc.F_DEPENDENCY]
    diagnosis = diagnose(run.evidence())
    verdict = diagnosis.verdict("REDIS_UNREACHABLE")
    assert verdict.status is CONFIRMED
    assert verdict.detail["symptom"] == symptom
    assert verdict.detail["components"] == ["controller"]
    assert verdict.detail["dependencies"] == [sc.REDIS]
    assert diagnosis.verdict("AWS_UNREACHABLE").status is not CONFIRMED
    assert diagnosis.verdict("WORKER_NOT_CONSUMING").status is RULED_OUT


def test_redis_unreachable_from_the_worker_only_rules_out_h2():
    run = request_run(client="TIMEOUT", receivers=1)
    run.log(
        330,
        "worker-1",
        sc.RESULT_PUBLISH_FAILED,
        "[REDIS] publish failed: connection refused (Error 111)",
        "ERROR",
        fields={
            sc.F_DEPENDENCY: sc.REDIS,
            sc.F_SYMPTOM: "refused",
            sc.F_ERROR: "Error 111 connecting to 127.0.0.1:6379. Connection refused.",
        },
    )
    diagnosis = diagnose(run.evidence())
    verdict = diagnosis.verdict("REDIS_UNREACHABLE")
    assert verdict.detail["components"] == ["worker-1"]
    assert verdict.detail["symptom"] == "refused"
    h2 = next(h for h in diagnosis.hypotheses if h.id == "H2")
    assert h2.status is RULED_OUT
    assert "only from worker-1" in h2.explanation


def test_a_redis_fault_in_the_ledger_alone_confirms_nothing():
    """The ledger is what the harness did, never what the system showed."""
    run = request_run()
    run.fault(
        1,
        "controller->redis",
        EventKind.FAULT_HIT,
        FaultKind.BLACKHOLE,
        connection=3,
        action="drop",
    )
    diagnosis = diagnose(run.evidence())
    verdict = diagnosis.verdict("REDIS_UNREACHABLE")
    assert verdict.status is RULED_OUT
    assert all(item.kind is not EvidenceKind.FAULT for item in verdict.evidence)
    assert "ledger" not in verdict.explanation
    assert diagnosis.confirmed_codes() == [HEALTHY]


def test_a_latency_fault_hit_without_slow_steps_is_not_slow_dependency():
    run = request_run()
    run.fault(
        3, "worker->aws", EventKind.FAULT_HIT, FaultKind.LATENCY, connection=1, action="delay"
    )
    verdict = diagnose(run.evidence()).verdict("SLOW_DEPENDENCY")
    assert verdict.status is RULED_OUT
    assert all(item.kind is not EvidenceKind.FAULT for item in verdict.evidence)
    assert not verdict.however


def test_slow_dependency_compares_with_the_baseline():
    baseline = request_run(s3_ms=700.0).evidence()
    assert status_of(request_run(s3_ms=800.0), "SLOW_DEPENDENCY", baseline) is RULED_OUT
    assert status_of(request_run(s3_ms=3500.0), "SLOW_DEPENDENCY", baseline) is CONFIRMED


def test_late_subscription_is_explained_and_maps_to_h3():
    run = request_run(receivers=0, late_subscribe=True, client="TIMEOUT")
    diagnosis = diagnose(run.evidence())
    verdict = diagnosis.verdict("RESULT_PUBLISHED_WITHOUT_SUBSCRIBER")
    assert verdict.detail["cause"] == "late_subscription"
    assert "subscribed only at 07:40:20.500, after the publish" in verdict.explanation
    assert {h.id: h.status for h in diagnosis.hypotheses}["H3"] is CONFIRMED
    assert diagnosis.verdict("FAILED_NOT_PROPAGATED").status is RULED_OUT


def test_missing_evidence_gives_unknown_not_ruled_out():
    run = request_run(worker=False, client="TIMEOUT")
    diagnosis = diagnose(run.evidence())
    assert diagnosis.verdict("FUNCTION_FAILED").status is UNKNOWN
    assert diagnosis.verdict("FAILED_NOT_PROPAGATED").status is UNKNOWN
    assert diagnosis.verdict("WORKER_NOT_CONSUMING").status is CONFIRMED
    assert diagnosis.verdict("RESULT_PUBLISHED_WITHOUT_SUBSCRIBER").status is UNKNOWN


def test_first_divergence_names_the_first_differing_step():
    baseline = request_run().evidence()
    incident = request_run(zip_bytes=34, invalid=True, client="TIMEOUT", ignored=True)
    divergence = diagnose(incident.evidence(), baseline).divergence
    assert divergence is not None
    assert divergence.step == "package downloaded"
    assert divergence.failed is not None
    assert divergence.failed.outcome == "empty archive"
    late = diagnose(
        request_run(receivers=0, late_subscribe=True, client="TIMEOUT").evidence(), baseline
    )
    assert late.divergence is not None
    assert late.divergence.step == "task sent"
    assert diagnose(request_run().evidence(), baseline).divergence is None


def test_failed_published_to_nobody_is_not_failed_not_propagated():
    """The incident's 34-byte zip under a late subscription: FAILED reached no receiver, so the
    controller never had a FAILED to ignore (H3, not H1)."""
    run = request_run(invalid=True, receivers=0, late_subscribe=True, client="TIMEOUT")
    diagnosis = diagnose(run.evidence())
    fnp = diagnosis.verdict("FAILED_NOT_PROPAGATED")
    assert fnp.status is RULED_OUT
    assert "never reached the waiting controller" in fnp.explanation
    assert set(diagnosis.confirmed_codes()) == {
        "INVALID_PACKAGE",
        "RESULT_PUBLISHED_WITHOUT_SUBSCRIBER",
    }
