"""What a scenario asserts about a run: the client-visible outcome and the fault ledger."""

from __future__ import annotations

from harness.analysis import Diagnosis
from harness.evidence import CallRecord, Evidence
from harness.faults import EventKind, FaultKind
from harness.scenario.model import Expect, Variant

#: Faults that act on connections through the proxy, so the ledger shows them hitting one.
_CONNECTION_FAULTS = {
    FaultKind.BLACKHOLE,
    FaultKind.RESET,
    FaultKind.LATENCY,
    FaultKind.BANDWIDTH,
    FaultKind.SLICER,
}


def _last(calls: list[CallRecord], kind: str) -> CallRecord | None:
    matches = [c for c in calls if c.kind == kind]
    return matches[-1] if matches else None


def check_outcome(expect: Expect, evidence: Evidence) -> list[str]:
    """Problems with the client-visible outcome (empty when it is as expected)."""
    problems: list[str] = []
    upload = _last(evidence.calls, "upload")
    if expect.upload_status is not None and (
        upload is None or upload.httpStatus != expect.upload_status
    ):
        problems.append(
            f"upload answered {upload and upload.httpStatus}, expected {expect.upload_status}"
        )
    if expect.upload_reason is not None and upload is not None:
        reason = upload.body.get("error", {}).get("reason")
        if reason != expect.upload_reason:
            problems.append(f"upload refused for {reason!r}, expected {expect.upload_reason!r}")
    run = _last(evidence.calls, "run")
    outcome = run.status if run else (upload.status if upload else None)
    if outcome != expect.client_status:
        problems.append(f"client saw {outcome}, expected {expect.client_status}")
    body = run.body if run else {}
    for name, wanted in (
        ("errorType", expect.error_type),
        ("stage", expect.stage),
        ("stdout", expect.stdout),
    ):
        if wanted is not None and body.get(name) != wanted:
            problems.append(f"{name} was {body.get(name)!r}, expected {wanted!r}")
    fetch = _last(evidence.calls, "fetch")
    if expect.later_status is not None and (fetch is None or fetch.status != expect.later_status):
        problems.append(
            f"GET /runs showed {fetch and fetch.status}, expected {expect.later_status}"
        )
    if expect.min_deliveries is not None and deliveries(evidence) < expect.min_deliveries:
        problems.append(
            f"{deliveries(evidence)} deliveries, expected at least {expect.min_deliveries}"
        )
    return problems


def check_verdicts(variant: Variant, diagnosis: Diagnosis) -> list[str]:
    """The verdicts the variant expects are confirmed; a healthy run confirms nothing else."""
    confirmed = set(diagnosis.confirmed_codes())
    problems = [
        f"verdict {code} not confirmed (confirmed: {', '.join(sorted(confirmed)) or 'none'})"
        for code in variant.verdicts
        if code not in confirmed
    ]
    if variant.verdicts == ("HEALTHY",) and confirmed != {"HEALTHY"}:
        problems.append(
            f"a healthy run confirmed fault verdicts: {sorted(confirmed - {'HEALTHY'})}"
        )
    return problems


def deliveries(evidence: Evidence) -> int:
    """How often the task was delivered, from the process spans' receive counts."""
    counts = [
        int(s.attributes.get("messaging.aws_sqs.receive_count", 1))
        for s in evidence.spans
        if s.name.startswith("process ")
    ]
    return max(counts, default=0)


def check_ledger(variant: Variant, evidence: Evidence) -> list[str]:
    """Every fault the variant declares was installed (and, where it acts on connections,
    hit one); a variant without faults has none in its ledger."""
    problems: list[str] = []
    added = {(e.proxy, e.fault) for e in evidence.ledger if e.event == EventKind.FAULT_ADDED}
    hits = {(e.proxy, e.fault) for e in evidence.ledger if e.event == EventKind.FAULT_HIT}
    for spec in variant.faults:
        key = (spec.path, spec.fault.name)
        if key not in added:
            problems.append(f"the ledger has no fault_added for {spec.fault.name} on {spec.path}")
        elif spec.fault.kind in _CONNECTION_FAULTS and key not in hits:
            problems.append(f"fault {spec.fault.name} on {spec.path} never hit a connection")
    if not variant.faults and added:
        problems.append(f"faults in the ledger of a run without faults: {sorted(added)}")
    return problems
