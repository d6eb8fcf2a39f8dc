"""The two directions that keep the house simple, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Live harness machinery: the analysis of recorded evidence must not depend on it.
LIVE = (
    "harness.stack",
    "harness.procs",
    "harness.env",
    "harness.scenario",
    "harness.replay",
    "harness.cli",
)


def imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_the_platform_never_imports_the_harness():
    offenders = {
        f: sorted(n for n in names if n.split(".")[0] in ("harness", "scenarios"))
        for f, names in imports("nanogrid").items()
    }
    assert {f: n for f, n in offenders.items() if n} == {}


@pytest.mark.parametrize("package", ["harness/analysis", "harness/report"])
def test_analysis_reads_evidence_not_live_objects(package):
    offenders = {
        f: sorted(n for n in names if n.startswith(LIVE)) for f, names in imports(package).items()
    }
    assert {f: n for f, n in offenders.items() if n} == {}
