"""Fault injection on the network paths the harness controls.

A :class:`FaultProxy` sits on one path (``controller->redis``, ``worker->aws``, ...) and
applies :class:`Fault` values to it; every proxy writes to a shared :class:`FaultLedger`
that a diagnosis reads back from JSON lines.
"""

from harness.faults.errors import FaultError, InvalidFault, ProxyError, UnknownFault
from harness.faults.ledger import EventKind, FaultLedger, LedgerEvent
from harness.faults.model import Direction, Fault, FaultKind
from harness.faults.proxy import FaultProxy

__all__ = [
    "Direction",
    "EventKind",
    "Fault",
    "FaultError",
    "FaultKind",
    "FaultLedger",
    "FaultProxy",
    "InvalidFault",
    "LedgerEvent",
    "ProxyError",
    "UnknownFault",
]
