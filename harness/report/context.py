"""What the renderers show, computed once: one :class:`VariantView` per run directory.

Both renderers (:mod:`~harness.report.markdown`, :mod:`~harness.report.html`) read these
plain values; every fixed text goes through :func:`harness.report.i18n.t`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.analysis import (
    FAULT_CODES,
    Diagnosis,
    RequestTimeline,
    Timeline,
    Verdict,
    build_timeline,
    clock,
    diagnose,
)
from harness.analysis.facts import RequestFacts, log_component, message
from harness.analysis.sequence import Sequence, request_sequence
from harness.analysis.timeline import FaultInterval
from harness.evidence import Evidence, log_time_ns
from harness.report import i18n
from harness.report.chain import Link, causal_chain
from harness.report.sequence import Cited
from nanogrid.telemetry import semconv as sc

LOG_EXCERPT_LINES = 25
#: Requests of a variant drawn as sequence diagrams (a load run has many).
MAX_SEQUENCES = 3


@dataclass
class VerdictView:
    code: str
    status: str
    status_text: str
    title: str
    explanation: str
    fix: str
    evidence: list[dict[str, Any]]
    role: str = ""  # cause | consequence, for a confirmed verdict
    caused_by: list[str] = field(default_factory=list)


@dataclass
class Baseline:
    """The run a variant is drawn beside: its name, answer and first request."""

    name: str
    client_status: str
    sequence: Sequence | None
    faults: list[FaultInterval]
    control: bool  # the scenario's control run, not only a healthy baseline


@dataclass
class VariantView:
    index: int
    name: str
    client_status: str
    diagnosis: Diagnosis
    timeline: Timeline
    verdicts: list[VerdictView]
    hypotheses: list[dict[str, str]]
    steps: list[dict[str, str]]
    log_excerpt: list[str]
    published: str | None
    divergence: str | None
    cited: dict[str, list[str]] = field(default_factory=dict)  # row ref -> verdict codes
    chain: list[Link] = field(default_factory=list)
    citations: dict[str, Cited] = field(default_factory=dict)  # ref -> number, codes
    sequences: list[Sequence] = field(default_factory=list)
    baseline: Baseline | None = None
    evidence: Evidence | None = None

    @property
    def others(self) -> list[VerdictView]:
        """The verdicts not confirmed: ruled out, then unknown."""
        rest = [v for v in self.verdicts if v.status != "confirmed"]
        return sorted(rest, key=lambda v: v.status != "ruled_out")

    @property
    def emulator(self) -> str:
        """What the run's AWS calls went to, as its evidence recorded it ('' when unsaid)."""
        found = (self.evidence.environment if self.evidence is not None else {}).get("emulator")
        if not isinstance(found, dict):
            return ""
        name = " ".join(str(found[k]) for k in ("emulator", "version") if found.get(k))
        image = f" (image {found['image']})" if found.get("image") else ""
        deviations = "; ".join(str(d) for d in found.get("deviations") or [])
        return f"{name}{image}" + (f"; deviation: {deviations}" if deviations else "")

    def counts(self) -> dict[str, int]:
        found = [v.status for v in self.verdicts]
        return {"ruled_out": found.count("ruled_out"), "unknown": found.count("unknown")}

    def as_baseline(self, control: bool) -> Baseline:
        first = self.sequences[0] if self.sequences else None
        return Baseline(self.name, self.client_status, first, self.timeline.faults, control)

    @property
    def prefix(self) -> str:
        return f"v{self.index}"

    @property
    def confirmed(self) -> list[VerdictView]:
        return [v for v in self.verdicts if v.status == "confirmed" and v.code in FAULT_CODES]

    @property
    def request(self) -> RequestTimeline | None:
        return self.timeline.requests[0] if self.timeline.requests else None


def verdict_view(lang: str, verdict: Verdict) -> VerdictView:
    return VerdictView(
        code=verdict.code,
        status=str(verdict.status),
        status_text=i18n.t(lang, f"status.{verdict.status}"),
        title=i18n.t(lang, f"verdict.{verdict.code}.title"),
        explanation=i18n.explanation(lang, verdict),
        fix=i18n.t(lang, f"verdict.{verdict.code}.fix"),
        evidence=[{**e.to_dict(), "anchor": e.ref} for e in verdict.evidence],
        role=str(verdict.role or ""),
        caused_by=list(verdict.caused_by),
    )


def variant_view(
    lang: str,
    index: int,
    name: str,
    evidence: Evidence,
    baseline: Evidence | None,
    diagnosis: Diagnosis | None = None,
) -> VariantView:
    """The view of one run; ``diagnosis`` is the run's own (made here when not given)."""
    diagnosis = diagnosis or diagnose(evidence, baseline if baseline is not evidence else None)
    timeline = build_timeline(evidence, diagnosis.facts)
    verdicts = [verdict_view(lang, v) for v in diagnosis.verdicts]
    req = diagnosis.facts.requests[0] if diagnosis.facts.requests else None
    first = timeline.requests[0] if timeline.requests else None
    steps = [
        {
            "number": str(s.number),
            "ts": clock(s.ts_ns),
            "component": s.component,
            "text": i18n.phrase(lang, s.phrase),
            "status": s.status,
        }
        for s in (first.steps if first else [])
    ]
    cited: dict[str, list[str]] = {}
    for each in verdicts:
        if each.status == "confirmed":
            for item in each.evidence:
                cited.setdefault(item["ref"], []).append(each.code)
    view = VariantView(
        index=index,
        name=name,
        client_status=str(diagnosis.client_status),
        diagnosis=diagnosis,
        timeline=timeline,
        verdicts=verdicts,
        hypotheses=[_hypothesis(lang, h) for h in diagnosis.hypotheses],
        steps=steps,
        log_excerpt=log_excerpt(req) if req else [],
        published=_published(req),
        divergence=diagnosis.divergence.describe() if diagnosis.divergence else None,
        cited=cited,
        evidence=evidence,
    )
    view.chain, view.citations = causal_chain(view.confirmed)
    facts = diagnosis.facts
    view.sequences = [request_sequence(facts, r) for r in facts.requests[:MAX_SEQUENCES]]
    return view


def _hypothesis(lang: str, hypothesis: Any) -> dict[str, str]:
    return {
        "id": hypothesis.id,
        "title": hypothesis.title,
        "likelihood": hypothesis.likelihood,
        "code": hypothesis.code,
        "status": str(hypothesis.status),
        "status_text": i18n.t(lang, f"status.{hypothesis.status}"),
        "explanation": i18n.explanation(lang, hypothesis.verdict),
    }


def log_excerpt(req: RequestFacts, limit: int = LOG_EXCERPT_LINES) -> list[str]:
    """The request's log lines in the memo's shape: ``HH:MM:SS.mmm [LEVEL] component message``."""
    lines = sorted(req.logs, key=log_time_ns)[:limit]
    return [
        f"{clock(log_time_ns(line))} [{line.get('level', 'INFO')}] {log_component(line)}: "
        f"{message(line)}"
        for line in lines
    ]


def _published(req: RequestFacts | None) -> str | None:
    result = req.published_result if req else None
    return None if result is None else json.dumps(result, indent=2, ensure_ascii=False)


@dataclass
class ControlView:
    client_status: str
    log_excerpt: list[str]
    response: str


def control_view(control: Evidence | None) -> ControlView | None:
    if control is None:
        return None
    diagnosis = diagnose(control)
    req = diagnosis.facts.requests[0] if diagnosis.facts.requests else None
    if req is None:
        return ControlView("None", [], "{}")
    worker = [line for line in log_excerpt(req) if "worker" in line.split(": ")[0]]
    body = json.dumps(req.call.body, indent=2, ensure_ascii=False)
    return ControlView(str(req.client_status), worker or log_excerpt(req), body)


def observations(lang: str, variants: list[VariantView]) -> list[dict[str, Any]]:
    """The single observations that tell the memo's hypotheses apart, per variant."""
    rows = []
    for key, read in _OBSERVATIONS:
        values = []
        for view in variants:
            req = view.diagnosis.facts.requests[0] if view.diagnosis.facts.requests else None
            values.append(read(lang, req, view.diagnosis) if req else i18n.t(lang, "obs.none"))
        rows.append(
            {"label": i18n.t(lang, key), "tells": i18n.t(lang, f"{key}.tells"), "values": values}
        )
    return rows


def _receivers(lang: str, req: RequestFacts, _: Diagnosis) -> str:
    found = req.receivers
    return ", ".join(f"{n} ({clock(ts)})" for ts, n in found) if found else i18n.t(lang, "obs.none")


def _order(lang: str, req: RequestFacts, _: Diagnosis) -> str:
    sub = req.events(sc.RESULT_SUBSCRIBING)
    sent = req.events(sc.TASK_SENT)
    if not sub or not sent:
        return i18n.t(lang, "obs.none")
    a, b = log_time_ns(sub[0]), log_time_ns(sent[0])
    word = i18n.t(lang, "obs.yes" if a <= b else "obs.no")
    return f"{word} ({clock(a)} / {clock(b)})"


def _ignored(lang: str, req: RequestFacts, _: Diagnosis) -> str:
    found = [(ts, a) for ts, a in req.wait_events("message ignored") if a.get("status") == "FAILED"]
    if not found:
        return i18n.t(lang, "obs.no")
    return f"{i18n.t(lang, 'obs.yes')} ({clock(found[0][0])})"


def _redis_error(lang: str, req: RequestFacts, diagnosis: Diagnosis) -> str:
    verdict = diagnosis.verdict("REDIS_UNREACHABLE")
    if verdict.confirmed and "controller" in verdict.detail.get("components", []):
        first = next((e for e in verdict.evidence if e.component == "controller"), None)
        when = clock(first.ts_ns) if first else ""
        return f"{i18n.t(lang, 'obs.yes')}: {verdict.detail.get('symptom')} {when}".strip()
    return i18n.t(lang, "obs.no")


def _answer(lang: str, req: RequestFacts, _: Diagnosis) -> str:
    stage = req.call.body.get("stage")
    text = f"{req.client_status} ({clock(req.call.endNs)})"
    return f"{text}, stage {stage}" if stage else text


_OBSERVATIONS = (
    ("obs.receivers", _receivers),
    ("obs.order", _order),
    ("obs.ignored", _ignored),
    ("obs.redis_error", _redis_error),
    ("obs.answer", _answer),
)
