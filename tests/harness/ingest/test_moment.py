"""Times as files write them, and as the log contract writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from harness.ingest import dating
from harness.ingest.moment import PLACEHOLDER_DATE, Moment, iso, parse, time_of_day

AT = datetime(2025, 12, 2, 7, 40, 19, 996000, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2025-12-02T07:40:19.996Z",
        "2025-12-02 07:40:19,996",
        "2025-12-02T09:40:19.996+02:00",
        "2025-12-02T07:40:19.996000123Z",
        AT.timestamp(),  # epoch seconds (structlog, python-json-logger)
        int(AT.timestamp() * 1e3),  # epoch ms (pino)
        int(AT.timestamp() * 1e6),
        int(AT.timestamp() * 1e9),
        str(int(AT.timestamp() * 1e3)),
    ],
)
def test_every_spelling_of_one_moment(value):
    moment = parse(value)
    assert moment is not None
    assert moment.dated
    assert iso(moment.at) == "2025-12-02T07:40:19.996Z"


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        "",
        "soon",
        "99:99:99",
        [1],
        "2025-13-40T00:00:00",
        1e300,
        float("nan"),
        0,
        "5",
        -1.5,
    ],
)
def test_what_is_not_a_moment(value):
    assert parse(value) is None


def test_a_time_of_day_waits_for_its_date():
    moment = time_of_day("07:40:19.996")
    assert moment == Moment(datetime.combine(PLACEHOLDER_DATE, AT.timetz()), dated=False)
    assert moment.on(date(2025, 12, 2)) == AT
    assert time_of_day("07:40:19.996", "2025-12-02") == Moment(AT)


def test_microseconds_are_kept_when_present():
    assert iso(AT.replace(microsecond=996123)) == "2025-12-02T07:40:19.996123Z"


def test_the_date_is_the_option_else_the_earliest_evidence_else_unknown():
    later = datetime(2025, 12, 3, tzinfo=UTC)
    assert dating.choose(date(2024, 1, 1), [(AT, "a")]) == dating.Dating(date(2024, 1, 1), "option")
    assert dating.choose(None, [(later, "b"), (AT, "a")]) == dating.Dating(
        date(2025, 12, 2), "evidence: a"
    )
    unknown = dating.choose(None, [])
    assert (unknown.day, unknown.source, unknown.known) == (PLACEHOLDER_DATE, "unknown", False)


def test_placing_marks_unknown_dates_and_rolls_over_midnight():
    moments = [time_of_day("23:59:00"), None, time_of_day("00:01:00"), Moment(AT)]
    placed = dating.place(moments, dating.Dating(date(2025, 12, 2), "option"))
    assert [iso(at) if at else None for at, _ in placed] == [
        "2025-12-02T23:59:00.000Z",
        None,
        "2025-12-03T00:01:00.000Z",
        "2025-12-02T07:40:19.996Z",
    ]
    unknown = dating.place(moments[:1], dating.choose(None, []))
    assert unknown[0][1] is True
