"""Log entries as the platform's log lines."""

from __future__ import annotations

import pytest

from harness.ingest import PatternSet
from harness.ingest.moment import time_of_day
from harness.ingest.normalise import Placement, contract_line, request_id_in
from harness.ingest.records import LogEntry

RID = "afc4198d-df18-46e3-85db-505b99b3a73e"
PLACE = Placement("2025-12-02T07:40:19.996Z", False, "worker", "worker.log:1")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"[DONE][OK] requestId={RID}", RID),
        (f"Publishing result to channel: result:{RID}", RID),
        (f"request_id: {RID.upper()}", RID.upper()),
        (f"requestId={RID}x", RID),  # a letter after the id ends it (x is not hex)
        (f"requestId={RID}0", None),  # a longer hex string is not this UUID
        ("requestId=afc4198d...", None),  # the memo's shortened ids are not ids
        (f"no key {RID}", None),
    ],
)
def test_request_ids_in_messages(text, found):
    assert request_id_in(text) == found


def test_a_line_in_the_contract():
    entry = LogEntry(
        7, time_of_day("07:40:19.996"), "INFO", "Successfully downloaded zip file: 34 bytes\nmore"
    )
    line, rule = contract_line(entry, PLACE, PatternSet.load(), 4096)
    assert line == {
        "ts": "2025-12-02T07:40:19.996Z",
        "level": "INFO",
        "component": "worker",
        "message": "Successfully downloaded zip file: 34 bytes\nmore",
        "event": "package.downloaded",
        "bytes": 34,
        "source": "worker.log:1",
    }
    assert rule is not None
    assert rule.name == "package downloaded"


def test_the_records_own_event_and_fields_win_over_the_wording():
    entry = LogEntry(
        1,
        None,
        None,
        "Successfully downloaded zip file: 34 bytes",
        event="package.cached",
        fields={"bytes": 35, "requestId": RID},
    )
    line, rule = contract_line(entry, PLACE, PatternSet.load(), 4096)
    assert (line["event"], line["bytes"], line["requestId"], rule) == (
        "package.cached",
        35,
        RID,
        None,
    )
    assert "level" not in line


def test_a_placeholder_date_is_marked():
    entry = LogEntry(1, None, "INFO", "x")
    line, _ = contract_line(
        entry, Placement("1970-01-01T07:40:19.996Z", True, "w", "w:1"), PatternSet.load(), 4096
    )
    assert line["dateUnknown"] is True
