"""What a scenario asserts about a run: the client-visible outcome, that its declared faults,
knobs and actions really took effect, and the diagnosis's verdicts.

These checks grade a run with ground truth (the ledger, the declaration, the actions);
the diagnosis they grade never saw any of it.
"""

from __future__ import annotations

from harness.analysis import Diagnosis
from harness.analysis.model import Role
from harness.evidence import CallRecord, Evidence
from harness.faults import EventKind
from harness.faults.kinds.base import Layer
from harness.scenario.model import Expect, Variant, expand
from nanogrid.telemetry import semconv as sc

#: The ledger events that show a fault acting on a connection or on one of its messages.
_HITS = (EventKind.FAULT_HIT, EventKind.MESSAGE_HIT)


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
    """The expected verdicts are confirmed, and every other confirmed verdict is a
    consequence of one of them (as the declared consequences must be)."""
    expected = set(variant.verdicts or ("HEALTHY",))
    confirmed = {v.code: v for v in diagnosis.verdicts if v.confirmed}
    shown = ", ".join(sorted(confirmed)) or "none"
    problems = [
        f"verdict {code} not confirmed (confirmed: {shown})"
        for code in sorted(expected)
        if code not in confirmed
    ]
    for code, found in sorted(confirmed.items()):
        if code in expected:
            continue
        if found.role is not Role.CONSEQUENCE:
            problems.append(f"verdict {code} confirmed as a root cause, not expected")
        elif not set(found.caused_by) & expected:
            problems.append(
                f"verdict {code} is a consequence of {found.caused_by}, none of them expected"
            )
    for code in variant.consequences:
        if code not in confirmed:
            problems.append(f"consequence {code} not confirmed (confirmed: {shown})")
        elif confirmed[code].role is not Role.CONSEQUENCE:
            problems.append(f"{code} confirmed as a root cause, expected as a consequence")
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
    """Every fault the variant declares was installed (and, where it acts on connections or
    on messages, hit one); a variant without faults has none in its ledger."""
    problems: list[str] = []
    added = {(e.proxy, e.fault) for e in evidence.ledger if e.event == EventKind.FAULT_ADDED}
    hits = {(e.proxy, e.fault) for e in evidence.ledger if e.event in _HITS}
    for spec in variant.faults:
        keys = [(path, spec.fault.name) for path in expand(spec.path)]
        if not all(key in added for key in keys):
            problems.append(f"the ledger has no fault_added for {spec.fault.name} on {spec.path}")
        elif spec.fault.spec.layer is not Layer.LISTENER and not any(k in hits for k in keys):
            what = "a message" if spec.fault.spec.layer is Layer.MESSAGE else "a connection"
            problems.append(f"fault {spec.fault.name} on {spec.path} never hit {what}")
    if not variant.faults and added:
        problems.append(f"faults in the ledger of a run without faults: {sorted(added)}")
    return problems


def check_actions(evidence: Evidence) -> list[str]:
    """Every action the scenario took (a Redis restart, closing connections) succeeded."""
    return [
        f"action {a.get('action')} did not take effect: {a.get('error')}"
        for a in evidence.actions
        if not a.get("ok")
    ]


def check_knobs(variant: Variant, evidence: Evidence, knobs: dict[str, str]) -> list[str]:
    """Every behaviour knob the variant sets was reported active by its component.

    ``knobs`` maps a knob's environment variable to the name its component logs.
    """
    active = set()
    for line in evidence.logs:
        if line.get(sc.EVENT) == sc.KNOB_ACTIVE:
            active.add(str(line.get(sc.F_KNOB)))
        elif line.get(sc.EVENT) == sc.CONTROLLER_READY:
            active.update(str(k) for k in line.get("legacy") or [])
    problems = []
    for env in (variant.controller_env, variant.worker_env):
        for var in env:
            name = knobs.get(var)
            if name is not None and name not in active:
                problems.append(f"knob {var} ({name}) was set but no component reported it active")
    return problems
