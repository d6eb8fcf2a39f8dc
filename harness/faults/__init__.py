"""Fault injection on the network paths the harness controls.

A :class:`FaultProxy` sits on one path (``controller->redis``, ``worker->aws``, ...) and
applies :class:`Fault` values to it; every proxy writes to a shared :class:`FaultLedger`
that a diagnosis reads back from JSON lines.
"""

from typing import TYPE_CHECKING, Any

from harness.faults.errors import FaultError, InvalidFault, ProxyError, UnknownFault
from harness.faults.ledger import EventKind, FaultLedger, LedgerEvent
from harness.faults.model import Direction, Fault, FaultKind

if TYPE_CHECKING:
    from harness.faults.proxy import FaultProxy


def __getattr__(name: str) -> Any:
    # The proxy (asyncio, sockets) loads only when asked for: reading a ledger does not.
    if name == "FaultProxy":
        from harness.faults.proxy import FaultProxy

        return FaultProxy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
