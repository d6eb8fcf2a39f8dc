"""Exceptions of NanoGrid.

::

    NanoGridError
    ├── InvalidPackage        the zip cannot be run (empty, corrupt, hostile, no main.py)
    │   └── PackageTooLarge   over a size limit (HTTP 413 at upload)
    ├── PackageTampered       a cached, extracted package changed after extraction
    ├── FunctionNotFound      no metadata for a functionId
    └── DependencyError       Redis or an AWS service could not be reached
"""

from __future__ import annotations


class NanoGridError(Exception):
    """Root of NanoGrid's exceptions. ``code`` is stable and machine-readable."""

    code = "NANOGRID_ERROR"


class InvalidPackage(NanoGridError):
    """The uploaded or downloaded archive cannot be run. The message says how to fix it.

    ``reason`` is a stable machine-readable cause (``"EMPTY_ARCHIVE"``, ...; the list is
    :class:`nanogrid.archive.Reason`); it defaults to ``code``.
    """

    code = "INVALID_PACKAGE"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or self.code


class PackageTooLarge(InvalidPackage):
    """The archive, or what it unpacks to, is over a configured limit."""

    code = "PACKAGE_TOO_LARGE"


class PackageTampered(NanoGridError):
    """A cached package's files differ from its manifest; ``problems`` lists each difference.

    The worker's code cache raises it after evicting the entry: the package must be
    extracted again before it runs.
    """

    code = "PACKAGE_TAMPERED"

    def __init__(self, sha256: str, problems: list[str]) -> None:
        shown = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
        super().__init__(f"cached package {sha256} was changed after extraction: {shown}")
        self.sha256 = sha256
        self.problems = problems


class FunctionNotFound(NanoGridError):
    """No metadata item exists for the functionId."""

    code = "FUNCTION_NOT_FOUND"


class DependencyError(NanoGridError):
    """A dependency (Redis, S3, DynamoDB, SQS, CloudWatch) failed; ``dependency`` names it."""

    code = "DEPENDENCY_UNAVAILABLE"

    def __init__(self, dependency: str, message: str, symptom: str | None = None) -> None:
        super().__init__(f"{dependency}: {message}")
        self.dependency = dependency
        self.symptom = symptom  # None: named from the cause (see nanogrid.symptoms)
