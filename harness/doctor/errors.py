"""Exceptions of the doctor.

::

    DoctorError
    ├── ConfigError    the environment or the ``--env`` file cannot be read as settings
    └── CheckFailed    a check found a problem: its detail and fix (caught by the runner)
"""

from __future__ import annotations

from collections.abc import Mapping


class DoctorError(Exception):
    """Root of the doctor's exceptions."""


class ConfigError(DoctorError):
    """The settings cannot be read; the message names the variable or the line."""


class CheckFailed(DoctorError):
    """Raised inside a check to end it as failed, with what is wrong and how to fix it."""

    def __init__(self, detail: str, fix: str, data: Mapping[str, object] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix
        self.data: Mapping[str, object] = dict(data or {})
