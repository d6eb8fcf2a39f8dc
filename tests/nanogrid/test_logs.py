from __future__ import annotations

import io
import json
import logging
import re
import uuid

import pytest
from opentelemetry.sdk.trace import TracerProvider

from nanogrid.logs import configure_logging
from nanogrid.telemetry import RequestIdGenerator, request_scope, set_function_id

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(autouse=True)
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_outside_any_request():
    stream = io.StringIO()
    configure_logging("worker", stream=stream)
    logging.getLogger("nanogrid.worker").info("polling %s", "nanogrid-tasks")
    (entry,) = lines(stream)
    assert TS.match(entry["ts"])
    assert entry == {
        "ts": entry["ts"],
        "level": "INFO",
        "component": "worker",
        "logger": "nanogrid.worker",
        "message": "polling nanogrid-tasks",
        "requestId": "",
        "functionId": "",
        "trace_id": "",
        "span_id": "",
    }


def test_a_line_inside_a_request_span_carries_its_ids():
    stream = io.StringIO()
    configure_logging("worker", stream=stream)
    tracer = TracerProvider(id_generator=RequestIdGenerator()).get_tracer("t")
    rid = str(uuid.uuid4())
    with request_scope(rid), tracer.start_as_current_span("process") as span:
        set_function_id("fn-1")
        logging.getLogger("w").info("downloaded %d bytes", 812)
    (entry,) = lines(stream)
    assert entry["message"] == "downloaded 812 bytes"
    assert entry["requestId"] == rid
    assert entry["functionId"] == "fn-1"
    assert entry["trace_id"] == uuid.UUID(rid).hex
    assert entry["span_id"] == f"{span.get_span_context().span_id:016x}"


def test_extra_fields_are_added_and_extra_request_id_wins():
    stream = io.StringIO()
    configure_logging("controller", stream=stream)
    with request_scope(str(uuid.uuid4())):
        logging.getLogger("c").warning(
            "published", extra={"requestId": "given", "subscribers": 0, "path": object()}
        )
    (entry,) = lines(stream)
    assert entry["requestId"] == "given"
    assert entry["subscribers"] == 0
    assert entry["path"].startswith("<object")
    assert entry["level"] == "WARNING"


def test_exceptions_are_rendered_as_text():
    stream = io.StringIO()
    configure_logging("worker", stream=stream)
    try:
        raise ValueError("bad zip")
    except ValueError:
        logging.getLogger("w").exception("validation failed")
    (entry,) = lines(stream)
    assert entry["message"] == "validation failed"
    assert "Traceback" in entry["exc"]
    assert "ValueError: bad zip" in entry["exc"]


def test_configuring_twice_replaces_the_handlers(tmp_path):
    first, second = io.StringIO(), io.StringIO()
    configure_logging("worker", stream=first)
    log_file = tmp_path / "logs" / "worker.log"
    configure_logging("worker", level="DEBUG", stream=second, log_file=log_file)
    logging.getLogger("w").debug("once")
    assert first.getvalue() == ""
    assert [e["message"] for e in lines(second)] == ["once"]
    assert [json.loads(x)["message"] for x in log_file.read_text().splitlines()] == ["once"]


def test_the_level_filters():
    stream = io.StringIO()
    configure_logging("worker", level="WARNING", stream=stream)
    logging.getLogger("w").info("hidden")
    logging.getLogger("w").error("shown")
    assert [e["message"] for e in lines(stream)] == ["shown"]
