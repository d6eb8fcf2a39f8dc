"""The values a diagnosis is made of: evidence items, phrases, verdicts, hypotheses.

A :class:`Verdict` explains itself with :class:`Phrase` values (a message key, its English
template and its parameters) rather than with finished prose, so a report can render the
same explanation in another language (see :mod:`harness.report.i18n`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class VerdictStatus(StrEnum):
    """Three-valued, as Jepsen's checkers are."""

    CONFIRMED = "confirmed"  # the evidence shows it happened
    RULED_OUT = "ruled_out"  # the evidence shows it did not happen
    UNKNOWN = "unknown"  # the evidence needed to decide is missing


class EvidenceKind(StrEnum):
    """Where an evidence item comes from."""

    SPAN = "span"  # a span, one of its events, or an attribute
    LOG = "log"  # a JSON log line
    WIRE = "wire"  # what a proxy saw pass on the network
    COMPONENT = "component"  # the supervisor's record of a component's lifetime
    CALL = "call"  # what the client saw
    FAULT = "fault"  # a fault ledger event: drawn on the timeline, never a verdict's evidence


def clock(ts_ns: int) -> str:
    """``HH:MM:SS.mmm`` in UTC, the memo's notation; ``--:--:--.---`` for an unknown time."""
    if ts_ns <= 0:
        return "--:--:--.---"
    moment = datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


@dataclass(frozen=True)
class EvidenceItem:
    """One observation a verdict rests on; ``ref`` names the timeline row it comes from."""

    ts_ns: int
    component: str
    kind: EvidenceKind
    text: str
    ref: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ts": clock(self.ts_ns),
            "tsNs": self.ts_ns,
            "component": self.component,
            "kind": str(self.kind),
            "text": self.text,
            "ref": self.ref,
        }


@dataclass(frozen=True)
class Phrase:
    """A sentence part: ``key`` for the catalogue, ``en`` its English template."""

    key: str
    en: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, template: str | None = None) -> str:
        return (template or self.en).format(**self.params)


class Role(StrEnum):
    """What a confirmed verdict is in the causal chain."""

    CAUSE = "cause"  # a root cause: nothing else confirmed explains it
    CONSEQUENCE = "consequence"  # follows from the verdicts in ``caused_by``


@dataclass
class Verdict:
    """A taxonomy code with its status, evidence, because/however phrases and detail.

    A confirmed verdict has a ``role``; a consequence names its causes in ``caused_by``.
    """

    code: str
    status: VerdictStatus
    evidence: list[EvidenceItem] = field(default_factory=list)
    because: list[Phrase] = field(default_factory=list)
    however: list[Phrase] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    role: Role | None = None
    caused_by: list[str] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        """The English prose: ``confirmed because ...; however ...``."""
        return explain(self, lambda p: p.render())

    @property
    def confirmed(self) -> bool:
        return self.status is VerdictStatus.CONFIRMED


def explain(verdict: Verdict, render: Any, words: dict[str, str] | None = None) -> str:
    """Join a verdict's phrases with ``render`` (Phrase -> str) and the connecting words."""
    words = words or {"because": "because", "however": "however", "and": "; "}
    status = words.get(f"status.{verdict.status}", str(verdict.status).replace("_", " "))
    text = f"{status} {words['because']} " + words["and"].join(render(p) for p in verdict.because)
    if verdict.however:
        text += f"; {words['however']} " + words["and"].join(render(p) for p in verdict.however)
    return text


@dataclass
class Hypothesis:
    """One of the memo's guesses, decided by the verdict it maps onto (``verdict``)."""

    id: str
    title: str
    likelihood: str  # the memo's guess, kept for the record
    verdict: Verdict

    @property
    def code(self) -> str:
        return self.verdict.code

    @property
    def status(self) -> VerdictStatus:
        return self.verdict.status

    @property
    def explanation(self) -> str:
        return self.verdict.explanation

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "memoLikelihood": self.likelihood,
            "code": self.code,
            "status": str(self.status),
            "evidence": [e.to_dict() for e in self.verdict.evidence],
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class Step:
    """One step of a request, as compared between runs: a key and a coarse outcome."""

    key: str
    outcome: str
    ts_ns: int
    component: str

    def describe(self) -> str:
        return f"{self.key}: {self.outcome}"


@dataclass(frozen=True)
class Divergence:
    """Where a run's step sequence first leaves the baseline's (Jaeger's trace compare)."""

    index: int
    failed: Step | None
    baseline: Step | None

    @property
    def step(self) -> str:
        return (self.failed or self.baseline or Step("?", "", 0, "")).key

    def describe(self) -> str:
        mine = self.failed.describe() if self.failed else "(nothing)"
        theirs = self.baseline.describe() if self.baseline else "(nothing)"
        return f"step {self.index + 1}: this run {mine}; baseline {theirs}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "step": self.step,
            "failed": None if self.failed is None else self.failed.describe(),
            "baseline": None if self.baseline is None else self.baseline.describe(),
            "ts": clock(self.failed.ts_ns) if self.failed else None,
            "text": self.describe(),
        }
