"""Hostile input: nothing in a file crashes the read, every problem is counted."""

from __future__ import annotations

import tracemalloc

import pytest

from harness.ingest import NothingUsable, WarningKind, ingest
from harness.ingest.limits import MIB, Limits
from harness.ingest.source import Source

GOOD = b"07:40:19.996 [INFO] fine\n"


def report_of(write, content: bytes, name: str = "w.log"):
    good = write("good.log", GOOD)
    path = write(name, content)
    found = ingest([good, path])
    return next(r for r in found.sources if r.path == path), found


def test_invalid_utf8_is_replaced_and_counted(write):
    report, found = report_of(write, b"07:40:19.996 [INFO] caf\xe9 \xff\n" + GOOD)
    assert report.warnings == {str(WarningKind.INVALID_UTF8): 1}
    assert found.evidence.logs[1]["message"] == "caf\ufffd \ufffd"
    assert report.lines_parsed == 2


def test_a_10_mb_line_is_cut_counted_and_read_in_bounded_memory(write):
    path = write("big.log", b"07:40:19.996 [INFO] " + b"x" * (10 * MIB) + b"\n" + GOOD)
    tracemalloc.start()
    try:
        found = ingest([path])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [report] = found.sources
    assert report.warnings == {str(WarningKind.OVERSIZED_LINE): 1}
    assert [len(line["message"]) < MIB for line in found.evidence.logs] == [True, True]
    assert len(found.evidence.logs) == 2
    assert peak < 8 * MIB  # never the whole line: it is 10 MiB


def test_a_character_split_by_the_cut_is_not_invalid_utf8(write):
    path = write("w.log", "07:40:19.996 [INFO] " + "é" * 100 + "\n")
    source = Source(path, Limits(line_bytes=25))
    [line] = list(source.lines())
    assert line.text == "07:40:19.996 [INFO] éé"
    assert dict(source.warnings) == {WarningKind.OVERSIZED_LINE: 1}


def test_a_json_bomb_is_counted_not_parsed(write):
    bomb = b"[" * 100_000
    with pytest.raises(NothingUsable, match="json too deep"):
        ingest([write("bomb.json", bomb)])
    line = b'{"ts": "2025-12-02T07:40:19Z", "level": "INFO", "message": "ok"}\n'
    report, _found = report_of(write, line + b'{"a": ' + b"[" * 100_000 + b"\n", "bomb.jsonl")
    assert report.kind == "json-log"
    assert report.warnings == {str(WarningKind.JSON_TOO_DEEP): 1}
    assert report.unparsed_count == 1


def test_a_huge_number_is_counted_not_parsed(write):
    line = b'{"ts": "2025-12-02T07:40:19Z", "level": "INFO", "message": "ok"}\n'
    report, _ = report_of(
        write, line + b'{"message": "x", "level": 1, "n": ' + b"9" * 5000 + b"}\n", "n.jsonl"
    )
    assert report.warnings == {str(WarningKind.JSON_NUMBER): 1}


def test_an_unterminated_last_line_is_read_and_counted(write):
    report, found = report_of(write, GOOD + b"07:40:20.000 [INFO] last")
    assert report.warnings == {str(WarningKind.UNTERMINATED): 1}
    assert found.evidence.logs[-1]["message"] == "last"


def test_a_binary_file_is_skipped_with_a_warning(write):
    report, found = report_of(write, b"\x7fELF\x00\x01\x02" + GOOD, "a.out")
    assert (report.kind, report.warnings, report.lines_read) == ("binary", {"binary": 1}, 0)
    assert len(found.evidence.logs) == 1


def test_an_empty_file_gives_nothing_and_says_so(write):
    report, _ = report_of(write, b"", "empty.log")
    assert (report.kind, report.lines_read, report.unparsed_count) == ("unrecognised", 0, 0)
    with pytest.raises(NothingUsable, match=r"empty\.log: empty"):
        ingest([write("empty.log", b"")])


def test_a_bom_and_crlf_endings_are_read_as_text(write):
    report, found = report_of(
        write, b"\xef\xbb\xbf07:40:19.996 [INFO] one\r\n07:40:19.997 [INFO] two\r\n"
    )
    assert report.warnings == {}
    assert [line["message"] for line in found.evidence.logs[1:]] == ["one", "two"]


def test_an_oversized_document_is_read_as_lines(write):
    path = write("big.json", b'{\n"status": "TIMEOUT",\n"message": "x"\n}\n')
    source = Source(path, Limits(document_bytes=10))
    assert source.document() is None
    source.claim_document_problem()
    assert dict(source.warnings) == {WarningKind.OVERSIZED_DOCUMENT: 1}


def test_an_unparsed_line_is_kept_short(write):
    report, found = report_of(write, GOOD + b"z" * (2 * MIB) + b"\n")
    [kept] = report.unparsed
    assert len(kept.text) == 500
    assert report.warnings == {str(WarningKind.OVERSIZED_LINE): 1}
    assert [u.text for u in found.unparsed] == [kept.text]
