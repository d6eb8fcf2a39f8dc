"""What an ingest gives back: the evidence, and what was read to make it.

:class:`Ingested` holds the :class:`~harness.evidence.Evidence` of one incident (or one
run directory) and, per input file, a :class:`SourceReport`: what it was read as, which
component wrote it and how that was decided, how many lines were read and parsed, the
lines that were not (counted, and the first few kept as :class:`UnparsedLine`), and the
warnings counted by kind (:class:`~harness.ingest.problems.WarningKind`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.evidence import Evidence


@dataclass(frozen=True)
class UnparsedLine:
    """A line no format could read, kept so a report can show it."""

    file: Path
    line: int  # 1-based; 0 stands for the file read as one JSON document
    text: str  # at most Limits.unparsed_text characters
    reason: str = ""


@dataclass
class SourceReport:
    """How one input file was read.

    ``kind`` is the adapter's name (``json-log``, ``text-log``, ``otlp-json``,
    ``jaeger-json``, ``result-json``, ``unrecognised``), ``binary`` or ``unreadable`` for
    a skipped file, ``run-dir`` for a run directory. ``component_rule`` is ``content``,
    ``option`` or ``file name`` (see :mod:`harness.ingest.components`).
    """

    path: Path
    kind: str
    component: str | None = None
    component_rule: str | None = None
    lines_read: int = 0
    lines_parsed: int = 0
    unparsed_count: int = 0
    unparsed: list[UnparsedLine] = field(default_factory=list)  # the first few
    warnings: dict[str, int] = field(default_factory=dict)  # WarningKind value -> count
    records: dict[str, int] = field(default_factory=dict)  # "logs", "spans", "calls" -> count
    notes: list[str] = field(default_factory=list)


@dataclass
class Ingested:
    """The evidence of one incident and how it was read.

    ``evidence.ledger`` and ``evidence.actions`` are always empty and ``evidence.scenario``
    holds names only: what was injected is never evidence. ``date_source`` says where the
    date of time-of-day lines came from: ``option``, ``evidence: <file>``, or ``unknown``
    (then such lines are on 1970-01-01 and marked ``"dateUnknown": true``).
    ``unparsed`` keeps the unparsed lines of every file, up to Limits.unparsed_kept.
    """

    evidence: Evidence
    sources: list[SourceReport]
    date_source: str
    unparsed: list[UnparsedLine] = field(default_factory=list)
