"""Gives every ``POST /run`` its requestId before any span exists.

The FastAPI instrumentation's server span is the first span of a request, so the requestId
must be known before it starts: this ASGI wrapper sits outside the whole app, creates the
id, and opens the request scope that makes the trace id equal to the requestId. An incoming
``traceparent`` is dropped for ``/run`` so that no caller's trace id can win.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from nanogrid.telemetry import request_scope

_DROPPED = (b"traceparent", b"tracestate")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/run" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        headers: list[Any] = [(k, v) for k, v in scope["headers"] if k.lower() not in _DROPPED]
        scope = {**scope, "headers": headers}
        with request_scope(request_id):
            await self.app(scope, receive, send)
