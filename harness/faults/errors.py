"""Exceptions of the fault-injection harness.

::

    FaultError
    ├── InvalidFault    a fault's parameters or schedule do not make sense (also ValueError)
    ├── UnknownFault    no fault of that name is on the proxy (also KeyError)
    └── ProxyError      a proxy could not start, stop or apply a change (also RuntimeError)
"""

from __future__ import annotations


class FaultError(Exception):
    """Root of the fault harness's exceptions."""


class InvalidFault(FaultError, ValueError):
    """A fault is malformed; the message names the field and what is allowed."""


class UnknownFault(FaultError, KeyError):
    """No fault with that name is installed on the proxy."""


class ProxyError(FaultError, RuntimeError):
    """A proxy was misused (not started, called from its own loop) or failed to apply a change."""
