"""Conformance: does a controller (or worker) under test keep the platform's invariants?

Each invariant is decided by one scenario of the catalogue, run on the proxied stack with
the components under test (:mod:`harness.components`), and judged from that run's evidence
only: what the client saw and what the fault proxies saw on the wire. No span or log format
is assumed (a component under test has its own), and the fault ledger is never read.

::

    with ScenarioHarness(root, controller_command="examples/legacy-controller/run") as h:
        verdicts = check(h, root / "runs")
    print(render_lines(verdicts))
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.evidence import CallRecord, Evidence, load
from harness.scenario.catalogue import find
from harness.scenario.runner import ScenarioHarness
from harness.wire.model import (
    DETAIL_MESSAGE_IDS,
    KIND_COMMAND,
    KIND_REQUEST,
    KIND_RESPONSE,
    KIND_SUBSCRIBED,
    WireEvent,
)
from nanogrid import defaults

logger = logging.getLogger(__name__)

REPORT_FILE = "conformance.md"
SEND_MESSAGE = "SQS.SendMessage"


@dataclass(frozen=True)
class Finding:
    """Whether an invariant held in a run, and the evidence that decided it."""

    passed: bool
    evidence: str


@dataclass(frozen=True)
class Invariant:
    """A platform invariant, the catalogue scenario that exercises it, and its judge."""

    key: str
    title: str
    scenario: str
    judge: Callable[[Evidence], Finding]


@dataclass(frozen=True)
class Verdict:
    invariant: Invariant
    finding: Finding
    run_dir: Path


def _last(evidence: Evidence, kind: str) -> CallRecord | None:
    calls = [c for c in evidence.calls if c.kind == kind]
    return calls[-1] if calls else None


def _run_id(evidence: Evidence) -> str | None:
    run = _last(evidence, "run")
    return run.requestId if run is not None else None


def _seen(run: CallRecord | None) -> str:
    if run is None:
        return "no /run call"
    if run.error:
        return f"/run failed on the client: {run.error}"
    return f"/run answered {run.httpStatus} {run.body.get('status', '')}".rstrip()


def _wire(evidence: Evidence, path_prefix: str, kind: str, name: str = "") -> list[WireEvent]:
    return [
        e
        for e in evidence.wire
        if e.path.startswith(path_prefix) and e.kind == kind and (not name or e.name == name)
    ]


def judge_upload(evidence: Evidence) -> Finding:
    upload = _last(evidence, "upload")
    status = upload.httpStatus if upload is not None else None
    size = upload.body.get("sizeBytes") if upload is not None else None
    text = f"an empty zip upload was answered {status}"
    if status is not None and 200 <= status < 300:
        text += f" and stored ({size} bytes)" if size is not None else " and stored"
    return Finding(status == 400, text)


def judge_subscribe(evidence: Evidence) -> Finding:
    rid = _run_id(evidence)
    if rid is None:
        return Finding(False, "no requestId: the run cannot be followed on the wire")
    channel = defaults.result_key(rid)
    confirmed = [
        e.ts_ns
        for e in _wire(evidence, "controller->redis", KIND_SUBSCRIBED)
        if e.target == channel
    ]
    sends = [e.ts_ns for e in _wire(evidence, "controller->sqs", KIND_REQUEST, SEND_MESSAGE)]
    if not sends:
        return Finding(False, f"no {SEND_MESSAGE} from the controller on the wire")
    if not confirmed:
        return Finding(False, f"{SEND_MESSAGE} sent; SUBSCRIBE {channel} never confirmed")
    gap_ms = (min(sends) - min(confirmed)) / 1e6
    if gap_ms > 0:
        return Finding(True, f"SUBSCRIBE {channel} confirmed {gap_ms:.1f} ms before {SEND_MESSAGE}")
    return Finding(
        False, f"{SEND_MESSAGE} sent {-gap_ms:.1f} ms before SUBSCRIBE {channel} was confirmed"
    )


def judge_failed(evidence: Evidence) -> Finding:
    run = _last(evidence, "run")
    published = [
        e
        for e in _wire(evidence, "worker->redis", KIND_COMMAND, "PUBLISH")
        if e.target == defaults.result_key(str(_run_id(evidence)))
    ]
    worker = f"; the worker published {len(published)} result(s)"
    ok = run is not None and run.httpStatus == 200 and run.body.get("status") == "FAILED"
    return Finding(ok, f"a failing function: {_seen(run)}{worker}")


def judge_stored(evidence: Evidence) -> Finding:
    rid = _run_id(evidence)
    key = defaults.result_key(str(rid))
    reads = [
        e
        for e in _wire(evidence, "controller->redis", KIND_COMMAND)
        if e.target == key and e.name in ("GET", "MGET", "GETEX")
    ]
    if reads:
        return Finding(True, f"the controller read {key} ({reads[0].name}) besides listening")
    return Finding(
        False,
        f"the controller never read {key}: pub/sub only, a publish "
        "before its subscription would be lost",
    )


def judge_redis_down(evidence: Evidence) -> Finding:
    run = _last(evidence, "run")
    sends = _wire(evidence, "controller->sqs", KIND_REQUEST, SEND_MESSAGE)
    ok = run is not None and run.httpStatus == 503 and not sends
    return Finding(ok, f"Redis refused the controller: {_seen(run)}; {len(sends)} task(s) sent")


def judge_redelivered(evidence: Evidence) -> Finding:
    """The task came back (its first delete refused) and its result was published once."""
    run = _last(evidence, "run")
    key = defaults.result_key(str(_run_id(evidence)))
    published = [
        e for e in _wire(evidence, "worker->redis", KIND_COMMAND, "PUBLISH") if e.target == key
    ]
    sent = {
        str(mid)
        for e in _wire(evidence, "controller->sqs", KIND_RESPONSE, SEND_MESSAGE)
        for mid in e.detail.get(DETAIL_MESSAGE_IDS) or []
    }
    deliveries = sum(
        1
        for e in _wire(evidence, "worker->sqs", KIND_RESPONSE, "SQS.ReceiveMessage")
        for mid in e.detail.get(DETAIL_MESSAGE_IDS) or []
        if str(mid) in sent
    )
    seen = (
        f"{_seen(run)}; task delivered {deliveries} time(s); {len(published)} result(s) published"
    )
    if deliveries < 2:
        return Finding(False, f"no redelivery happened, so it cannot be judged: {seen}")
    ok = run is not None and run.body.get("status") == "SUCCESS" and len(published) == 1
    return Finding(ok, seen)


INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "upload-validated",
        "validates uploads (an empty zip is refused with 400)",
        "empty-zip-refused-at-upload",
        judge_upload,
    ),
    Invariant(
        "subscribe-before-send",
        "subscribes and is confirmed before sending the task",
        "healthy-baseline",
        judge_subscribe,
    ),
    Invariant("failed-relayed", "relays FAILED results", "function-failed-relayed", judge_failed),
    Invariant(
        "stored-result-read",
        "recovers a result from the stored key",
        "healthy-baseline",
        judge_stored,
    ),
    Invariant(
        "redis-down-503",
        "answers 503 before enqueueing when Redis is down",
        "redis-refused-for-controller",
        judge_redis_down,
    ),
    Invariant(
        "redelivery-once",
        "a redelivered task runs once",
        "sqs-delete-refused-for-worker",
        judge_redelivered,
    ),
)


def check(
    harness: ScenarioHarness,
    out_dir: Path,
    invariants: Iterable[Invariant] = INVARIANTS,
    on_scenario: Callable[[str], None] | None = None,
) -> list[Verdict]:
    """Run each deciding scenario once (its first variant) into ``out_dir/<scenario>`` and
    judge every invariant it decides."""
    chosen = list(invariants)
    runs: dict[str, Path] = {}
    for name in dict.fromkeys(i.scenario for i in chosen):
        if on_scenario is not None:
            on_scenario(name)
        scenario = find(name)
        runs[name] = harness.run(scenario, scenario.variants[0], out_dir / name)
    evidence = {name: load(run_dir) for name, run_dir in runs.items()}
    return [Verdict(i, i.judge(evidence[i.scenario]), runs[i.scenario]) for i in chosen]


def render_lines(verdicts: list[Verdict]) -> list[str]:
    """One line per invariant, ``PASS`` or ``FAIL``, its title and deciding evidence."""
    return [
        f"{'PASS' if v.finding.passed else 'FAIL'}  {v.invariant.title}: "
        f"{v.finding.evidence} [{v.invariant.scenario}]"
        for v in verdicts
    ]


def summary(verdicts: list[Verdict]) -> str:
    broken = [v.invariant.key for v in verdicts if not v.finding.passed]
    if not broken:
        return f"conformance: all {len(verdicts)} invariants hold"
    return f"conformance: {len(broken)} of {len(verdicts)} invariants broken ({', '.join(broken)})"


def render_markdown(verdicts: list[Verdict], components: dict[str, str]) -> str:
    under_test = ", ".join(f"{k}: `{v}`" for k, v in components.items()) or "the reference"
    lines = [
        "# Conformance",
        "",
        f"Components under test: {under_test}.",
        "",
        "| verdict | invariant | evidence | scenario (run) |",
        "|---|---|---|---|",
    ]
    for v in verdicts:
        cell = v.finding.evidence.replace("|", "\\|")
        lines.append(
            f"| {'PASS' if v.finding.passed else '**FAIL**'} | {v.invariant.title} | {cell} "
            f"| `{v.invariant.scenario}` (`{v.run_dir}`) |"
        )
    return "\n".join([*lines, "", summary(verdicts), ""])


def write_report(out_dir: Path, verdicts: list[Verdict], components: dict[str, str]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_FILE
    path.write_text(render_markdown(verdicts, components), encoding="utf-8")
    return path
