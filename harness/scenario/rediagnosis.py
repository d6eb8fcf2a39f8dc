"""A replay's verdicts must survive the trip through ``diagnose``, and through text logs.

Two checks per variant, run by the catalogue after each scenario:

- :func:`check_rediagnosis`: the variant's run directory, read back as ``nanogrid-harness
  diagnose`` reads it (:func:`harness.incident.diagnose_inputs`), gives every verdict the
  replay gave.
- :func:`check_text_logs`: the same logs written as plain text, as another team's service
  would log them (``HH:MM:SS.mmm [LEVEL] message``, one file per component, no spans, no
  wire), with the client's view beside them, give no verdict that contradicts the replay's:
  a confirmed verdict may become unknown for want of evidence, never ruled out, and the
  other way round.
"""

from __future__ import annotations

import datetime
import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.analysis import Diagnosis
from harness.evidence import RESULTS_FILE, Evidence, read_json_lines
from harness.incident import diagnose_inputs
from nanogrid.telemetry import semconv as sc

CONFIRMED, RULED_OUT = "confirmed", "ruled_out"


def statuses(diagnosis: Diagnosis) -> dict[str, str]:
    return {v.code: str(v.status) for v in diagnosis.verdicts}


def check_rediagnosis(
    run_dir: Path, replayed: Diagnosis, baseline: Evidence | None = None
) -> list[str]:
    """What differs between the replay's verdicts and ``diagnose`` of its run directory."""
    [case] = diagnose_inputs([run_dir], baseline=baseline)
    want, got = statuses(replayed), statuses(case.diagnosis)
    return [
        f"diagnose of the run directory gives {code} {got.get(code)}, the replay {status}"
        for code, status in want.items()
        if got.get(code) != status
    ]


def text_line(line: dict[str, Any]) -> tuple[str, str] | None:
    """(component, ``HH:MM:SS.mmm [LEVEL] message``) of a platform log line."""
    try:
        ts = datetime.datetime.fromisoformat(str(line["ts"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    component = str(line.get(sc.F_WORKER_ID) or line.get(sc.F_COMPONENT) or "unknown")
    level = str(line.get("level", "INFO"))
    text = f"{ts:%H:%M:%S}.{ts.microsecond // 1000:03d} [{level}] {line.get('message', '')}"
    return component, text


def write_text_logs(lines: Iterable[dict[str, Any]], out_dir: Path) -> datetime.date | None:
    """Each component's lines as ``<component>.log`` in ``out_dir``; the day of the first."""
    by_component: dict[str, list[str]] = {}
    day = None
    for line in lines:
        found = text_line(line)
        if found is None:
            continue
        day = day or datetime.datetime.fromisoformat(str(line["ts"]).replace("Z", "+00:00")).date()
        by_component.setdefault(found[0], []).append(found[1])
    for component, texts in by_component.items():
        (out_dir / f"{component}.log").write_text("\n".join(texts) + "\n", encoding="utf-8")
    return day


def check_text_logs(run_dir: Path, replayed: Diagnosis) -> list[str]:
    """Verdicts of the text-log version of the run that contradict the replay's."""
    with tempfile.TemporaryDirectory(prefix="nanogrid-textlogs-") as tmp:
        out = Path(tmp)
        day = write_text_logs(read_json_lines(run_dir / "logs.jsonl"), out)
        calls = list(read_json_lines(run_dir / RESULTS_FILE))
        if calls:
            lines = "".join(json.dumps(c) + "\n" for c in calls)
            (out / RESULTS_FILE).write_text(lines, encoding="utf-8")
        files = sorted(out.iterdir())
        if not files:
            return []
        [case] = diagnose_inputs(files, date=day)
    want, got = statuses(replayed), statuses(case.diagnosis)
    return [
        f"the run as text logs gives {code} {got[code]}, the replay {status}"
        for code, status in want.items()
        if {status, got.get(code)} == {CONFIRMED, RULED_OUT}
    ]
