"""Report bundles re-rendered from evidence on disk alone (``nanogrid-harness report``)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from harness import traces
from harness.analysis import diagnose
from harness.cli import app
from harness.evidence import (
    COMPONENTS_FILE,
    WIRE_FILE,
    append_call,
    load,
    write_json_lines,
    write_logs,
    write_scenario,
)
from harness.faults import FaultLedger
from harness.replay import TRACE_JAEGER, TRACE_JSONL, render_bundle, variant_dirs
from harness.wire.model import WireRecorder
from tests.harness.analysis.synth import request_run

DECLARED = {
    "name": "synthetic",
    "control": "fixed",
    "variants": [{"name": "broken"}, {"name": "fixed"}],
}


def write_variant(bundle, name, builder) -> None:
    run_dir = bundle / name
    run_dir.mkdir(parents=True)
    write_scenario(run_dir, {**DECLARED, "variant": name})
    for call in builder.calls:
        append_call(run_dir, call)
    traces.write_otlp_jsonl(builder.spans, run_dir / "trace.jsonl")
    write_logs(run_dir, builder.logs)
    FaultLedger(builder.ledger).write_jsonl(run_dir / "faults.jsonl")
    WireRecorder(builder.wire).write_jsonl(run_dir / WIRE_FILE)
    lives = [
        {
            "component": life.component,
            "pid": life.pid,
            "startedNs": life.started_ns,
            "endedNs": life.ended_ns,
            "exitCode": life.exit_code,
            "stopped": life.stopped,
        }
        for life in builder.components
    ]
    write_json_lines(run_dir / COMPONENTS_FILE, lives)


def make_bundle(tmp_path):
    bundle = tmp_path / "bundle"
    write_variant(bundle, "fixed", request_run())
    write_variant(bundle, "broken", request_run(exit_code=2, client="FAILED"))
    return bundle


def test_evidence_round_trips_through_its_files(tmp_path):
    builder = request_run(exit_code=2, client="FAILED", wire=True)
    write_variant(tmp_path, "v", builder)
    evidence = load(tmp_path / "v")
    assert [c.status for c in evidence.calls] == [c.status for c in builder.calls]
    assert {s.span_id for s in evidence.spans} == {s.span_id for s in builder.spans}
    assert evidence.logs == builder.logs
    assert evidence.wire == builder.wire
    assert evidence.components == builder.components


def test_a_crashed_worker_round_trips_with_its_open_spans_and_its_exit(tmp_path):
    builder = request_run(redelivered=True)
    write_variant(tmp_path, "v", builder)
    evidence = load(tmp_path / "v")
    assert {s.name for s in evidence.spans if s.open} == {"process nanogrid-tasks", "execute"}
    assert [c.component for c in evidence.components if c.crashed] == ["worker-1"]
    verdict = diagnose(evidence).verdict("WORKER_CRASHED")
    assert verdict.confirmed
    assert verdict.detail["redelivered"] is True


def test_render_bundle_writes_every_file_in_the_declared_order(tmp_path):
    bundle = make_bundle(tmp_path)
    assert [d.name for d in variant_dirs(bundle)] == ["broken", "fixed"]
    files = render_bundle(bundle)
    assert {"report.md", "report.html", "verdict.json", TRACE_JSONL, TRACE_JAEGER} <= set(files)
    verdict = json.loads((bundle / "verdict.json").read_text())
    by_name = {v["name"]: v for v in verdict["variants"]}
    confirmed = {v["code"] for v in by_name["broken"]["verdicts"] if v["status"] == "confirmed"}
    assert "FUNCTION_FAILED" in confirmed
    both = len(load(bundle / "broken").spans) + len(load(bundle / "fixed").spans)
    assert len(traces.load_spans(bundle / TRACE_JSONL)) == both


def test_report_command_rerenders_in_korean_and_refuses_an_empty_dir(tmp_path):
    bundle = make_bundle(tmp_path)
    result = CliRunner().invoke(app, ["report", str(bundle), "--lang", "ko"])
    assert result.exit_code == 0, result.output
    assert "report.md" in result.output
    assert any("\uac00" <= ch <= "\ud7a3" for ch in (bundle / "report.md").read_text())
    empty = CliRunner().invoke(app, ["report", str(tmp_path / "nothing")])
    assert empty.exit_code == 2
