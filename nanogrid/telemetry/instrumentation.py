"""Turning on the official instrumentations (FastAPI/ASGI, botocore, redis).

They take their tracers from the global provider, which :func:`setup_telemetry` routes to
the active ``Telemetry``; instrumenting once per process is therefore enough.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.instrumentation.utils import suppress_instrumentation

logger = logging.getLogger(__name__)


def instrument_libraries(fastapi_app: Any = None, excluded_urls: str | None = None) -> None:
    """Instrument botocore and redis (once per process) and ``fastapi_app`` (once per app).

    ``excluded_urls`` is the FastAPI instrumentation's comma-separated regexes of paths not
    to trace (health checks, for instance). A failing instrumentation is logged, not raised.
    """
    _instrument_global("botocore")
    _instrument_global("redis")
    if fastapi_app is not None:
        _instrument_app(fastapi_app, excluded_urls)


def _instrument_global(library: str) -> None:
    try:
        instrumentor = _instrumentor(library)
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()
    except Exception:  # instrumentation is optional: the platform runs without it
        logger.exception("cannot instrument %s", library)


def _instrumentor(library: str) -> Any:
    if library == "botocore":
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

        return BotocoreInstrumentor()  # type: ignore[no-untyped-call]
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    return RedisInstrumentor()


def _instrument_app(app: Any, excluded_urls: str | None) -> None:
    if getattr(app, "_is_instrumented_by_opentelemetry", False):
        return
    try:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        # ASGI receive/send spans (one per body chunk) say nothing a reader needs.
        FastAPIInstrumentor.instrument_app(
            app, excluded_urls=excluded_urls, exclude_spans=["receive", "send"]
        )
    except Exception:  # instrumentation is optional: the platform runs without it
        logger.exception("cannot instrument the FastAPI app")


@contextmanager
def untraced() -> Iterator[None]:
    """Instrumentations make no spans inside the block (idle SQS polls, heartbeats).

    Spans the platform starts itself are unaffected.
    """
    with suppress_instrumentation():
        yield
