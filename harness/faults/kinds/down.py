"""``down``: nothing listens. Connects are refused and open connections are closed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kinds.base import Layer, Param
from harness.faults.listener import ListenerState


class Down:
    name = "down"
    layer = Layer.LISTENER
    summary = "nothing listens: connects are refused, open connections closed"
    params: Mapping[str, Param] = {}
    state = ListenerState.REFUSING
    closes_open = True

    def check(self, params: Mapping[str, Any]) -> str | None:
        return None


KIND = Down()
