"""Wording rules: the built-in ones cover every line the platform logs; a caller's file
extends and overrides them; a wrong file is refused naming the file and the rule."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from harness.ingest import PatternError, PatternSet, ingest
from harness.ingest.events import KNOWN_EVENTS
from nanogrid.telemetry import semconv as sc

ROOT = Path(__file__).resolve().parents[3]
UUID = "afc4198d-df18-46e3-85db-505b99b3a73e"
_CONVERSION = re.compile(r"%(?:\.\d+)?[sdf]")


def platform_log_calls() -> list[tuple[str, str, list[str]]]:
    """(format, event constant, argument sources) of every log call naming an event."""
    found = []
    for path in sorted((ROOT / "nanogrid").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            extra = next((k.value for k in node.keywords if k.arg == "extra"), None)
            fmt = node.args[0]
            if not isinstance(extra, ast.Dict) or not isinstance(fmt, ast.Constant):
                continue
            text = fmt.value
            if not isinstance(text, str):
                continue
            for key, value in zip(extra.keys, extra.values, strict=True):
                if key is not None and ast.unparse(key) == "sc.EVENT":
                    event = ast.unparse(value).removeprefix("sc.")
                    found.append((text, event, [ast.unparse(a) for a in node.args[1:]]))
    return found


def render(fmt: str, args: list[str]) -> str:
    """The text a call logs, with a value fitting each argument's name."""
    values = iter(args)

    def sample(conversion: re.Match[str]) -> str:
        name = next(values, "").lower()
        if conversion.group().endswith("f"):
            return "1.5"
        if "request_id" in name or "requestid" in name:
            return UUID
        if "sha256" in name:
            return "5f2b"
        return {"ok": "OK", "kind": "Container"}.get(name, "3")

    return _CONVERSION.sub(sample, fmt)


CALLS = platform_log_calls()


def test_the_platform_log_calls_were_found():
    assert len(CALLS) > 30
    assert {event for _, event, _ in CALLS} >= {"PACKAGE_DOWNLOADED", "TASK_DONE", "RUN_TIMEOUT"}


@pytest.mark.parametrize(("fmt", "event", "args"), CALLS, ids=[c[0][:40] for c in CALLS])
def test_every_platform_wording_maps_to_the_event_it_is_logged_with(fmt, event, args):
    text = render(fmt, args)
    matched = PatternSet.load().match(text, "worker", None)
    assert matched is not None, text
    assert matched.event == getattr(sc, event)


def test_known_events_are_the_platforms_and_cover_every_logged_event():
    assert {getattr(sc, event) for _, event, _ in CALLS} <= KNOWN_EVENTS
    assert all(isinstance(e, str) and "." in e for e in KNOWN_EVENTS)


def builtin_tables() -> list[dict[str, Any]]:
    text = resources.files("harness.ingest").joinpath("patterns.toml").read_text(encoding="utf-8")
    tables: list[dict[str, Any]] = tomllib.loads(text)["rule"]
    return tables


@pytest.mark.parametrize("table", builtin_tables(), ids=lambda t: t["name"])
def test_each_builtin_example_is_matched_by_its_own_rule_first(table):
    matched = PatternSet.load().match(table["example"], "worker", None)
    assert matched is not None
    assert matched.rule.name == table["name"]


def test_no_builtin_rule_names_an_incidents_ids():
    text = resources.files("harness.ingest").joinpath("patterns.toml").read_text(encoding="utf-8")
    regexes = [t["regex"] for t in tomllib.loads(text)["rule"]]
    assert not any(re.search(r"[0-9a-f]{8}-|afc4198d|1daed6ee", r) for r in regexes)


USER = """
[[rule]]
name = "artifact fetched"
regex = 'fetched artifact of (?P<bytes>\\d+)B'
event = "package.downloaded"
types = { bytes = "int" }
component = "agent"
example = "fetched artifact of 812B"

[[rule]]
name = "mine first"
regex = 'Successfully extracted (?P<files>\\d+) files'
event = "package.extracted"
types = { files = "int" }
set = { mappedBy = "user" }
"""


def test_a_user_file_maps_a_foreign_wording_and_wins_over_the_builtin(write):
    rules = write("mine.toml", USER)
    log = write(
        "agent.log",
        "07:40:19.996 [INFO] fetched artifact of 812B\n"
        "07:40:19.997 [INFO] Successfully extracted 3 files from zip\n",
    )
    fetched, extracted = ingest([log], patterns=[rules]).evidence.logs
    assert (fetched["event"], fetched["bytes"]) == (sc.PACKAGE_DOWNLOADED, 812)
    assert (extracted["files"], extracted["mappedBy"]) == (3, "user")


def test_a_rules_component_constraint_is_kept(write):
    rules = write("mine.toml", USER)
    log = write("other.log", "07:40:19.996 [INFO] fetched artifact of 812B\n")
    [line] = ingest([log], patterns=[rules]).evidence.logs
    assert "event" not in line


def test_a_user_rule_of_a_builtin_name_replaces_it(write):
    rules = write(
        "mine.toml",
        '[[rule]]\nname = "package downloaded"\nregex = "^never$"\nevent = "package.downloaded"\n',
    )
    log = write("worker.log", "07:40:19.996 [INFO] Successfully downloaded zip file: 34 bytes\n")
    [line] = ingest([log], patterns=[rules]).evidence.logs
    assert "event" not in line


def test_a_level_constraint(write):
    rules = write(
        "mine.toml",
        '[[rule]]\nname = "x"\nregex = "boom"\nevent = "task.failed"\nlevel = ["error"]\n',
    )
    log = write("w.log", "07:40:19.996 [WARN] boom\n07:40:19.997 [ERROR] boom\n")
    warn, error = ingest([log], patterns=[rules]).evidence.logs
    assert "event" not in warn
    assert error["event"] == sc.TASK_FAILED


TYPED = '[[rule]]\nname = "t"\nregex = "(?P<a>x)"\nevent = "task.done"\n'


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            '[[rule]]\nname = "bad"\nregex = "(?P<x"\nevent = "task.done"\n',
            r"rule 'bad': bad regex",
        ),
        (
            '[[rule]]\nname = "odd"\nregex = "x"\nevent = "task.finished"\n',
            r"rule 'odd': unknown event 'task.finished'",
        ),
        ('[[rule]]\nregex = "x"\nevent = "task.done"\n', r"rule #1: 'name'"),
        (
            TYPED + 'types = { b = "int" }\n',
            "not a group",
        ),
        (
            TYPED + 'types = { a = "bytes" }\n',
            "type 'bytes'",
        ),
        (
            '[[rule]]\nname = "t"\nregex = "x"\nevent = "task.done"\nexample = "y"\n',
            "does not match",
        ),
        ('[[rule]]\nname = "t"\nregex = "x"\nevent = "task.done"\nflavour = 1\n', "unknown key"),
        ('[[rule]]\nname = "t"\nregex = "x"\nevent = "task.done"\n' * 2, "defined twice"),
        ("[[rule]\n", "not valid TOML"),
    ],
)
def test_a_wrong_pattern_file_is_refused_naming_file_and_rule(write, text, says):
    path = write("wrong.toml", text)
    with pytest.raises(PatternError, match=re.escape(str(path))) as raised:
        ingest([write("w.log", "07:40:19.996 [INFO] x\n")], patterns=[path])
    assert re.search(says, str(raised.value))


def test_a_missing_pattern_file_is_refused(tmp_path):
    with pytest.raises(PatternError, match="cannot read"):
        PatternSet.load([tmp_path / "none.toml"])
