"""``diagnose`` on the evidence a team already has: the memo's own files, and run directories."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.evidence import load
from harness.incident import diagnose_inputs, write_bundle
from harness.scenario.rediagnosis import check_rediagnosis, check_text_logs
from tests.harness.test_replay import make_bundle

MEMO = Path(__file__).parent / "ingest" / "fixtures" / "memo"
MEMO_FILES = ("worker.log", "controller-response.json", "published-result.json")
DAY = datetime.date(2025, 12, 2)


@pytest.fixture
def memo(tmp_path: Path) -> list[Path]:
    for name in MEMO_FILES:
        shutil.copyfile(MEMO / name, tmp_path / name)
    return [tmp_path / name for name in MEMO_FILES]


def test_the_memos_own_evidence_confirms_the_empty_archive_and_decides_no_hypothesis(
    memo: list[Path],
) -> None:
    [case] = diagnose_inputs(memo, date=DAY)
    diagnosis = case.diagnosis
    assert [v.code for v in diagnosis.causes()] == ["INVALID_PACKAGE"]
    assert diagnosis.client_status == "TIMEOUT"
    hypotheses = {h.id: h.verdict for h in diagnosis.hypotheses}
    assert {h: str(v.status) for h, v in hypotheses.items()} == {
        "H1": "unknown",
        "H2": "unknown",
        "H3": "unknown",
    }
    # Each undecided hypothesis says what would decide it.
    assert "subscribers=" in hypotheses["H1"].explanation
    assert "receiver count" in hypotheses["H3"].explanation
    assert "decoding proxy" in hypotheses["H2"].explanation
    assert diagnosis.verdict("HEALTHY").status != "confirmed"


def test_the_memos_evidence_contradicts_itself_and_says_so(memo: list[Path]) -> None:
    [case] = diagnose_inputs(memo, date=DAY)
    found = {i.phrase.key: i for i in case.diagnosis.inconsistencies}
    assert set(found) == {"incons.status", "incons.ran_empty", "incons.slow"}
    assert found["incons.status"].phrase.params == {"done": "SUCCESS", "published": "FAILED"}
    assert found["incons.slow"].phrase.params["ms"] == 1291  # 20.659 -> 21.950


def test_diagnose_writes_the_report_set_of_the_memos_evidence(
    memo: list[Path], tmp_path: Path
) -> None:
    out, verdict = tmp_path / "out", tmp_path / "verdict.json"
    args = ["diagnose", *map(str, memo), "--date", "2025-12-02"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--json", str(verdict)])
    assert result.exit_code == 0, result.output
    assert "CAUSE INVALID_PACKAGE" in result.output
    assert "H3 Subscription timing: unknown" in result.output
    for name in ("report.md", "report.html", "verdict.json", "evidence.md"):
        assert (out / name).stat().st_size > 0, name
    document = json.loads(verdict.read_text())
    [variant] = document["variants"]
    assert variant["causes"] == ["INVALID_PACKAGE"]
    assert variant["evidence"]["dateSource"] == "option"
    assert {s["kind"] for s in variant["evidence"]["sources"]} == {"text-log", "result-json"}
    assert len(variant["inconsistencies"]) == 3
    # The evidence was saved as a run directory: `report` re-renders the bundle.
    assert load(out / "incident").logs
    again = CliRunner().invoke(app, ["report", str(out)])
    assert again.exit_code == 0, again.output


def test_without_a_date_the_day_of_time_only_lines_is_stated_as_unknown(
    memo: list[Path], tmp_path: Path
) -> None:
    [case] = diagnose_inputs(memo)
    assert case.ingested.date_source == "unknown"
    write_bundle(tmp_path / "out", [case])
    assert "Date of time-only lines: unknown" in (tmp_path / "out" / "evidence.md").read_text()
    assert [v.code for v in case.diagnosis.causes()] == ["INVALID_PACKAGE"]


def test_unreadable_evidence_is_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02" * 100)
    result = CliRunner().invoke(app, ["diagnose", str(junk)])
    assert result.exit_code == 2
    assert "junk.bin" in result.output.replace("\n", "")  # rich wraps a long path


def test_a_run_directory_rediagnosed_and_as_text_logs_keeps_its_verdicts(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    for variant in ("broken", "fixed"):
        run = bundle / variant
        [case] = diagnose_inputs([run])
        assert check_rediagnosis(run, case.diagnosis) == []
        assert check_text_logs(run, case.diagnosis) == []


def test_the_rediagnosis_check_can_fail(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    [broken] = diagnose_inputs([bundle / "broken"])
    [fixed] = diagnose_inputs([bundle / "fixed"])
    assert check_rediagnosis(bundle / "broken", fixed.diagnosis) != []
    assert check_text_logs(bundle / "broken", fixed.diagnosis) != []
    assert broken.diagnosis.causes() != fixed.diagnosis.causes()
