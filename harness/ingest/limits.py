"""The bounds every read keeps to, whatever a file holds (one place, one frozen object)."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much of a file is looked at, kept or parsed.

    A line longer than ``line_bytes`` is cut there (the rest is skipped unread into
    memory); a file of at most ``document_bytes`` may be parsed whole as one JSON document
    (a pretty-printed result, a Jaeger export); JSON nested deeper than ``json_depth`` is
    not parsed (a bomb). ``sniff_lines`` non-blank lines of at most ``sniff_bytes`` each
    decide a file's format.
    """

    line_bytes: int = MIB
    document_bytes: int = 16 * MIB
    json_depth: int = 64
    sniff_lines: int = 16
    sniff_bytes: int = 256 * 1024
    record_chars: int = MIB  # a message with its continuation lines
    match_chars: int = 4096  # of a message's first line, given to the wording patterns
    unparsed_text: int = 500  # characters kept of an unparsed line
    unparsed_kept: int = 1000  # unparsed lines kept over all files (all are counted)
    samples: int = 5  # unparsed lines shown per file


DEFAULT_LIMITS = Limits()
