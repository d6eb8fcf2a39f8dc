"""``bandwidth``: throughput capped at ``rate_kb_s`` (1 KB = 1000 bytes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kinds.base import Layer, Param, Pieces, StreamContext


class Bandwidth:
    name = "bandwidth"
    layer = Layer.STREAM
    summary = "throughput capped at rate_kb_s (1 KB = 1000 bytes)"
    params: Mapping[str, Param] = {
        "rate_kb_s": Param(0.0, "the cap, in KB (1000 bytes) per second", positive=True),
    }
    stage = 4

    def check(self, params: Mapping[str, Any]) -> str | None:
        return None

    def on_connect(self, ctx: StreamContext) -> None:
        return None

    def shape(self, ctx: StreamContext, pieces: Pieces) -> Pieces:
        bps = float(ctx.armed.fault.params["rate_kb_s"]) * 1000
        size = max(1, int(bps / 20))  # pieces of ~50 ms keep the pace even
        out: Pieces = []
        for pause, data in pieces:
            for i in range(0, len(data), size):
                piece = data[i : i + size]
                # Pause before each piece, so that N bytes take at least N / rate to arrive.
                out.append(((pause if i == 0 else 0.0) + len(piece) / bps, piece))
        if out:
            ctx.hit("throttle", sum(len(piece) for _, piece in out))
        return out


KIND = Bandwidth()
