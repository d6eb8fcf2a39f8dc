"""The fault kinds: one module per kind, each holding a ``KIND`` (see :mod:`.base`).

The registry finds every module of this package, and kinds that other packages declare
under the ``nanogrid.fault_kinds`` entry point group (``name = "package.module:KIND"``)::

    kind_of("latency").params   # {"latency_ms": Param(...), "jitter_ms": Param(...)}
    names()                      # ("aws_delay", "aws_error", ..., "slicer")
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points

from harness.faults.errors import InvalidFault
from harness.faults.kinds.base import FaultType, Layer

ENTRY_POINT_GROUP = "nanogrid.fault_kinds"
_NOT_KINDS = frozenset({"base"})


@cache
def registry() -> dict[str, FaultType]:
    """Every known kind by name: this package's modules, then entry points."""
    found: dict[str, FaultType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name in _NOT_KINDS:
            continue
        kind = getattr(importlib.import_module(f"{__name__}.{info.name}"), "KIND", None)
        if isinstance(kind, FaultType):
            found[kind.name] = kind
    for point in entry_points(group=ENTRY_POINT_GROUP):
        kind = point.load()
        if isinstance(kind, FaultType) and kind.name not in found:
            found[kind.name] = kind
    return found


def names() -> tuple[str, ...]:
    """The names of the known kinds, sorted."""
    return tuple(sorted(registry()))


def kind_of(name: str) -> FaultType:
    """The kind called ``name``; an :class:`InvalidFault` naming the known ones otherwise."""
    kind = registry().get(str(name))
    if kind is None:
        raise InvalidFault(f"unknown fault kind {name!r}; known kinds: {', '.join(names())}")
    return kind


__all__ = ["ENTRY_POINT_GROUP", "FaultType", "Layer", "kind_of", "names", "registry"]
