"""``slicer``: data split into ``slice_bytes`` pieces, ``slice_delay_ms`` apart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kinds.base import Layer, Param, Pieces, StreamContext


class Slicer:
    name = "slicer"
    layer = Layer.STREAM
    summary = "data split into slice_bytes pieces, slice_delay_ms apart"
    params: Mapping[str, Param] = {
        "slice_bytes": Param(0, "size of each piece", integer=True, positive=True),
        "slice_delay_ms": Param(0.0, "pause between pieces"),
    }
    stage = 3

    def check(self, params: Mapping[str, Any]) -> str | None:
        return None

    def on_connect(self, ctx: StreamContext) -> None:
        return None

    def shape(self, ctx: StreamContext, pieces: Pieces) -> Pieces:
        params = ctx.armed.fault.params
        size, gap_s = int(params["slice_bytes"]), float(params["slice_delay_ms"]) / 1000
        out: Pieces = []
        for pause, data in pieces:
            for i in range(0, len(data), size):
                out.append((pause if i == 0 else gap_s, data[i : i + size]))
        if out:
            ctx.hit("slice", sum(len(piece) for _, piece in out))
        return out


KIND = Slicer()
