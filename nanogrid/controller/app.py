"""The Controller's HTTP API (FastAPI).

====================  ===================================================================
``POST /upload``      multipart ``file`` (+ ``functionId``, ``runtime``, ``memoryMB``,
                      ``timeoutSeconds``): validate, store code + metadata, 201 + metadata
``POST /run``         ``{"functionId", "inputData"}``: the worker's result JSON (200), or
                      the TIMEOUT shape (202) with the stage reached and ``resultUrl``
``GET /runs/{id}``    the stored result, or ``{"requestId", "stage"}`` in flight, or 404
``GET /health``       200 when Redis, bucket, table, queue and workers hold, else 503
====================  ===================================================================

Every error is ``{"error": {"code": ..., "message": ...}}`` with a stable code.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio.to_thread
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from nanogrid import archive
from nanogrid.controller import health, schemas
from nanogrid.controller.behaviour import ControllerBehaviour
from nanogrid.controller.services import Services
from nanogrid.errors import DependencyError, FunctionNotFound, InvalidPackage, PackageTooLarge
from nanogrid.registry import FunctionMeta, UploadRequest
from nanogrid.results import REDIS_ERRORS
from nanogrid.settings import Settings
from nanogrid.symptoms import symptom_of
from nanogrid.telemetry import current_request_id, set_function_id, untraced
from nanogrid.telemetry import semconv as sc

log = logging.getLogger("nanogrid.controller")
tracer = trace.get_tracer("nanogrid.controller")

FUNCTION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"


class RunRequest(BaseModel):
    """Body of ``POST /run``."""

    functionId: str = Field(pattern=FUNCTION_ID_PATTERN, description="the function to run")
    inputData: Any = Field(default=None, description="JSON handed to the function on stdin")


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def create_app(
    settings: Settings,
    behaviour: ControllerBehaviour | None = None,
    services: Services | None = None,
    min_workers: int = 1,
) -> FastAPI:
    """The Controller app. ``services`` is built at startup unless given (tests)."""
    behaviour = behaviour or ControllerBehaviour()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 200
        app.state.services = services or await run_in_threadpool(
            Services.build, settings, behaviour
        )
        log.info(
            "controller ready (legacy knobs: %s)",
            ", ".join(behaviour.legacy) or "none",
            extra={sc.EVENT: sc.CONTROLLER_READY, "legacy": behaviour.legacy},
        )
        yield
        app.state.services.close()

    app = FastAPI(title="NanoGrid Controller", version="0.1.0", lifespan=lifespan)
    _install_error_handlers(app)
    _install_routes(app, settings, behaviour, min_workers)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
            for e in exc.errors()
        )
        return error(422, "INVALID_REQUEST", f"invalid request: {problems}")

    @app.exception_handler(FunctionNotFound)
    async def not_found(_: Request, exc: FunctionNotFound) -> JSONResponse:
        return error(404, exc.code, str(exc))

    @app.exception_handler(DependencyError)
    async def dependency(_: Request, exc: DependencyError) -> JSONResponse:
        symptom = str(exc.symptom or symptom_of(exc))
        log.error(
            "dependency unavailable: %s",
            exc,
            extra={
                sc.EVENT: sc.DEPENDENCY_UNAVAILABLE,
                sc.F_DEPENDENCY: exc.dependency,
                sc.F_SYMPTOM: symptom,
                sc.F_ERROR: str(exc)[:300],
            },
        )
        return error(
            503,
            exc.code,
            f"{exc}; nothing was enqueued, retry later",
            dependency=exc.dependency,
            symptom=symptom,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
        routes = "POST /upload, POST /run, GET /runs/{requestId}, GET /health"
        return error(
            exc.status_code,
            code,
            f"{request.method} {request.url.path}: {exc.detail}; the API is {routes}",
        )

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        # The deliberate boundary: a bug answers in the one error shape, and is logged.
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error(
            500, "INTERNAL_ERROR", f"internal error ({type(exc).__name__}); see the controller log"
        )


_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


def _install_routes(
    app: FastAPI, settings: Settings, behaviour: ControllerBehaviour, min_workers: int
) -> None:
    @app.post("/upload", status_code=201, responses=schemas.RESPONSES_UPLOAD)
    async def upload(
        request: Request,
        file: Annotated[UploadFile, File(description="the function's zip, main.py at its root")],
        functionId: Annotated[str | None, Form(pattern=FUNCTION_ID_PATTERN)] = None,
        runtime: Annotated[str, Form(pattern="^python$")] = "python",
        memoryMB: Annotated[int, Form(ge=128, le=10240)] = 256,
        timeoutSeconds: Annotated[int, Form(ge=1, le=900)] = 10,
    ) -> Any:
        data = await file.read(settings.limits.max_zip_bytes + 1)
        name = file.filename or "function.zip"
        log.info(
            "Upload received: originalName=%s sizeBytes=%d",
            name,
            len(data),
            extra={sc.EVENT: sc.UPLOAD_RECEIVED, "sizeBytes": len(data)},
        )
        if len(data) < 100:
            log.warning(
                "Upload %s is %d bytes: possible empty ZIP",
                name,
                len(data),
                extra={sc.EVENT: sc.UPLOAD_SMALL, "sizeBytes": len(data)},
            )
        req = UploadRequest(functionId, runtime, memoryMB, timeoutSeconds, name)
        try:
            meta = await run_in_threadpool(
                _store_upload, request.app.state.services, data, req, settings, behaviour
            )
        except PackageTooLarge as exc:
            return error(413, exc.code, str(exc), reason=exc.reason)
        except InvalidPackage as exc:
            log.warning(
                "Upload %s refused: %s",
                name,
                exc,
                extra={sc.EVENT: sc.UPLOAD_REFUSED, sc.F_REASON: exc.reason},
            )
            return error(400, exc.code, str(exc), reason=exc.reason)
        log.info(
            "Upload stored: functionId=%s version=%s s3Key=%s",
            meta.functionId,
            meta.version,
            meta.s3Key,
            extra={sc.EVENT: sc.UPLOAD_STORED, "s3Key": meta.s3Key, "version": meta.version},
        )
        return meta.to_dict()

    @app.post("/run", responses=schemas.RESPONSES_RUN)
    def run(body: RunRequest) -> JSONResponse:
        services: Services = app.state.services
        request_id = current_request_id() or str(uuid.uuid4())
        answer = services.runs.run(request_id, body.functionId, body.inputData)
        headers = {"Location": answer.body["resultUrl"]} if answer.status_code == 202 else {}
        return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)

    @app.get("/runs/{request_id}", responses=schemas.RESPONSES_GET_RUN)
    def get_run(request_id: str) -> JSONResponse:
        store = app.state.services.store
        try:
            result = store.get(request_id)
            stage = None if result else store.get_stage(request_id)
        except REDIS_ERRORS as exc:
            raise DependencyError("redis", str(exc)) from exc
        if result is not None:
            return JSONResponse({k: v for k, v in result.items() if k != "trace"})
        if stage is not None:
            return JSONResponse({"requestId": request_id, "stage": stage})
        return error(
            404, "RUN_NOT_FOUND", f"no run {request_id!r}: results are kept {settings.result_ttl}s"
        )

    @app.get("/health", responses=schemas.RESPONSES_HEALTH)
    def get_health() -> JSONResponse:
        s: Services = app.state.services
        with untraced():  # health probes are polled: they make no traces
            ok, report = health.check(settings, s.clients, s.store.client, s.queue_url, min_workers)
        return JSONResponse(report, status_code=200 if ok else 503)


def _store_upload(
    services: Services,
    data: bytes,
    req: UploadRequest,
    settings: Settings,
    behaviour: ControllerBehaviour,
) -> FunctionMeta:
    if req.function_id:
        set_function_id(req.function_id)
    with tracer.start_as_current_span("validate upload") as span:
        span.set_attributes(
            {"nanogrid.upload.bytes": len(data), "nanogrid.upload.name": req.original_name}
        )
        if not behaviour.validate_uploads:
            span.set_attribute("nanogrid.upload.outcome", "skipped")
            package = archive.describe(data)
        else:
            try:
                package = archive.validate(data, settings.limits)
            except InvalidPackage as exc:
                span.set_attributes(
                    {"nanogrid.upload.outcome": "refused", "nanogrid.upload.reason": exc.reason}
                )
                raise
            span.set_attributes(
                {"nanogrid.upload.outcome": "valid", "nanogrid.zip.entries": package.entries}
            )
    with tracer.start_as_current_span("store function"):
        return services.registry.register(data, package, req)
