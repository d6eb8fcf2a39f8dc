"""``nanogrid-harness diagnose``: stored runs diagnosed from their evidence alone."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from harness.cli import app
from tests.harness.test_replay import make_bundle


def test_diagnose_writes_the_verdict_json_of_a_run_and_names_its_cause(tmp_path):
    bundle = make_bundle(tmp_path)
    out = tmp_path / "verdict.json"
    result = CliRunner().invoke(app, ["diagnose", str(bundle / "broken"), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "synthetic / broken" in result.output
    assert "CAUSE FUNCTION_FAILED" in result.output
    [variant] = json.loads(out.read_text())["variants"]
    confirmed = {v["code"]: v for v in variant["verdicts"] if v["status"] == "confirmed"}
    assert confirmed["FUNCTION_FAILED"]["role"] == "cause"
    assert variant["causes"] == ["FUNCTION_FAILED"]


def test_diagnose_needs_no_ledger_and_no_declaration(tmp_path):
    bundle = make_bundle(tmp_path)
    run = bundle / "broken"
    before = CliRunner().invoke(app, ["diagnose", str(run)]).output
    (run / "faults.jsonl").unlink()
    (run / "scenario.json").write_text(json.dumps({"name": "synthetic", "variant": "broken"}))
    assert CliRunner().invoke(app, ["diagnose", str(run)]).output == before


def test_diagnose_takes_a_bundle_and_refuses_a_folder_without_evidence(tmp_path):
    bundle = make_bundle(tmp_path)
    result = CliRunner().invoke(app, ["diagnose", str(bundle)])
    assert result.exit_code == 0, result.output
    assert "synthetic / broken" in result.output
    assert "synthetic / fixed: client saw SUCCESS; CAUSE HEALTHY" in result.output
    (tmp_path / "empty").mkdir()
    refused = CliRunner().invoke(app, ["diagnose", str(tmp_path / "empty")])
    assert refused.exit_code == 2
    assert "empty holds no file" in " ".join(refused.output.split())
