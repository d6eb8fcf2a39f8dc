"""One file read by the adapter that recognises it, into entries and counts.

Nothing in a file can make this raise: a binary file is skipped, an unreadable one is
reported, and a line no adapter reads is kept as unparsed. The first
:attr:`Limits.unparsed_kept` unparsed lines are kept; all are counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.ingest.adapters import Context, choose
from harness.ingest.components import Decided, fallback
from harness.ingest.limits import Limits
from harness.ingest.problems import WarningKind
from harness.ingest.records import CallEntry, LogEntry, Record, SpanEntry, Unparsed
from harness.ingest.source import Source

BINARY = "binary"
UNREADABLE = "unreadable"


@dataclass
class Reading:
    """What one file gave."""

    path: Path
    source: Source
    kind: str
    fallback: Decided
    logs: list[LogEntry] = field(default_factory=list)
    spans: list[SpanEntry] = field(default_factory=list)
    calls: list[CallEntry] = field(default_factory=list)
    unparsed: list[Unparsed] = field(default_factory=list)  # the first ones, text capped
    unparsed_count: int = 0
    unparsed_lines: int = 0  # of them, those that are lines (not parts of a document)
    notes: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return bool(self.logs or self.spans or self.calls)

    def add(self, record: Record, limits: Limits) -> None:
        if isinstance(record, LogEntry):
            self.logs.append(record)
        elif isinstance(record, SpanEntry):
            self.spans.append(record)
        elif isinstance(record, CallEntry):
            self.calls.append(record)
        else:
            self.unparsed_count += 1
            self.unparsed_lines += record.line > 0
            if len(self.unparsed) < limits.unparsed_kept:
                text = record.text[: limits.unparsed_text]
                self.unparsed.append(Unparsed(record.line, text, record.reason))


def read_file(path: Path, components: Mapping[str, Path], limits: Limits) -> Reading:
    """Read ``path`` with the adapter that recognises most of its first lines."""
    source = Source(path, limits)
    decided = fallback(path, components)
    reading = Reading(path, source, UNREADABLE, decided)
    try:
        if source.is_binary():
            source.warn(WarningKind.BINARY)
            reading.kind = BINARY
            return reading
        adapter = choose(source)
        reading.kind = adapter.name
        ctx = Context(decided.name, limits)
        for record in adapter.read(source, ctx):
            reading.add(record, limits)
        reading.notes += ctx.notes
    except OSError as exc:
        source.warn(WarningKind.UNREADABLE)
        reading.notes.append(f"could not be read to the end: {exc}")
    return reading
