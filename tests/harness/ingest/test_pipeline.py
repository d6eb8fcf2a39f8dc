"""The entry points: run directories, folders, components, dates, and the refusals."""

from __future__ import annotations

import json

import pytest

from harness.evidence import blind, load
from harness.faults.ledger import EventKind
from harness.ingest import NothingUsable, ingest, ingest_runs
from tests.harness.analysis.synth import request_run
from tests.harness.test_replay import write_variant

TS = "2025-12-02T07:40:19.996Z"


@pytest.fixture
def bundle(tmp_path):
    """Two run directories as the harness writes them (with a ledger and actions)."""
    folder = tmp_path / "bundle"
    write_variant(folder, "fixed", request_run())
    broken = request_run(exit_code=2, client="FAILED")
    broken.fault(0, "redis", EventKind.FAULT_ADDED)
    write_variant(folder, "broken", broken)
    (folder / "broken" / "actions.jsonl").write_text('{"action": "kill worker"}\n')
    return folder


def test_a_run_directory_reads_as_the_blinded_load(bundle):
    run = bundle / "broken"
    [found] = ingest_runs([run])
    expected = blind(load(run))
    assert found.evidence == expected
    assert load(run).ledger
    assert load(run).actions
    assert found.evidence.ledger == []
    assert found.evidence.actions == []
    assert found.evidence.scenario == {"name": "synthetic", "variant": "broken"}
    assert [s.kind for s in found.sources] == ["run-dir"]
    assert ingest([run]).evidence == expected


def test_ingest_runs_gives_one_per_run_directory(bundle):
    found = ingest_runs([bundle])
    assert [f.evidence.scenario["variant"] for f in found] == ["broken", "fixed"]


def test_several_run_directories_are_refused_by_ingest(bundle):
    with pytest.raises(ValueError, match="diagnose them separately"):
        ingest([bundle])


def test_loose_files_are_merged_into_one_run_directory(bundle, write):
    run = bundle / "broken"
    extra = write("worker.log", "07:40:19.996 [INFO] Successfully downloaded zip file: 34 bytes\n")
    found = ingest([run, extra])
    base = blind(load(run))
    assert found.evidence.logs[: len(base.logs)] == base.logs
    assert found.evidence.logs[-1]["bytes"] == 34
    assert found.evidence.calls == base.calls
    assert found.evidence.spans == base.spans
    assert [s.kind for s in found.sources] == ["run-dir", "text-log"]


def test_a_folder_is_walked_in_order_and_hidden_files_are_skipped(write):
    write("b/worker.log", "07:40:19.996 [INFO] two\n")
    write("a.log", "07:40:19.995 [INFO] one\n")
    write(".hidden.log", "07:40:19.994 [INFO] hidden\n")
    write(".git/x.log", "07:40:19.994 [INFO] hidden\n")
    folder = write("c.log", "07:40:19.997 [INFO] three\n").parent
    found = ingest([folder])
    assert [line["message"] for line in found.evidence.logs] == ["one", "two", "three"]
    assert [line["source"] for line in found.evidence.logs] == [
        "a.log:1",
        "b/worker.log:1",
        "c.log:1",
    ]


def test_the_components_option_names_a_file_or_a_folder(write):
    log = write("logs/app.log", "07:40:19.996 [INFO] x\n")
    found = ingest([log], components={"worker": log.parent})
    assert found.evidence.logs[0]["component"] == "worker"
    assert (found.sources[0].component, found.sources[0].component_rule) == ("worker", "option")


def test_the_content_wins_over_the_option(write):
    log = write(
        "app.jsonl",
        json.dumps({"ts": TS, "level": "INFO", "message": "m", "component": "controller"}),
    )
    found = ingest([log], components={"worker": log})
    assert found.evidence.logs[0]["component"] == "controller"
    assert found.sources[0].component_rule == "content"


def test_the_date_of_times_of_day_comes_from_other_evidence(write):
    times = write("worker.log", "07:40:19.996 [INFO] a\n")
    dated = write(
        "controller.jsonl",
        json.dumps({"ts": "2025-12-02T07:40:00Z", "level": "INFO", "message": "m"}),
    )
    found = ingest([times, dated])
    assert found.date_source == "evidence: controller.jsonl"
    assert found.evidence.logs[0]["ts"] == TS
    assert "dateUnknown" not in found.evidence.logs[0]


def test_several_requestids_attach_none_to_the_run_answer(write):
    write(
        "worker.log",
        "07:40:19.996 [INFO] [DONE][OK] requestId=afc4198d-df18-46e3-85db-505b99b3a73e\n"
        "07:40:19.997 [INFO] [DONE][FAIL] requestId=0b7e3a1c-1111-4222-8333-944445555666\n",
    )
    folder = write(
        "controller-response.json", '{"status": "TIMEOUT", "message": "Execution timed out"}'
    ).parent
    found = ingest([folder])
    [run] = found.evidence.runs
    assert run.requestId is None
    assert [line["status"] for line in found.evidence.logs] == ["SUCCESS", "FAILED"]
    assert not any(line.get("requestIdInferred") for line in found.evidence.logs)


def test_nothing_usable_names_the_files_lines_and_expected_formats(write):
    path = write("notes.txt", "hello\nworld\n")
    with pytest.raises(NothingUsable) as raised:
        ingest([path, write("a.bin", b"\x00\x00")])
    message = str(raised.value)
    assert str(path) in message
    assert "line 1: 'hello'" in message
    assert "line 2: 'world'" in message
    assert "a.bin: binary, skipped" in message
    for expected in (
        "JSON log lines",
        "plain-text logs",
        "OTLP JSON",
        "Jaeger",
        "/run response",
        "results.jsonl",
    ):
        assert expected in message


def test_an_empty_folder_and_a_missing_path_are_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(NothingUsable, match="holds no file"):
        ingest([tmp_path / "empty"])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ingest([tmp_path / "nowhere"])


def test_unparsed_lines_over_all_files_are_kept_up_to_the_cap(write):
    from harness.ingest import Limits

    a = write("a.log", "07:40:19.996 [INFO] x\n" + "junk\n" * 10)
    b = write("b.log", "junk\n" * 10)
    found = ingest([a, b], limits=Limits(unparsed_kept=15, samples=2))
    assert len(found.unparsed) == 15
    assert [r.unparsed_count for r in found.sources] == [10, 10]
    assert [len(r.unparsed) for r in found.sources] == [2, 2]


RID = "afc4198d-df18-46e3-85db-505b99b3a73e"


def test_lines_outside_a_request_or_about_a_process_are_not_attributed(write):
    platform = [
        {"ts": TS, "level": "INFO", "component": "worker", "message": "started", "requestId": ""},
        {"ts": TS, "level": "INFO", "component": "worker", "message": "ran", "requestId": RID},
    ]
    text = (
        "07:40:19.000 [INFO] worker worker-1 polling http://sqs/q\n"
        "07:40:19.996 [INFO] Successfully downloaded zip file: 34 bytes\n"
        f"07:40:20.000 [INFO] [DONE][OK] requestId={RID}\n"
    )
    found = ingest(
        [
            write("worker.jsonl", "".join(json.dumps(line) + "\n" for line in platform)),
            write("worker.log", text),
        ]
    )
    inferred = [line["message"] for line in found.evidence.logs if line.get("requestIdInferred")]
    assert inferred == ["Successfully downloaded zip file: 34 bytes"]
    assert "requestId" not in found.evidence.logs[0]
