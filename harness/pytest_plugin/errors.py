"""What the plugin's fixtures raise when a check on the test's run fails.

Every failure is an :class:`AssertionError`, so pytest reports it as a failed assertion
with its message, not as an error in the test's machinery::

    NanoGridAssertion          a fixture's check on the run failed
    ├── NoMatch                a selector matched nothing, or several where one was wanted
    ├── OutOfOrder             ``assert_before``: the first did not end before the second began
    ├── IncompleteEvidence     ``wait_complete``: the deadline passed, the evidence still partial
    └── DeployFailed           the controller refused an upload (its status and error body)
"""

from __future__ import annotations

from typing import Any


class NanoGridAssertion(AssertionError):
    """A check of the plugin on the recorded run failed; the message says what was seen."""


class NoMatch(NanoGridAssertion):
    """A selector matched no item, or more than one where exactly one was asked for."""


class OutOfOrder(NanoGridAssertion):
    """The first item did not end before the second one started."""


class IncompleteEvidence(NanoGridAssertion):
    """A request's evidence was still incomplete when the deadline passed.

    ``missing`` lists what was still missing at the last look.
    """

    def __init__(self, message: str, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = missing


class DeployFailed(NanoGridAssertion):
    """``POST /upload`` did not answer 201; ``status`` and ``body`` are the controller's."""

    def __init__(self, message: str, status: int | None, body: dict[str, Any]) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
