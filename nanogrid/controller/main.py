"""Process entry point of the Controller: ``nanogrid-controller [--host H] [--port P]``.

Configuration comes from the environment (see :mod:`nanogrid.settings` and
:mod:`nanogrid.controller.behaviour`); telemetry from ``NANOGRID_TELEMETRY_DIR`` and the
standard ``OTEL_EXPORTER_OTLP_ENDPOINT``.
"""

from __future__ import annotations

import argparse
import os

import uvicorn
from fastapi import FastAPI

from nanogrid.controller.app import create_app
from nanogrid.controller.behaviour import ControllerBehaviour
from nanogrid.controller.middleware import RequestIdMiddleware
from nanogrid.logs import configure_logging
from nanogrid.settings import Settings
from nanogrid.telemetry import instrument_libraries, setup_telemetry_from_env


def build(
    settings: Settings, behaviour: ControllerBehaviour, min_workers: int = 1
) -> tuple[FastAPI, RequestIdMiddleware]:
    """The instrumented app, and the ASGI callable to serve: app + requestId wrapper."""
    app = create_app(settings, behaviour, min_workers=min_workers)
    instrument_libraries(fastapi_app=app, excluded_urls="health")
    return app, RequestIdMiddleware(app)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nanogrid-controller", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument(
        "--min-workers", type=int, default=int(os.environ.get("NANOGRID_MIN_WORKERS", "1"))
    )
    args = parser.parse_args(argv)
    configure_logging("controller", level=os.environ.get("NANOGRID_LOG_LEVEL", "INFO"))
    telemetry = setup_telemetry_from_env("nanogrid-controller")
    _, asgi = build(Settings.from_env(), ControllerBehaviour.from_env(), args.min_workers)
    try:
        uvicorn.run(asgi, host=args.host, port=args.port, log_config=None, access_log=False)
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    main()
