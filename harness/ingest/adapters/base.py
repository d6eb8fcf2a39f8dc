"""What every format adapter provides, and what it is given.

An adapter recognises one format and reads it::

    @runtime_checkable
class Adapter(Protocol):
        name: str        # the kind a SourceReport names ("json-log", "jaeger", ...)
        formats: str     # what it reads, in words (for the "nothing usable" error)
        def sniff(self, source: Source) -> int: ...
        def read(self, source: Source, ctx: Context) -> Iterator[Record]: ...

``sniff`` looks at :attr:`Source.head` (and, for whole-document formats, at
:meth:`Source.document`) and says how many of the head's lines it recognises: 0 for
"not mine"; the highest score reads the file (ties: the order of
:data:`harness.ingest.adapters.ADAPTERS`). ``read`` streams the file and yields records;
a line it cannot read is yielded as :class:`~harness.ingest.records.Unparsed`, never
dropped. Neither may raise on any content.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from harness.ingest import jsontext
from harness.ingest.limits import DEFAULT_LIMITS, Limits
from harness.ingest.records import Record, Unparsed
from harness.ingest.source import Line, Source


@dataclass
class Context:
    """What an adapter knows beyond the file: the component the file is attributed to when
    its records do not say (the ``components`` option, else its name), and the limits.
    ``notes`` collects what the adapter wants the file's report to say."""

    component: str
    limits: Limits = DEFAULT_LIMITS
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


@runtime_checkable
class Adapter(Protocol):
    """One input format (see the module docstring)."""

    name: str
    formats: str

    def sniff(self, source: Source) -> int: ...

    def read(self, source: Source, ctx: Context) -> Iterator[Record]: ...


def json_line(source: Source, line: Line) -> Any | Unparsed:
    """One line's JSON value, or the :class:`Unparsed` record saying why it is none (a
    problem such as a JSON bomb is also counted as the source's warning)."""
    try:
        return jsontext.loads(line.text, source.limits.json_depth)
    except jsontext.NotJson as exc:
        if exc.problem is not None:
            source.warn(exc.problem)
        return Unparsed(line.number, line.text, str(exc.problem or "not valid JSON"))
