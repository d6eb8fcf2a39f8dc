"""``connect_timeout``: SYNs dropped, as by a security group; open connections are spared."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kinds.base import Layer, Param
from harness.faults.listener import ListenerState


class ConnectTimeout:
    name = "connect_timeout"
    layer = Layer.LISTENER
    summary = "SYNs dropped (a security group): connects time out, open connections spared"
    params: Mapping[str, Param] = {}
    state = ListenerState.STALLED
    closes_open = False

    def check(self, params: Mapping[str, Any]) -> str | None:
        return None


KIND = ConnectTimeout()
