"""``latency``: each chunk delayed by ``latency_ms`` +/- ``jitter_ms`` (seeded)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kinds.base import Layer, Param, Pieces, StreamContext


class Latency:
    name = "latency"
    layer = Layer.STREAM
    summary = "each chunk delayed by latency_ms +/- jitter_ms"
    params: Mapping[str, Param] = {
        "latency_ms": Param(0.0, "delay added to each chunk", positive=True),
        "jitter_ms": Param(0.0, "uniform +/- spread around latency_ms, from the fault's seed"),
    }
    stage = 2

    def check(self, params: Mapping[str, Any]) -> str | None:
        return None

    def on_connect(self, ctx: StreamContext) -> None:
        return None

    def shape(self, ctx: StreamContext, pieces: Pieces) -> Pieces:
        if not pieces:
            return pieces
        params = ctx.armed.fault.params
        jitter = float(params["jitter_ms"])
        offset = ctx.armed.jitter_rng(ctx.connection).uniform(-jitter, jitter) if jitter else 0.0
        delay_s = max(0.0, float(params["latency_ms"]) + offset) / 1000
        ctx.hit("delay", sum(len(piece) for _, piece in pieces))
        (pause, first), *rest = pieces
        return [(pause + delay_s, first), *rest]


KIND = Latency()
