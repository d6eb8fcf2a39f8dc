"""``reset``: RST mid-stream, at once or after ``after_bytes`` bytes of the covered streams."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kinds.base import Layer, Param, Pieces, StreamContext


class Reset:
    name = "reset"
    layer = Layer.STREAM
    summary = "RST mid-stream, at once or after after_bytes"
    params: Mapping[str, Param] = {
        "after_bytes": Param(0, "bytes let through (per connection) before the RST", integer=True),
    }
    stage = 0

    def check(self, params: Mapping[str, Any]) -> str | None:
        return None

    def on_connect(self, ctx: StreamContext) -> None:
        if ctx.armed.fault.params["after_bytes"] == 0:
            ctx.hit("reset", 0)
            ctx.end = ("reset", f"reset by fault {ctx.armed.fault.name!r}")

    def shape(self, ctx: StreamContext, pieces: Pieces) -> Pieces:
        data = b"".join(piece for _, piece in pieces)
        allowed, now = ctx.armed.pass_budget(ctx.connection, len(data))
        if not now:
            return pieces
        ctx.hit("reset", 0)
        ctx.end = ("reset", f"reset by fault {ctx.armed.fault.name!r}")
        pause = pieces[0][0] if pieces else 0.0
        return [(pause, data[:allowed])] if allowed else []


KIND = Reset()
