"""What ingesting evidence can refuse, rooted in one class::

    IngestError
    ├── NothingUsable    no input held a log line, span or call in a known format
    └── PatternError     a pattern file is not valid TOML, or one of its rules is wrong

Several run directories given to :func:`harness.ingest.ingest` raise a plain
``ValueError`` (a wrong call, not wrong evidence): diagnose them with
:func:`harness.ingest.ingest_runs`, one at a time.
"""

from __future__ import annotations


class IngestError(Exception):
    """The root of the errors of :mod:`harness.ingest`."""


class NothingUsable(IngestError):
    """No input held anything usable; the message names each file, the lines looked at and
    the formats expected."""


class PatternError(IngestError):
    """A pattern file or one of its rules is wrong; the message names the file and rule."""
