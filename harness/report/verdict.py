"""``verdict.json``: the verdicts of every variant of a scenario, machine-readable.

::

    {"scenario": "incident-2025-12-02",
     "variants": [{"name": "failed-ignored", "clientStatus": "TIMEOUT",
                   "verdicts": [{"code": "FAILED_NOT_PROPAGATED", "status": "confirmed",
                                 "evidence": [...], "explanation": "...", "fix": "..."}],
                   "hypotheses": [...], "divergence": {...} | null}]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.analysis import VERDICTS, Diagnosis, Verdict


def verdict_dict(verdict: Verdict) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": verdict.code,
        "status": str(verdict.status),
        "evidence": [e.to_dict() for e in verdict.evidence],
        "explanation": verdict.explanation,
        "fix": VERDICTS[verdict.code].fix,
    }
    if verdict.role is not None:
        out["role"] = str(verdict.role)
        if verdict.caused_by:
            out["causedBy"] = list(verdict.caused_by)
    if verdict.detail:
        out["detail"] = verdict.detail
    return out


def variant_dict(name: str, diagnosis: Diagnosis) -> dict[str, Any]:
    return {
        "name": name,
        "clientStatus": diagnosis.client_status,
        "confirmed": diagnosis.confirmed_codes(),
        "causes": [v.code for v in diagnosis.causes()],
        "verdicts": [verdict_dict(v) for v in diagnosis.verdicts],
        "hypotheses": [h.to_dict() for h in diagnosis.hypotheses],
        "divergence": diagnosis.divergence.to_dict() if diagnosis.divergence else None,
        "inconsistencies": [i.to_dict() for i in diagnosis.inconsistencies],
        "environment": diagnosis.facts.evidence.environment,
    }


def verdict_document(scenario: str, variants: list[tuple[str, Diagnosis]]) -> dict[str, Any]:
    return {"scenario": scenario, "variants": [variant_dict(n, d) for n, d in variants]}


def write_verdict_json(path: Path, scenario: str, variants: list[tuple[str, Diagnosis]]) -> Path:
    return write_document(path, verdict_document(scenario, variants))


def write_document(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    return path
