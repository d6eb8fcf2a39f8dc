"""A check: a name, the checks that must pass before it, and a probe that returns a finding.

A probe is a plain function of the :class:`~harness.doctor.context.Context`; it returns a
:class:`~harness.doctor.result.Finding`, or raises
:class:`~harness.doctor.errors.CheckFailed` to stop at the first problem::

    def ping(ctx: Context) -> Finding:
        ctx.redis.ping()
        return passed("PONG")

    PING = Check("redis.ping", ping)
    PUBSUB = Check("redis.pubsub", pubsub, needs=(PING.name,))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.doctor.context import Context
    from harness.doctor.result import Finding


@dataclass(frozen=True)
class Check:
    """One diagnostic step; ``needs`` names checks that must have passed for it to run."""

    name: str
    probe: Callable[[Context], Finding]
    needs: tuple[str, ...] = ()

    def run(self, ctx: Context) -> Finding:
        return self.probe(ctx)


def ms(seconds: float) -> str:
    """``seconds`` as a short duration for a detail line: ``0.4 ms``, ``12 ms``, ``2.0 s``."""
    if seconds >= 1:
        return f"{seconds:.1f} s"
    millis = seconds * 1000
    return f"{millis:.1f} ms" if millis < 10 else f"{millis:.0f} ms"
