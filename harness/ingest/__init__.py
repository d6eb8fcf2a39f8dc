"""Evidence from a real deployment: any mix of files and folders, read into the
evidence contract (:class:`harness.evidence.Evidence`) that the diagnosis reads.

Each file's format is recognised from its first lines (one adapter per format, in
:mod:`harness.ingest.adapters`): JSON log lines (the platform's, pino, bunyan, structlog,
logstash), plain-text log lines (the incident memo's ``HH:MM:SS.mmm [LEVEL] message``,
logback/log4j, Python logging), OTLP JSON lines, Jaeger JSON exports, and the JSON
results and responses a client saw. Log records become the platform's log lines
(:mod:`harness.ingest.normalise`): a wording the platform uses, or one a pattern file
maps (:mod:`harness.ingest.patterns`), gets its ``event`` and fields. Reading never
executes or trusts content (:mod:`harness.ingest.source`): lines are capped, bad bytes
replaced, JSON bombs refused, binary files skipped, each counted in the file's
:class:`SourceReport`.

::

    found = ingest([Path("worker.log"), Path("published-result.json")],
                   date=datetime.date(2025, 12, 2))
    found.evidence          # Evidence: logs, spans, calls; never a ledger
    found.sources           # per file: kind, component, lines, unparsed, warnings
    found.date_source       # "option", "evidence: <file>" or "unknown"

A run directory of the platform is read as it is (:func:`ingest_runs`, one per run).
"""

from __future__ import annotations

from harness.ingest.errors import IngestError, NothingUsable, PatternError
from harness.ingest.limits import Limits
from harness.ingest.patterns import PatternSet
from harness.ingest.pipeline import ingest, ingest_runs
from harness.ingest.problems import WarningKind
from harness.ingest.report import Ingested, SourceReport, UnparsedLine

__all__ = [
    "IngestError",
    "Ingested",
    "Limits",
    "NothingUsable",
    "PatternError",
    "PatternSet",
    "SourceReport",
    "UnparsedLine",
    "WarningKind",
    "ingest",
    "ingest_runs",
]
