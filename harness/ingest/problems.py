"""The kinds of warning a read counts: what was wrong with an input and was survived."""

from __future__ import annotations

from enum import StrEnum


class WarningKind(StrEnum):
    """What a :class:`~harness.ingest.report.SourceReport` counts, by kind."""

    INVALID_UTF8 = "invalid utf-8"  # a line's bytes were not UTF-8: decoded with U+FFFD
    OVERSIZED_LINE = "oversized line"  # cut at the line cap, its remainder skipped
    UNTERMINATED = "unterminated last line"  # no final newline: read all the same
    JSON_TOO_DEEP = "json too deep"  # nested past the depth cap: not parsed (a bomb)
    JSON_NUMBER = "json number too long"  # an integer of thousands of digits: not parsed
    OVERSIZED_DOCUMENT = "oversized document"  # one JSON document over the cap: read as lines
    OVERSIZED_RECORD = "oversized record"  # continuation lines past the record cap: dropped
    BINARY = "binary"  # NUL bytes near the start: the file was skipped
    UNREADABLE = "unreadable"  # the operating system refused to read it
