"""One input file, read without trusting it.

A file is read in binary, a line at a time, never whole (except a small JSON document):

- a line longer than :attr:`Limits.line_bytes` is cut there and its remainder skipped
  without being buffered (``oversized line``);
- bytes that are not UTF-8 are decoded with U+FFFD (``invalid utf-8``), a leading BOM is
  dropped, ``\\r\\n`` ends a line like ``\\n``;
- a last line without its newline is read all the same (``unterminated last line``);
- NUL bytes in the first 8 KiB mark a binary file, which adapters never see.

:meth:`Source.head` gives the first non-blank lines (quietly: nothing counted) to decide
the format, :meth:`Source.lines` streams every non-blank line with its number, and
:meth:`Source.document` parses the whole file as one JSON value when it is one (a
pretty-printed result, a Jaeger export) and at most :attr:`Limits.document_bytes`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from harness.ingest import jsontext
from harness.ingest.limits import DEFAULT_LIMITS, Limits
from harness.ingest.problems import WarningKind

BINARY_PROBE = 8192
_SKIP_CHUNK = 64 * 1024
_BOM = b"\xef\xbb\xbf"


class Line(NamedTuple):
    number: int  # 1-based, counting blank lines too
    text: str  # without its line ending


class _Raw(NamedTuple):
    data: bytes
    cut: bool  # longer than the cap: ``data`` is its start
    terminated: bool  # ended by a newline


class _Absent:
    """No document: the file is not one JSON value (or too big, or hostile)."""

    def __init__(self, problem: WarningKind | None = None) -> None:
        self.problem = problem


class Source:
    """An input file and what reading it found (counts and warnings)."""

    def __init__(self, path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.path = path
        self.limits = limits
        self.warnings: Counter[WarningKind] = Counter()
        self.lines_read = 0
        self.blank = 0
        self._head: list[str] | None = None
        self._document: Any = None

    def warn(self, kind: WarningKind) -> None:
        self.warnings[kind] += 1

    def is_binary(self) -> bool:
        with self.path.open("rb") as handle:
            return b"\0" in handle.read(BINARY_PROBE)

    @property
    def head(self) -> list[str]:
        """The first :attr:`Limits.sniff_lines` non-blank lines, each cut at
        :attr:`Limits.sniff_bytes`; nothing is counted."""
        if self._head is None:
            self._head = []
            with self.path.open("rb") as handle:
                for number, raw in enumerate(_raw_lines(handle, self.limits.sniff_bytes), 1):
                    text = _text(raw.data, raw.cut, number == 1)[0]
                    if text.strip():
                        self._head.append(text)
                    if len(self._head) >= self.limits.sniff_lines:
                        break
        return self._head

    def lines(self) -> Iterator[Line]:
        """Every non-blank line, streamed; counts lines and warnings as it goes."""
        with self.path.open("rb") as handle:
            for number, raw in enumerate(_raw_lines(handle, self.limits.line_bytes), 1):
                self.lines_read += 1
                text, valid = _text(raw.data, raw.cut, number == 1)
                if raw.cut:
                    self.warn(WarningKind.OVERSIZED_LINE)
                if not valid:
                    self.warn(WarningKind.INVALID_UTF8)
                if not raw.terminated:
                    self.warn(WarningKind.UNTERMINATED)
                if text.strip():
                    yield Line(number, text)
                else:
                    self.blank += 1

    def document(self) -> Any:
        """The file's one JSON value, or None when it is not one; quiet and cached.

        Only tried when the file starts with ``{`` or ``[`` and its first line is not a
        whole JSON object on its own (a JSON-lines file is not a document).
        """
        if self._document is None:
            self._document = self._parse_document()
        return None if isinstance(self._document, _Absent) else self._document

    def take_document(self) -> Any:
        """:meth:`document`, counted as read: its lines, and invalid UTF-8 if any."""
        value = self.document()
        data = self._document_bytes()
        text, valid = _text(data, False, True)
        lines = text.splitlines()
        self.lines_read += len(lines)
        self.blank += sum(1 for line in lines if not line.strip())
        if not valid:
            self.warn(WarningKind.INVALID_UTF8)
        return value

    def claim_document_problem(self) -> None:
        """Count why the file, which looked like one JSON document, could not be parsed
        (called by the adapter that ends up reading it as lines, so it is counted once)."""
        self.document()
        if isinstance(self._document, _Absent) and self._document.problem is not None:
            self.warn(self._document.problem)
            self._document = _Absent()

    def _parse_document(self) -> Any:
        head = self.head
        if not head or not head[0].lstrip().startswith(("{", "[")):
            return _Absent()
        if len(head) > 1 and jsontext.is_json_object(head[0], self.limits.json_depth):
            return _Absent()  # JSON lines
        if self.path.stat().st_size > self.limits.document_bytes:
            return _Absent(WarningKind.OVERSIZED_DOCUMENT)
        text = _text(self._document_bytes(), False, True)[0]
        try:
            return jsontext.loads(text, self.limits.json_depth)
        except jsontext.NotJson as exc:
            return _Absent(exc.problem)

    def _document_bytes(self) -> bytes:
        with self.path.open("rb") as handle:
            return handle.read(self.limits.document_bytes)


def _raw_lines(handle: BinaryIO, cap: int) -> Iterator[_Raw]:
    """The lines of a binary file, each at most ``cap`` bytes (the rest skipped)."""
    while raw := handle.readline(cap + 1):
        if raw.endswith(b"\n"):
            yield _Raw(raw[:-1].removesuffix(b"\r"), False, True)
        elif len(raw) <= cap:
            yield _Raw(raw.removesuffix(b"\r"), False, False)
        else:
            yield _Raw(raw[:cap], True, _skip_rest(handle))


def _skip_rest(handle: BinaryIO) -> bool:
    """Skip to the end of the current line; whether a newline ended it."""
    while chunk := handle.readline(_SKIP_CHUNK):
        if chunk.endswith(b"\n"):
            return True
    return False


def _text(data: bytes, cut: bool, first: bool) -> tuple[str, bool]:
    """(text, was valid UTF-8); a character split by the cut is dropped, not counted."""
    if first:
        data = data.removeprefix(_BOM)
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError as exc:
        if cut and exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            try:
                return data[: exc.start].decode("utf-8"), True
            except UnicodeDecodeError:
                pass
        return data.decode("utf-8", "replace"), False
