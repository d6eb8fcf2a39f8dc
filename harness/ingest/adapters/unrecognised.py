"""The fallback: a file no adapter recognises is still read, every line kept as unparsed
(counted, and the first ones shown), so nothing given is silently dropped."""

from __future__ import annotations

from collections.abc import Iterator

from harness.ingest.adapters.base import Context
from harness.ingest.records import Record, Unparsed
from harness.ingest.source import Source


class UnrecognisedAdapter:
    name = "unrecognised"
    formats = "anything else (kept as unparsed lines)"

    def sniff(self, source: Source) -> int:
        return 0  # chosen only when no other adapter recognises a line

    def read(self, source: Source, ctx: Context) -> Iterator[Record]:
        source.claim_document_problem()
        for line in source.lines():
            yield Unparsed(line.number, line.text, "no known format")
