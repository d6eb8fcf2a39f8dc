"""Diagnosing evidence from anywhere: run directories, or the files a team already has.

``nanogrid-harness diagnose`` lands here. Each run directory among the inputs is one
diagnosis; every other file (logs in any known layout, OTLP or Jaeger exports, result and
response JSON) is read by :mod:`harness.ingest` into the evidence of one incident. Each
case is diagnosed from its evidence alone, and can be written as the same report set a
replay writes (``report.md``, ``report.html``, ``verdict.json``), beside the evidence it was
read into (a run directory, so ``nanogrid-harness report`` re-renders it) and
``evidence.md``, which says what was read from each file: its format, its component and why,
lines parsed and not, warnings, the date of time-only lines, and the inconsistencies found
in the evidence itself.
"""

from __future__ import annotations

import datetime
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from harness import traces
from harness.analysis import Diagnosis, diagnose
from harness.evidence import (
    COMPONENTS_FILE,
    ENVIRONMENT_FILE,
    EVIDENCE_FILES,
    WIRE_FILE,
    Evidence,
    is_run_dir,
    run_name,
    write_json_lines,
    write_logs,
    write_scenario,
)
from harness.ingest import Ingested, ingest, ingest_runs
from harness.replay import render_bundle
from harness.report.verdict import variant_dict

INCIDENT = "incident"
EVIDENCE_MD = "evidence.md"


@dataclass
class Case:
    """One diagnosed case: its names, how its evidence was read, and its diagnosis."""

    scenario: str
    variant: str
    ingested: Ingested
    diagnosis: Diagnosis

    @property
    def evidence(self) -> Evidence:
        return self.ingested.evidence


def diagnose_inputs(
    paths: Sequence[Path],
    *,
    components: Mapping[str, Path] | None = None,
    date: datetime.date | None = None,
    patterns: Sequence[Path] = (),
    baseline: Evidence | None = None,
) -> list[Case]:
    """Every run directory among ``paths`` (or below a folder of them), and the other files
    as one incident, each diagnosed. Raises what :func:`harness.ingest.ingest` raises."""
    runs = [p for p in paths if is_run_dir(p) or _holds_runs(p)]
    files = [p for p in paths if p not in runs]
    named = [(*run_name(ing.evidence), ing) for ing in (ingest_runs(runs) if runs else [])]
    if files:
        incident = ingest(files, components=components or {}, date=date, patterns=patterns)
        named.append(("diagnose", INCIDENT, incident))
    return [Case(s, v, ing, diagnose(ing.evidence, baseline)) for s, v, ing in named]


def _holds_runs(path: Path) -> bool:
    """A folder whose subfolders (one or two levels down) are run directories."""
    return path.is_dir() and any(is_run_dir(p) for p in (*path.glob("*"), *path.glob("*/*")))


def document(cases: Sequence[Case]) -> dict[str, object]:
    """The verdict JSON of every case, with how its evidence was read."""
    names = {c.scenario for c in cases}
    variants = []
    for case in cases:
        entry = variant_dict(case.variant, case.diagnosis)
        entry["evidence"] = evidence_summary(case.ingested)
        variants.append(entry)
    return {"scenario": names.pop() if len(names) == 1 else "diagnose", "variants": variants}


def evidence_summary(ingested: Ingested) -> dict[str, object]:
    """What was read: per source its format, component, lines and warnings; the date."""
    return {
        "dateSource": ingested.date_source,
        "sources": [
            {
                "path": str(s.path),
                "kind": s.kind,
                "component": s.component,
                "componentRule": s.component_rule,
                "linesRead": s.lines_read,
                "linesParsed": s.lines_parsed,
                "unparsed": s.unparsed_count,
                "warnings": dict(s.warnings),
                "records": dict(s.records),
                "notes": list(s.notes),
            }
            for s in ingested.sources
        ],
    }


def write_bundle(out: Path, cases: Sequence[Case], lang: str = "en") -> dict[str, Path]:
    """The report set of ``cases`` in ``out``: one evidence directory per case, the reports
    beside them (as a replay's bundle), ``evidence.md`` and the verdict JSON with what was
    read. Returns the files by name."""
    out.mkdir(parents=True, exist_ok=True)
    folders = _folders(cases)
    for folder, case in zip(folders, cases, strict=True):
        save_evidence(out / folder, case)
    files = render_bundle(out, lang, dict(zip(folders, (c.diagnosis for c in cases), strict=True)))
    verdict = files["verdict.json"]
    verdict.write_text(json.dumps(document(cases), indent=2, default=str) + "\n")
    md = out / EVIDENCE_MD
    md.write_text(evidence_markdown(cases), encoding="utf-8")
    return {**files, EVIDENCE_MD: md}


def _folders(cases: Sequence[Case]) -> list[str]:
    """A folder name per case: its variant, with its scenario where variants repeat."""
    variants = [c.variant for c in cases]
    names = [
        c.variant if variants.count(c.variant) == 1 else f"{c.scenario}-{c.variant}" for c in cases
    ]
    return [name if names.count(name) == 1 else f"{name}-{n}" for n, name in enumerate(names, 1)]


def save_evidence(run_dir: Path, case: Case) -> None:
    """The case's evidence as a run directory (the contract's files; no ledger)."""
    evidence = case.evidence
    run_dir.mkdir(parents=True, exist_ok=True)
    source = evidence.run_dir
    if is_run_dir(source) and source.resolve() != run_dir.resolve():
        for name in (*EVIDENCE_FILES, WIRE_FILE, COMPONENTS_FILE, ENVIRONMENT_FILE):
            if (source / name).exists():
                shutil.copyfile(source / name, run_dir / name)
    else:
        write_logs(run_dir, evidence.logs)
        write_json_lines(run_dir / "results.jsonl", (asdict(c) for c in evidence.calls))
        if evidence.spans:
            traces.write_otlp_jsonl(evidence.spans, run_dir / "trace.jsonl")
    write_scenario(run_dir, {"name": case.scenario, "variant": case.variant})


def evidence_markdown(cases: Sequence[Case]) -> str:
    """``evidence.md``: what each file was read as, and the evidence's own inconsistencies."""
    lines = ["# What the evidence holds", ""]
    for case in cases:
        ing = case.ingested
        lines += [f"## {case.scenario} / {case.variant}", ""]
        lines.append(f"Date of time-only lines: {ing.date_source}.")
        lines += ["", "| file | read as | component (why) | parsed / read | unparsed | warnings |"]
        lines.append("|---|---|---|---|---|---|")
        for s in ing.sources:
            warnings = ", ".join(f"{k} x{n}" for k, n in sorted(s.warnings.items())) or "-"
            why = f"{s.component or '?'} ({s.component_rule or '-'})"
            lines.append(
                f"| `{s.path}` | {s.kind} | {why} | {s.lines_parsed} / {s.lines_read} | "
                f"{s.unparsed_count} | {warnings} |"
            )
        notes = [f"- `{s.path.name}`: {n}" for s in ing.sources for n in s.notes]
        if notes:
            lines += ["", "Notes:", *notes]
        if ing.unparsed:
            lines += ["", "Lines no format could read (kept as evidence, not used):", ""]
            lines += [f"- `{u.file.name}:{u.line}` {u.text[:200]!r}" for u in ing.unparsed[:20]]
        found = case.diagnosis.inconsistencies
        lines += ["", "Inconsistencies in the evidence itself:", ""]
        lines += [f"- ({i.kind}) {i.to_dict()['text']}" for i in found] or ["- none found"]
        lines.append("")
    return "\n".join(lines)
