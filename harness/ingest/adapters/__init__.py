"""The input formats, one adapter per file (see :mod:`harness.ingest.adapters.base`).

:func:`choose` picks the adapter that recognises most of a file's first lines; ties go to
the earlier in :data:`ADAPTERS`, and a file nobody recognises goes to the
:class:`~harness.ingest.adapters.unrecognised.UnrecognisedAdapter`, which keeps its lines
as unparsed.
"""

from __future__ import annotations

from harness.ingest.adapters.base import Adapter, Context
from harness.ingest.adapters.jaeger import JaegerAdapter
from harness.ingest.adapters.jsonlog import JsonLogAdapter
from harness.ingest.adapters.otlp import OtlpAdapter
from harness.ingest.adapters.result import ResultAdapter
from harness.ingest.adapters.textlog import TextLogAdapter
from harness.ingest.adapters.unrecognised import UnrecognisedAdapter
from harness.ingest.source import Source

ADAPTERS: tuple[Adapter, ...] = (
    OtlpAdapter(),
    JsonLogAdapter(),
    JaegerAdapter(),
    ResultAdapter(),
    TextLogAdapter(),
)
FALLBACK: Adapter = UnrecognisedAdapter()


def choose(source: Source) -> Adapter:
    """The adapter that recognises most of the file's head (the fallback if none does)."""
    best, score = FALLBACK, 0
    for adapter in ADAPTERS:
        found = adapter.sniff(source)
        if found > score:
            best, score = adapter, found
    return best


def expected_formats() -> list[str]:
    """What the adapters read, in words (for the "nothing usable" error)."""
    return [adapter.formats for adapter in ADAPTERS]


__all__ = ["ADAPTERS", "FALLBACK", "Adapter", "Context", "choose", "expected_formats"]
