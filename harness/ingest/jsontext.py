"""JSON text parsed without trusting it: depth checked before ``json.loads`` sees it.

A line of ``[[[[...`` would make the decoder recurse until ``RecursionError``, and a
digit string of megabytes would meet Python's int-conversion limit; both come back as
:class:`NotJson` with the :class:`~harness.ingest.problems.WarningKind` to count.
"""

from __future__ import annotations

import json
import re
from typing import Any

from harness.ingest.problems import WarningKind

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class NotJson(Exception):
    """The text is not one JSON value; ``problem`` is set when it is hostile, not just
    something else (a plain-text line)."""

    def __init__(self, problem: WarningKind | None = None) -> None:
        super().__init__(str(problem or "not JSON"))
        self.problem = problem


def loads(text: str, max_depth: int) -> Any:
    """The JSON value of ``text``; raises :class:`NotJson`."""
    if too_deep(text, max_depth):
        raise NotJson(WarningKind.JSON_TOO_DEEP)
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise NotJson(WarningKind.JSON_TOO_DEEP) from exc
    except json.JSONDecodeError as exc:
        raise NotJson() from exc
    except ValueError as exc:  # int conversion past sys.get_int_max_str_digits()
        raise NotJson(WarningKind.JSON_NUMBER) from exc


def too_deep(text: str, max_depth: int) -> bool:
    """Whether brackets outside strings nest deeper than ``max_depth``."""
    if text.count("[") + text.count("{") <= max_depth:
        return False  # cannot nest deeper than the brackets it has: skip the scan
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def is_json_object(text: str, max_depth: int) -> bool:
    """Whether ``text`` is one complete JSON object (quietly: nothing is counted)."""
    if not text.lstrip().startswith("{"):
        return False
    try:
        return isinstance(loads(text, max_depth), dict)
    except NotJson:
        return False
