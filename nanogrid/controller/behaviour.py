"""Behaviour knobs of the Controller: the incident's Controller, on demand.

Every default is the correct behaviour. Each knob reproduces one way the Controller of the
2025-12-02 incident could lose a result, so a fault scenario can switch it on by name
through the environment, the only way the harness reaches a production process.

=====================================  =======  ===============================================
environment variable                   default  legacy behaviour when set
=====================================  =======  ===============================================
``NANOGRID_LEGACY_SUBSCRIBE_AFTER_SEND``  unset  subscribe only after sending the task, after
                                                this many seconds (e.g. ``1.5``)
``NANOGRID_LEGACY_PUBSUB_ONLY``        ``0``    never read the stored ``result:{id}`` key
``NANOGRID_LEGACY_IGNORE_FAILED``      ``0``    treat only SUCCESS as an answer: a FAILED
                                                result is ignored until the deadline
``NANOGRID_LEGACY_SKIP_VALIDATION``    ``0``    store uploads without validating the archive
=====================================  =======  ===============================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class ControllerBehaviour:
    """How the controller waits for results and checks uploads."""

    subscribe_after_send: float | None = None  # None: subscribe (confirmed) before sending
    read_stored_result: bool = True  # also read result:{id}, not only the pub/sub message
    ignore_failed: bool = False  # the incident's hypothesis 1: FAILED is not an answer
    validate_uploads: bool = True  # the incident's problem 1: the empty zip was accepted

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ControllerBehaviour:
        env = os.environ if env is None else env
        delay = env.get("NANOGRID_LEGACY_SUBSCRIBE_AFTER_SEND")
        return cls(
            subscribe_after_send=float(delay) if delay not in (None, "") else None,
            read_stored_result=not _flag(env.get("NANOGRID_LEGACY_PUBSUB_ONLY")),
            ignore_failed=_flag(env.get("NANOGRID_LEGACY_IGNORE_FAILED")),
            validate_uploads=not _flag(env.get("NANOGRID_LEGACY_SKIP_VALIDATION")),
        )

    @property
    def legacy(self) -> list[str]:
        """Names of the knobs switched away from the correct default."""
        names = []
        if self.subscribe_after_send is not None:
            names.append("subscribe_after_send")
        if not self.read_stored_result:
            names.append("pubsub_only")
        if self.ignore_failed:
            names.append("ignore_failed")
        if not self.validate_uploads:
            names.append("skip_validation")
        return names
