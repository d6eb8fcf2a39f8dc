"""Gives every ``POST /run`` and ``POST /upload`` its requestId before any span exists.

The FastAPI instrumentation's server span is the first span of a request, so the requestId
must be known before it starts: this ASGI wrapper sits outside the whole app, creates the
id, and opens the request scope that makes the trace id equal to the requestId. An incoming
``traceparent`` is dropped on these routes so that no caller's trace id can win. The id is
returned in the ``X-Request-Id`` response header.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nanogrid.telemetry import request_scope

_DROPPED = (b"traceparent", b"tracestate")
_KEYED_ROUTES = {("POST", "/run"), ("POST", "/upload")}
REQUEST_ID_HEADER = b"x-request-id"


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in _KEYED_ROUTES:
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        headers: list[Any] = [(k, v) for k, v in scope["headers"] if k.lower() not in _DROPPED]
        scope = {**scope, "headers": headers}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (REQUEST_ID_HEADER, request_id.encode()),
                    ],
                }
            await send(message)

        with request_scope(request_id):
            await self.app(scope, receive, send_with_id)
