"""``blackhole``: connected but silent. The stream's data is dropped, the connection kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kinds.base import Layer, Param, Pieces, StreamContext


class Blackhole:
    name = "blackhole"
    layer = Layer.STREAM
    summary = "connected but silent: data dropped, connection kept open"
    params: Mapping[str, Param] = {}
    stage = 1

    def check(self, params: Mapping[str, Any]) -> str | None:
        return None

    def on_connect(self, ctx: StreamContext) -> None:
        return None

    def shape(self, ctx: StreamContext, pieces: Pieces) -> Pieces:
        nbytes = sum(len(piece) for _, piece in pieces)
        if nbytes:
            ctx.hit("drop", nbytes)
        return []


KIND = Blackhole()
