"""Wordings mapped onto the platform's log events: rules ``regex -> event`` in TOML.

A record without an ``event`` gets one when a rule's regex is found in the first line of
its message (at most :attr:`Limits.match_chars` of it); the regex's named groups become
fields. A pattern file holds any number of rules::

    [[rule]]
    name = "zip downloaded"                 # required; unique in the file
    regex = 'downloaded zip file: (?P<bytes>\\d+) bytes'   # required: Python's re syntax
    event = "package.downloaded"            # required: one of the platform's event codes
    types = { bytes = "int" }               # a group's type: str (default), int or float
    values = { status = { OK = "SUCCESS" } }  # a captured value translated
    set = { reason = "EMPTY_ARCHIVE" }      # constant fields
    component = "worker"                    # only records of this component (or worker-N)
    level = ["WARNING", "ERROR"]            # only records at these levels
    example = "Successfully downloaded zip file: 34 bytes"   # must match: checked at load

A group that did not take part in the match (``(, subscribers=(?P<receivers>\\d+))?``)
gives no field, nor does an ``int`` group whose text is not a number.

Precedence: the first rule that matches wins. The files given by the caller are tried in
the order given, before the built-in rules (:file:`harness/ingest/patterns.toml`); a
caller's rule with the ``name`` of a built-in rule replaces it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from harness.ingest.errors import PatternError
from harness.ingest.events import KNOWN_EVENTS
from harness.ingest.levels import level_name

BUILTIN = "patterns.toml"
TYPES = ("str", "int", "float")
_KEYS = {"name", "regex", "event", "types", "values", "set", "component", "level", "example"}


@dataclass(frozen=True)
class PatternRule:
    """One ``regex -> event`` rule (see the module docstring)."""

    name: str
    regex: re.Pattern[str]
    event: str
    origin: str  # the file it came from
    types: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    constants: Mapping[str, Any] = field(default_factory=dict)
    component: str | None = None
    levels: frozenset[str] | None = None

    def applies_to(self, component: str, level: str | None) -> bool:
        if self.component is not None and not _same_component(component, self.component):
            return False
        return self.levels is None or (level or "") in self.levels

    def fields(self, text: str) -> dict[str, Any] | None:
        """The fields of a message this rule matches; None when it does not."""
        found = self.regex.search(text)
        if found is None:
            return None
        out: dict[str, Any] = {}
        for group, value in found.groupdict().items():
            if value is None:
                continue
            value = self.values.get(group, {}).get(value, value)
            converted = _convert(value, self.types.get(group, "str"))
            if converted is not None:
                out[group] = converted
        for key, value in self.constants.items():
            out.setdefault(key, value)
        return out


@dataclass(frozen=True)
class Match:
    event: str
    fields: dict[str, Any]
    rule: PatternRule


class PatternSet:
    """Rules in precedence order; :meth:`match` gives the first that matches."""

    def __init__(self, rules: Sequence[PatternRule]) -> None:
        self.rules = tuple(rules)

    @classmethod
    def load(cls, files: Sequence[Path] = ()) -> PatternSet:
        """The caller's files (in order) before the built-in rules they do not replace."""
        users = [rule for path in files for rule in read_file(path)]
        named = {rule.name for rule in users}
        return cls(users + [rule for rule in builtin_rules() if rule.name not in named])

    def match(self, message: str, component: str, level: str | None) -> Match | None:
        first = message.split("\n", 1)[0]
        for rule in self.rules:
            if not rule.applies_to(component, level):
                continue
            fields = rule.fields(first)
            if fields is not None:
                return Match(rule.event, fields, rule)
        return None


def builtin_rules() -> list[PatternRule]:
    text = resources.files("harness.ingest").joinpath(BUILTIN).read_text(encoding="utf-8")
    return parse_rules(text, f"harness/ingest/{BUILTIN}")


def read_file(path: Path) -> list[PatternRule]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PatternError(f"{path}: cannot read the pattern file: {exc}") from exc
    return parse_rules(text, str(path))


def parse_rules(text: str, origin: str) -> list[PatternRule]:
    """The rules of a pattern file's text; raises :class:`PatternError` naming the file
    and the rule at fault."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PatternError(f"{origin}: not valid TOML: {exc}") from exc
    unknown = set(document) - {"rule"}
    if unknown:
        raise PatternError(f"{origin}: unknown table(s) {sorted(unknown)}: only [[rule]]")
    tables = document.get("rule", [])
    if not isinstance(tables, list):
        raise PatternError(f"{origin}: 'rule' must be an array of tables ([[rule]])")
    rules = [_rule(table, origin, n) for n, table in enumerate(tables, 1)]
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise PatternError(f"{origin}: rule {rule.name!r} is defined twice")
        seen.add(rule.name)
    return rules


def _rule(table: Any, origin: str, number: int) -> PatternRule:
    where = f"{origin}: rule #{number}"
    if not isinstance(table, dict):
        raise PatternError(f"{where}: not a table")
    name = table.get("name")
    if isinstance(name, str) and name:
        where = f"{origin}: rule {name!r}"
    else:
        raise PatternError(f"{where}: 'name' (a non-empty string) is missing")
    if unknown := set(table) - _KEYS:
        raise PatternError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(_KEYS)}")
    regex = _regex(table.get("regex"), where)
    rule = PatternRule(
        name=name,
        regex=regex,
        event=_event(table.get("event"), where),
        origin=origin,
        types=_types(table.get("types", {}), regex, where),
        values=_values(table.get("values", {}), regex, where),
        constants=_table(table.get("set", {}), where, "set"),
        component=_optional_text(table.get("component"), where, "component"),
        levels=_levels(table.get("level"), where),
    )
    _check_example(rule, table.get("example"), where)
    return rule


def _regex(value: Any, where: str) -> re.Pattern[str]:
    if not isinstance(value, str) or not value:
        raise PatternError(f"{where}: 'regex' (a non-empty string) is missing")
    try:
        return re.compile(value)
    except re.error as exc:
        raise PatternError(f"{where}: bad regex {value!r}: {exc}") from exc


def _event(value: Any, where: str) -> str:
    if value not in KNOWN_EVENTS:
        known = ", ".join(sorted(KNOWN_EVENTS))
        raise PatternError(f"{where}: unknown event {value!r}; the platform's events: {known}")
    return str(value)


def _types(value: Any, regex: re.Pattern[str], where: str) -> dict[str, str]:
    types = _table(value, where, "types")
    for group, kind in types.items():
        if group not in regex.groupindex:
            raise PatternError(f"{where}: types names {group!r}, not a group of the regex")
        if kind not in TYPES:
            raise PatternError(f"{where}: type {kind!r} of {group!r}: use one of {TYPES}")
    return {str(k): str(v) for k, v in types.items()}


def _values(value: Any, regex: re.Pattern[str], where: str) -> dict[str, dict[str, str]]:
    values = _table(value, where, "values")
    for group, mapping in values.items():
        if group not in regex.groupindex or not isinstance(mapping, dict):
            raise PatternError(f"{where}: values.{group} must be a table for a regex group")
    return {str(g): {str(k): str(v) for k, v in m.items()} for g, m in values.items()}


def _table(value: Any, where: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PatternError(f"{where}: {key!r} must be a table")
    return dict(value)


def _optional_text(value: Any, where: str, key: str) -> str | None:
    if value is None or (isinstance(value, str) and value):
        return value
    raise PatternError(f"{where}: {key!r} must be a non-empty string")


def _levels(value: Any, where: str) -> frozenset[str] | None:
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise PatternError(f"{where}: 'level' must be a level name or a list of them")
    return frozenset(level_name(n) or n.upper() for n in names)


def _check_example(rule: PatternRule, example: Any, where: str) -> None:
    if example is None:
        return
    if not isinstance(example, str) or rule.fields(example) is None:
        raise PatternError(f"{where}: its example {example!r} does not match its regex")


def _convert(value: str, kind: str) -> Any:
    if kind == "str":
        return value
    try:
        return int(value) if kind == "int" else float(value)
    except ValueError:
        return None


def _same_component(component: str, wanted: str) -> bool:
    return component == wanted or component.startswith((f"{wanted}-", f"{wanted}_"))
