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


def test_importing_the_analysis_loads_no_live_machinery():
    """The analysis works on evidence from anywhere: loading it starts no proxy, stack or
    backend module (the fault proxy's asyncio machinery included)."""
    import subprocess
    import sys

    code = (
        "import sys, harness.analysis, harness.report, harness.evidence\n"
        "live = sorted(m for m in sys.modules if m.startswith(("
        "'harness.faults.proxy', 'harness.faults.link', 'harness.faults.listener', "
        "'harness.stack', 'harness.procs', 'harness.env', 'harness.scenario')))\n"
        "print(','.join(live))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == ""


RULE_SOURCES = ["harness/analysis/rules", "harness/analysis/facts.py", "harness/analysis/wire.py"]


@pytest.mark.parametrize("source", RULE_SOURCES)
def test_rules_never_read_what_the_harness_injected(source):
    """No rule reads the fault ledger, the scenario's declaration or its actions: a verdict
    stands on what the components, their network and their supervisor showed."""
    path = ROOT / source
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    offenders = []
    for file in files:
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("ledger", "scenario", "actions"):
                offenders.append(f"{file.name}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "harness.faults"
            ):
                offenders.append(f"{file.name}:{node.lineno} imports {node.module}")
    assert offenders == []


def test_rules_match_no_log_wording():
    """Rules read log events and attributes through the evidence contract, never the
    platform's human wording: only the evidence-item constructors show ``message``."""
    offenders = []
    for file in sorted((ROOT / "harness/analysis/rules").rglob("*.py")):
        if file.name == "base.py":
            continue
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "message":
                offenders.append(f"{file.name}:{node.lineno} reads message()")
            if isinstance(node, ast.Attribute) and node.attr == "logs_with":
                offenders.append(f"{file.name}:{node.lineno} matches log text")
    assert offenders == []
