"""JSON log lines: the platform's own, and pino, bunyan, structlog, logstash, ECS and
python-json-logger as they write them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from harness.ingest import ingest
from nanogrid.telemetry import semconv as sc

MOMENT = datetime(2025, 12, 2, 7, 40, 19, 996000, tzinfo=UTC)
TS = "2025-12-02T07:40:19.996Z"
RID = "afc4198d-df18-46e3-85db-505b99b3a73e"


def one(write, name: str, *objects: dict[str, Any]) -> list[dict[str, Any]]:
    path = write(name, "".join(json.dumps(o) + "\n" for o in objects))
    found = ingest([path])
    assert found.sources[0].kind == "json-log"
    return found.evidence.logs


def test_the_platforms_line_keeps_its_event_fields_and_writer(write):
    line = {
        "ts": TS,
        "level": "INFO",
        "component": "worker",
        "logger": "nanogrid.worker",
        "message": "Successfully downloaded zip file: 34 bytes",
        "requestId": RID,
        "functionId": "f1",
        "trace_id": "afc4198ddf1846e385db505b99b3a73e",
        "span_id": "ed3963a429248ba7",
        "workerId": "worker-1",
        "event": "package.downloaded",
        "bytes": 34,
    }
    [got] = one(write, "anything.jsonl", line)
    assert got == {**line, "source": "anything.jsonl:1"}


def test_pino_numeric_level_epoch_ms_msg_and_name(write):
    pino = {
        "level": 50,
        "time": int(MOMENT.timestamp() * 1000),
        "pid": 42,
        "hostname": "box",
        "name": "nanogrid-controller",
        "msg": "Timeout waiting for result",
        "reqId": RID,
    }
    [got] = one(write, "api.log", pino)
    assert (got["ts"], got["level"], got["component"]) == (TS, "ERROR", "controller")
    assert got["message"] == "Timeout waiting for result"
    assert got["event"] == sc.RUN_TIMEOUT  # the memo's controller wording
    assert got["requestId"] == RID
    assert (got["pid"], got["hostname"]) == (42, "box")


def test_bunyan_iso_time_fatal_and_version_field(write):
    bunyan = {
        "name": "payments",
        "hostname": "box",
        "pid": 7,
        "level": 60,
        "msg": "out of money",
        "time": "2025-12-02T07:40:19.996Z",
        "v": 0,
    }
    [got] = one(write, "x.log", bunyan)
    assert (got["ts"], got["level"], got["component"], got["v"]) == (TS, "CRITICAL", "payments", 0)


@pytest.mark.parametrize(
    "timestamp", ["2025-12-02T07:40:19.996Z", MOMENT.timestamp(), "2025-12-02T08:40:19.996+01:00"]
)
def test_structlog_event_is_the_message_when_it_is_not_a_platform_code(write, timestamp):
    line = {"event": "user logged in", "level": "warning", "timestamp": timestamp, "user": "bob"}
    [got] = one(write, "app.jsonl", line)
    assert (got["ts"], got["level"], got["message"]) == (TS, "WARNING", "user logged in")
    assert "event" not in got
    assert got["user"] == "bob"


def test_structlog_with_a_message_keeps_its_own_event_aside(write):
    line = {"event": "login", "message": "user logged in", "level": "info", "timestamp": TS}
    [got] = one(write, "app.jsonl", line)
    assert got["message"] == "user logged in"
    assert got["originalEvent"] == "login"
    assert "event" not in got


def test_logstash_line_in_the_memos_wording_gets_the_platform_event(write):
    line = {
        "@timestamp": TS,
        "@version": "1",
        "message": "Successfully extracted 0 files from zip",
        "logger_name": "c.a.Worker",
        "level": "INFO",
        "level_value": 20000,
    }
    [got] = one(write, "worker-agent.json.log", line)
    assert (got["ts"], got["event"], got["files"], got["component"]) == (
        TS,
        sc.PACKAGE_EXTRACTED,
        0,
        "worker",
    )
    assert got["@version"] == "1"


def test_ecs_nested_level_and_service_name(write):
    line = {
        "@timestamp": TS,
        "log": {"level": "warn", "logger": "w"},
        "message": "x",
        "service": {"name": "nanogrid-worker"},
    }
    [got] = one(write, "ecs.json", line, line)[:1]
    assert (got["level"], got["component"]) == ("WARNING", "worker")


def test_python_json_logger_asctime_levelname_and_logger_name(write):
    line = {"asctime": "2025-12-02 07:40:19,996", "levelname": "ERROR", "name": "w", "message": "x"}
    [got] = one(write, "controller.jsonl", line)
    assert (got["ts"], got["level"], got["component"]) == (TS, "ERROR", "controller")
    assert got["name"] == "w"  # a logger's name is not its component


def test_python_levelno_and_otel_severity_number(write):
    logs = one(
        write,
        "n.jsonl",
        {"ts": TS, "levelno": 30, "message": "a"},
        {"ts": TS, "severity_number": 17, "message": "b"},
    )
    assert [line["level"] for line in logs] == ["WARNING", "ERROR"]


def test_a_field_named_like_the_contract_is_kept_aside(write):
    [got] = one(write, "n.jsonl", {"ts": TS, "level": "info", "message": "m", "source": "db"})
    assert (got["source"], got["sourceOriginal"]) == ("n.jsonl:1", "db")


def test_lines_that_are_not_log_records_are_kept_unparsed(write):
    path = write(
        "w.jsonl",
        "--- supervisor: starting ---\n"
        + json.dumps({"ts": TS, "level": "INFO", "message": "ok"})
        + "\n[1, 2]\n{broken\n",
    )
    found = ingest([path])
    [report] = found.sources
    assert (report.kind, report.lines_read, report.lines_parsed) == ("json-log", 4, 1)
    assert [(u.line, u.reason) for u in report.unparsed] == [
        (1, "not a JSON log line"),
        (3, "not a JSON log line"),
        (4, "not valid JSON"),
    ]
    assert [u.line for u in found.unparsed] == [1, 3, 4]
