"""One incident's :class:`~harness.evidence.Evidence` from what its files gave.

- Log entries become the platform's log lines (:mod:`harness.ingest.normalise`), times of
  day dated by :mod:`harness.ingest.dating`. A file whose lines name exactly one requestId
  is an excerpt about that request: its lines that name none get it, marked
  ``"requestIdInferred": true`` (and the file's report says so), except a line that says
  it was written outside any request (the platform's ``"requestId": ""``) or whose event
  is about a process (:data:`PROCESS_EVENTS`: polling, heartbeats, uploads...).
- Spans are merged as :func:`harness.traces.load_spans` merges them (an ended record
  supersedes a start record; the same span read twice is kept once), in causal order.
- A ``run`` call without a requestId gets the one requestId the evidence names, if it
  names exactly one; the call's report says which, or why none was attached.
- A ``task.done`` status that contradicts the published result of the same request is
  noted on the log's report (the memo's worker wrote ``[DONE][OK]`` for a FAILED result).

Evidence of one run directory, if given, comes first; its ledger and actions are dropped
(:func:`harness.evidence.blind`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from harness import traces
from harness.evidence import CallRecord, Evidence, blind, log_time_ns
from harness.ingest import dating
from harness.ingest.components import Rule
from harness.ingest.limits import Limits
from harness.ingest.moment import from_ns, iso
from harness.ingest.normalise import Placement, contract_line
from harness.ingest.patterns import PatternSet
from harness.ingest.reading import Reading
from harness.ingest.records import LogEntry
from harness.ingest.report import Ingested, SourceReport, UnparsedLine
from nanogrid.telemetry import semconv as sc

REQUEST_ID_INFERRED = "requestIdInferred"
#: Events about a process or a function, never about one request.
PROCESS_EVENTS = frozenset(
    {
        sc.CONTROLLER_READY,
        sc.WORKER_POLLING,
        sc.WORKER_STOPPED,
        sc.POLL_FAILED,
        sc.HEARTBEAT_FAILED,
        sc.KNOB_ACTIVE,
        sc.UPLOAD_RECEIVED,
        sc.UPLOAD_SMALL,
        sc.UPLOAD_REFUSED,
        sc.UPLOAD_STORED,
    }
)
VARIANT = "evidence"


@dataclass
class _File:
    """A reading with its display name and its log lines in the contract."""

    reading: Reading
    name: str
    lines: list[dict[str, Any]]
    notes: list[str]

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def assemble(
    readings: Sequence[Reading],
    run_dir: Path,
    base: Evidence | None,
    date_option: date | None,
    patterns: PatternSet,
    limits: Limits,
) -> Ingested:
    """The evidence and reports of ``readings`` (and of the run directory ``base``)."""
    names = [_display(r.path, run_dir) for r in readings]
    when = dating.choose(date_option, _dated(readings, names, base))
    files = [_file(r, n, when, patterns, limits) for r, n in zip(readings, names, strict=True)]
    lines = [line for f in files for line in f.lines]
    calls = _calls(files)
    _infer_call_ids(files, lines, calls, base)
    _note_status_conflicts(files, calls)
    spans = [e.span for r in readings for e in r.spans]
    first = blind(base) if base is not None else _empty(run_dir)
    evidence = Evidence(
        run_dir=first.run_dir,
        scenario=first.scenario,
        calls=first.calls + calls,
        ledger=[],
        spans=merge_spans(first.spans + spans),
        logs=first.logs + lines,
        wire=first.wire,
        components=first.components,
        actions=[],
    )
    reports = [_report(f, limits) for f in files]
    if base is not None:
        reports.insert(0, run_dir_report(first))
    kept = [u for r in reports for u in r.unparsed_all][: limits.unparsed_kept]
    return Ingested(evidence, [r.report for r in reports], when.source, kept)


def _empty(run_dir: Path) -> Evidence:
    """No run directory: the evidence is named after the folder holding the files."""
    return Evidence(run_dir, {"name": run_dir.name or VARIANT, "variant": VARIANT}, [], [], [])


def _display(path: Path, run_dir: Path) -> str:
    try:
        return str(path.resolve().relative_to(run_dir))
    except ValueError:
        return str(path)


def _dated(
    readings: Sequence[Reading], names: Sequence[str], base: Evidence | None
) -> Iterator[tuple[datetime, str]]:
    """(moment, file) of every dated record: log lines, spans, calls."""
    for reading, name in zip(readings, names, strict=True):
        for entry in reading.logs:
            if entry.moment is not None and entry.moment.dated:
                yield entry.moment.at, name
        for ns in [s.span.start_ns for s in reading.spans] + [
            c.call.startNs for c in reading.calls
        ]:
            if (at := from_ns(ns)) is not None:
                yield at, name
    if base is not None:
        times = [log_time_ns(line) for line in base.logs] + [s.start_ns for s in base.spans]
        for ns in times + [c.startNs for c in base.calls]:
            if (at := from_ns(ns)) is not None:
                yield at, base.run_dir.name


def _file(
    reading: Reading, name: str, when: dating.Dating, patterns: PatternSet, limits: Limits
) -> _File:
    placed = dating.place([entry.moment for entry in reading.logs], when)
    lines, rules = [], Counter[str]()
    for entry, (at, unknown) in zip(reading.logs, placed, strict=True):
        place = Placement(
            ts=iso(at) if at is not None else None,
            date_unknown=unknown,
            component=entry.component or reading.fallback.name,
            source=f"{name}:{entry.line}",
        )
        line, rule = contract_line(entry, place, patterns, limits.match_chars)
        lines.append(line)
        if rule is not None:
            rules[rule.name] += 1
    notes = list(reading.notes)
    if rules:
        mapped = ", ".join(f"{rule} x{n}" for rule, n in sorted(rules.items()))
        notes.append(f"events named by wording rules: {mapped}")
    notes += _infer_log_ids(reading.logs, lines)
    return _File(reading, name, lines, notes)


def _infer_log_ids(entries: Sequence[LogEntry], lines: list[dict[str, Any]]) -> list[str]:
    """A file naming exactly one requestId: its other lines of a request's events are about
    that request, but for those that say they are not (written outside any request, or a
    process event); lines of no known event are left alone."""
    named = {line[sc.F_REQUEST_ID] for line in lines if line.get(sc.F_REQUEST_ID)}
    unnamed = [
        line
        for entry, line in zip(entries, lines, strict=True)
        if not line.get(sc.F_REQUEST_ID)
        and not entry.outside_request
        and line.get(sc.EVENT)  # a wording no rule names may be about anything
        and line.get(sc.EVENT) not in PROCESS_EVENTS
    ]
    if len(named) != 1 or not unnamed:
        return []
    (request_id,) = named
    for line in unnamed:
        line[sc.F_REQUEST_ID] = request_id
        line[REQUEST_ID_INFERRED] = True
    return [
        f"{len(unnamed)} line(s) naming no requestId attributed to {request_id}, the only "
        f'one this file names (marked "{REQUEST_ID_INFERRED}": true)'
    ]


def _calls(files: Sequence[_File]) -> list[CallRecord]:
    return [entry.call for f in files for entry in f.reading.calls]


def _infer_call_ids(
    files: Sequence[_File],
    lines: list[dict[str, Any]],
    calls: list[CallRecord],
    base: Evidence | None,
) -> None:
    """Give a run call without a requestId the only one the evidence names."""
    known = _request_ids(lines, calls, files, base)
    for f in files:
        for entry in f.reading.calls:
            if entry.note:
                f.note(entry.note)
            call = entry.call
            if call.kind != "run" or call.requestId:
                continue
            if len(known) == 1:
                call.requestId = next(iter(known))
                f.note(f"requestId {call.requestId} inferred: the only one the evidence names")
            elif known:
                listed = ", ".join(sorted(known)[:5])
                f.note(f"no requestId attached: the evidence names {len(known)} ({listed})")
            else:
                f.note("no requestId attached: the evidence names none")


def _request_ids(
    lines: Iterable[dict[str, Any]],
    calls: Iterable[CallRecord],
    files: Sequence[_File],
    base: Evidence | None,
) -> set[str]:
    found = {str(line[sc.F_REQUEST_ID]) for line in lines if line.get(sc.F_REQUEST_ID)}
    found |= {c.requestId for c in calls if c.requestId}
    spans = [e.span for f in files for e in f.reading.spans]
    if base is not None:
        found |= {str(line[sc.F_REQUEST_ID]) for line in base.logs if line.get(sc.F_REQUEST_ID)}
        found |= {c.requestId for c in base.calls if c.requestId}
        spans += base.spans
    found |= {str(s.attributes[sc.REQUEST_ID]) for s in spans if s.attributes.get(sc.REQUEST_ID)}
    return found


def _note_status_conflicts(files: Sequence[_File], calls: Sequence[CallRecord]) -> None:
    published = {
        c.requestId: str(c.body["status"])
        for c in calls
        if c.kind == "fetch" and c.requestId and "status" in c.body
    }
    for f in files:
        for line in f.lines:
            rid, status = line.get(sc.F_REQUEST_ID), line.get(sc.F_STATUS)
            if line.get(sc.EVENT) != sc.TASK_DONE or rid not in published or status is None:
                continue
            if str(status) != published[rid]:
                f.note(
                    f"{line['source']}: task.done says {status} but the published result of "
                    f"{rid} says {published[rid]} (the analysis reads the published result)"
                )


def merge_spans(spans: Iterable[traces.SpanRecord]) -> list[traces.SpanRecord]:
    """One record per (trace id, span id), as :func:`harness.traces.load_spans` keeps."""
    seen: dict[tuple[str, str], traces.SpanRecord] = {}
    for span in spans:
        key = (span.trace_id, span.span_id)
        known = seen.get(key)
        if known is None or (known.open and span.ended):
            seen[key] = span
    return traces.causal_order(seen.values())


@dataclass
class _Built:
    report: SourceReport
    unparsed_all: list[UnparsedLine]


def _report(f: _File, limits: Limits) -> _Built:
    reading, source = f.reading, f.reading.source
    named = Counter(e.component for e in reading.logs if e.component)
    if named:
        component, rule = named.most_common(1)[0][0], Rule.CONTENT
    else:
        component, rule = reading.fallback.name, reading.fallback.rule
    unparsed = [
        UnparsedLine(reading.path, u.line, u.text[: limits.unparsed_text], u.reason)
        for u in reading.unparsed
    ]
    report = SourceReport(
        path=reading.path,
        kind=reading.kind,
        component=component,
        component_rule=str(rule),
        lines_read=source.lines_read,
        lines_parsed=max(source.lines_read - source.blank - reading.unparsed_lines, 0),
        unparsed_count=reading.unparsed_count,
        unparsed=unparsed[: limits.samples],
        warnings={str(kind): n for kind, n in sorted(source.warnings.items())},
        records={
            "logs": len(reading.logs),
            "spans": len(reading.spans),
            "calls": len(reading.calls),
        },
        notes=f.notes,
    )
    return _Built(report, unparsed)


def run_dir_report(evidence: Evidence) -> _Built:
    """The report of a run directory read with :func:`harness.evidence.load`."""
    report = SourceReport(
        path=evidence.run_dir,
        kind="run-dir",
        records={
            "logs": len(evidence.logs),
            "spans": len(evidence.spans),
            "calls": len(evidence.calls),
            "wire": len(evidence.wire),
            "components": len(evidence.components),
        },
        notes=[
            "read with harness.evidence.load; the fault ledger, actions and declaration dropped"
        ],
    )
    return _Built(report, [])
