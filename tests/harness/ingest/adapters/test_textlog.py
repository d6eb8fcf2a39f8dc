"""Plain-text log layouts, with and without a date, continuation lines, unparsed lines."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from harness.ingest import ingest
from nanogrid.telemetry import semconv as sc

DAY = datetime.date(2025, 12, 2)
TS = "2025-12-02T07:40:19.996Z"


def logs_of(write, text: str, name: str = "worker.log") -> list[dict[str, Any]]:
    found = ingest([write(name, text)], date=DAY)
    assert found.sources[0].kind == "text-log"
    return found.evidence.logs


@pytest.mark.parametrize(
    ("line", "level", "fields"),
    [
        ("07:40:19.996 [INFO] MSG", "INFO", {}),
        ("2025-12-02 07:40:19.996 [warn] MSG", "WARNING", {}),
        ("2025-12-02T07:40:19.996Z [ERROR] MSG", "ERROR", {}),
        (
            "2025-12-02 07:40:19.996 [main] INFO  com.acme.Worker - MSG",
            "INFO",
            {"thread": "main", "logger": "com.acme.Worker"},
        ),
        (
            "07:40:19.996 [pool-1-thread-2] WARN  c.a.Worker - MSG",
            "WARNING",
            {"thread": "pool-1-thread-2", "logger": "c.a.Worker"},
        ),
        (
            "2025-12-02 07:40:19,996 - nanogrid.worker - ERROR - MSG",
            "ERROR",
            {"logger": "nanogrid.worker"},
        ),
        ("07:40:19,996 - w - DEBUG - MSG", "DEBUG", {"logger": "w"}),
        (
            "2025-12-02 07:40:19,996 CRITICAL nanogrid.worker: MSG",
            "CRITICAL",
            {"logger": "nanogrid.worker"},
        ),
        ("07:40:19.996 INFO w: MSG", "INFO", {"logger": "w"}),
    ],
)
def test_each_layout_gives_time_level_logger_and_message(write, line, level, fields):
    message = "Successfully downloaded zip file: 34 bytes"
    [got] = logs_of(write, line.replace("MSG", message) + "\n")
    assert (got["ts"], got["level"], got["message"]) == (TS, level, message)
    assert got["event"] == sc.PACKAGE_DOWNLOADED
    assert got["bytes"] == 34
    assert {k: got[k] for k in fields} == fields


def test_python_basic_config_has_no_time_and_says_so_by_having_no_ts(write):
    [got] = logs_of(write, "WARNING:nanogrid.worker:heartbeat failed: Connection refused\n")
    assert "ts" not in got
    assert (got["level"], got["logger"], got["event"]) == (
        "WARNING",
        "nanogrid.worker",
        sc.HEARTBEAT_FAILED,
    )
    assert (got["dependency"], got["error"]) == ("redis", "Connection refused")


def test_a_java_stack_trace_continues_its_record(write):
    text = (
        "07:40:19.996 [main] ERROR c.a.Worker - exec failed\n"
        "java.lang.IllegalStateException: boom\n"
        "\tat com.acme.Worker.run(Worker.java:42)\n"
        "Caused by: java.io.IOException: disk\n"
        "\t... 5 more\n"
        "07:40:20.000 [main] INFO  c.a.Worker - next\n"
    )
    first, second = logs_of(write, text)
    assert first["message"].splitlines() == [
        "exec failed",
        "java.lang.IllegalStateException: boom",
        "\tat com.acme.Worker.run(Worker.java:42)",
        "Caused by: java.io.IOException: disk",
        "\t... 5 more",
    ]
    assert second["message"] == "next"


def test_a_python_traceback_continues_its_record_and_counts_as_parsed(write):
    text = (
        "2025-12-02 07:40:19,996 - w - ERROR - crashed\n"
        "Traceback (most recent call last):\n"
        '  File "main.py", line 1, in <module>\n'
        "    raise ValueError('x')\n"
        "ValueError: x\n"
    )
    found = ingest([write("w.log", text)], date=DAY)
    [got] = found.evidence.logs
    assert got["message"].endswith("ValueError: x")
    assert got["message"].count("\n") == 4
    [report] = found.sources
    assert (report.lines_read, report.lines_parsed, report.unparsed_count) == (5, 5, 0)


def test_lines_of_no_layout_are_counted_and_kept_with_their_number(write):
    text = (
        "07:40:19.996 [INFO] one\n"
        "\n"
        "garbage line\n"
        "\tat orphan.Frame(after garbage)\n"
        "07:40:20.000 [INFO] two\n"
    )
    found = ingest([write("w.log", text)], date=DAY)
    assert [line["message"] for line in found.evidence.logs] == ["one", "two"]
    [report] = found.sources
    assert (report.lines_read, report.lines_parsed, report.unparsed_count) == (5, 2, 2)
    assert [(u.line, u.text) for u in report.unparsed] == [
        (3, "garbage line"),
        (4, "\tat orphan.Frame(after garbage)"),
    ]
    assert [u.line for u in found.unparsed] == [3, 4]


def test_a_line_past_midnight_is_on_the_next_day(write):
    logs = logs_of(write, "23:59:59.900 [INFO] late\n00:00:00.100 [INFO] early\n")
    assert [line["ts"] for line in logs] == ["2025-12-02T23:59:59.900Z", "2025-12-03T00:00:00.100Z"]


def test_a_zone_on_the_time_is_converted_to_utc(write):
    [got] = logs_of(write, "2025-12-02 08:40:19.996+01:00 [INFO] m\n")
    assert got["ts"] == TS
