"""Level names and numbers; which component wrote a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.ingest.components import Rule, fallback, from_file_name
from harness.ingest.levels import OTEL, PINO, PYTHON, level_name


@pytest.mark.parametrize(
    ("value", "numbering", "name"),
    [
        ("warn", PINO, "WARNING"),
        ("Fatal", PINO, "CRITICAL"),
        ("err", PINO, "ERROR"),
        ("severe", PINO, "ERROR"),
        ("notice", PINO, "INFO"),
        ("verbose", PINO, "VERBOSE"),
        (10, PINO, "TRACE"),
        (30, PINO, "INFO"),
        (60, PINO, "CRITICAL"),
        ("40", PINO, "WARNING"),
        (30, PYTHON, "WARNING"),
        (10, PYTHON, "DEBUG"),
        (9, OTEL, "INFO"),
        (24, OTEL, "CRITICAL"),
        (True, PINO, None),
        ("", PINO, None),
        ([1], PINO, None),
    ],
)
def test_levels(value, numbering, name):
    assert level_name(value, numbering) == name


@pytest.mark.parametrize(
    ("file", "component"),
    [
        ("worker.log", "worker"),
        ("worker-1.log", "worker-1"),
        ("controller-response.json", "controller"),
        ("nanogrid-controller.jsonl", "controller"),
        ("nanogrid-worker-4382.jsonl", "worker-4382"),
        ("published-result.json", "published-result"),
        ("nanogrid-api.log", "api"),
        ("Redis.LOG", "redis"),
    ],
)
def test_component_from_the_file_name(file, component):
    assert from_file_name(Path(file)) == component


def test_the_option_names_a_file_or_its_folder(tmp_path):
    log = tmp_path / "logs" / "app.log"
    assert fallback(log, {"worker": tmp_path / "logs"}).rule is Rule.OPTION
    assert fallback(log, {"worker": log}).name == "worker"
    assert fallback(log, {"worker": tmp_path / "other"}).rule is Rule.FILE_NAME
