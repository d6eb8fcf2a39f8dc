"""The entry points: files and folders in, one :class:`~harness.ingest.report.Ingested` out.

:func:`ingest` reads any mix of files and folders as the evidence of one incident (and at
most one run directory of the platform, merged in); :func:`ingest_runs` reads run
directories, one :class:`Ingested` each.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from harness.evidence import EVIDENCE_FILES, find_runs, load
from harness.ingest.adapters import expected_formats
from harness.ingest.assemble import assemble
from harness.ingest.errors import NothingUsable
from harness.ingest.inputs import Inputs, collect, common_parent
from harness.ingest.limits import DEFAULT_LIMITS, Limits
from harness.ingest.patterns import PatternSet
from harness.ingest.reading import Reading, read_file
from harness.ingest.report import Ingested

_NONE: Mapping[str, Path] = MappingProxyType({})
_SHOWN_LINES = 3


def ingest(
    paths: Sequence[Path],
    *,
    components: Mapping[str, Path] = _NONE,
    date: datetime.date | None = None,
    patterns: Sequence[Path] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> Ingested:
    """The evidence of one incident, from files and folders in any of the known formats.

    ``components`` names the writer of files whose records do not (NAME -> file or
    folder); ``date`` is the day of lines that show only a time of day; ``patterns`` are
    TOML files of wording rules tried before the built-in ones. A run directory among the
    paths is loaded with :func:`harness.evidence.load` and blinded, the other files merged
    into it.

    Raises FileNotFoundError for a missing path, ValueError for more than one run
    directory (diagnose them separately: :func:`ingest_runs`),
    :class:`~harness.ingest.errors.PatternError` for a wrong pattern file, and
    :class:`~harness.ingest.errors.NothingUsable` when no input holds anything usable.

    ::

        found = ingest([Path("worker.log"), Path("controller-response.json")],
                       date=datetime.date(2025, 12, 2))
        diagnose(found.evidence)
    """
    rules = PatternSet.load(patterns)
    inputs = collect(paths)
    if len(inputs.runs) > 1:
        listed = ", ".join(map(str, inputs.runs))
        raise ValueError(
            f"{len(inputs.runs)} run directories given ({listed}): each is one run, "
            "diagnose them separately (harness.ingest.ingest_runs reads them one by one)"
        )
    readings = [read_file(path, components, limits) for path in inputs.files]
    base = load(inputs.runs[0]) if inputs.runs else None
    if base is None and not any(r.usable for r in readings):
        raise nothing_usable(inputs, readings)
    run_dir = inputs.runs[0] if inputs.runs and not inputs.files else common_parent(paths)
    return assemble(readings, run_dir, base, date, rules, limits)


def ingest_runs(paths: Sequence[Path]) -> list[Ingested]:
    """One :class:`Ingested` per run directory among ``paths`` (each path a run directory,
    or holding them one or two levels below: :func:`harness.evidence.find_runs`)."""
    rules = PatternSet.load()
    return [assemble([], run, load(run), None, rules, DEFAULT_LIMITS) for run in find_runs(paths)]


def nothing_usable(inputs: Inputs, readings: Sequence[Reading]) -> NothingUsable:
    """The error naming what was looked at and what was expected."""
    if not readings:
        where = ", ".join(map(str, inputs.folders)) or "no path"
        return NothingUsable(f"no evidence: {where} holds no file (hidden files are skipped)")
    looked = "\n".join(f"  {_looked_at(r)}" for r in readings)
    expected = "\n".join(f"  - {text}" for text in expected_formats())
    return NothingUsable(
        f"no usable evidence (no log line, span or call) in {len(readings)} file(s):\n"
        f"{looked}\nexpected one of:\n{expected}\n"
        f"  - a run directory of the platform ({', '.join(EVIDENCE_FILES)})"
    )


def _looked_at(reading: Reading) -> str:
    source = reading.source
    if source.warnings:
        warned = ", ".join(f"{kind} x{n}" for kind, n in sorted(source.warnings.items()))
        warned = f"; warnings: {warned}"
    else:
        warned = ""
    if reading.kind in ("binary", "unreadable"):
        return f"{reading.path}: {reading.kind}, skipped{warned}"
    if not reading.unparsed:
        return f"{reading.path}: empty ({source.lines_read} line(s), all blank){warned}"
    shown = "; ".join(
        f"line {u.line}: {u.text[:80]!r} ({u.reason})" for u in reading.unparsed[:_SHOWN_LINES]
    )
    return (
        f"{reading.path}: {source.lines_read} line(s) read as {reading.kind}, "
        f"{reading.unparsed_count} unreadable ({shown}){warned}"
    )
