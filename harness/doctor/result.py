"""What a check found, and what the doctor found: data, rendered elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """The outcome of one check."""

    PASS = "pass"  # it ran and found what it should
    FAIL = "fail"  # it ran and found a problem, or could not reach what it checks
    SKIP = "skip"  # it did not run: a prerequisite failed, or its input is missing


@dataclass(frozen=True)
class Finding:
    """What a check returns: its status, one line of detail, the fix when it did not pass,
    and machine-readable facts for ``--json``."""

    status: Status
    detail: str
    fix: str | None = None
    data: Mapping[str, object] = field(default_factory=dict)


def passed(detail: str, **data: object) -> Finding:
    """A passing finding."""
    return Finding(Status.PASS, detail, None, data)


def failed(detail: str, fix: str, **data: object) -> Finding:
    """A failing finding and its fix."""
    return Finding(Status.FAIL, detail, fix, data)


def skipped(detail: str, fix: str, **data: object) -> Finding:
    """A check that could not run, why, and what would let it run."""
    return Finding(Status.SKIP, detail, fix, data)


@dataclass(frozen=True)
class CheckResult:
    """One check's line in the report: its finding, named and timed."""

    name: str
    status: Status
    seconds: float
    detail: str
    fix: str | None = None
    data: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, finding: Finding, seconds: float) -> CheckResult:
        return cls(name, finding.status, seconds, finding.detail, finding.fix, finding.data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": str(self.status),
            "seconds": round(self.seconds, 6),
            "detail": self.detail,
            "fix": self.fix,
            "data": dict(self.data),
        }


@dataclass(frozen=True)
class Report:
    """Every check's result, in the order run, and what was checked (``target``)."""

    results: tuple[CheckResult, ...]
    target: Mapping[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True only when every check passed: a skipped check is not a pass."""
        return all(r.status is Status.PASS for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    def result(self, name: str) -> CheckResult:
        """The result of the check ``name``; KeyError if it was not in the run."""
        for found in self.results:
            if found.name == name:
                return found
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": {str(s): self.count(s) for s in Status},
            "target": dict(self.target),
            "checks": [r.to_dict() for r in self.results],
        }
