"""Building a process's tracer provider and exporters, and shutting them down."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from nanogrid.telemetry.crashsafe import CrashSafeSpanProcessor
from nanogrid.telemetry.global_provider import SWITCH
from nanogrid.telemetry.otlp_json import OtlpJsonFileExporter
from nanogrid.telemetry.request import RequestAttributesProcessor, RequestIdGenerator

logger = logging.getLogger(__name__)

#: Seconds one OTLP/HTTP export may take (connect included) before it is given up.
OTLP_TIMEOUT_SECONDS = 2.0
#: Seconds shutdown waits for the OTLP exporter; the process exits regardless.
OTLP_SHUTDOWN_SECONDS = 3.0
#: How often the OTLP/HTTP batch processor exports.
OTLP_SCHEDULE_MILLIS = 1000


class Telemetry:
    """A process's tracing: the provider, its exporters, and an idempotent shutdown.

    Example::

        telemetry = setup_telemetry("controller", Path("/tmp/telemetry"), None)
        tracer = telemetry.tracer(__name__)
        try:
            ...
        finally:
            telemetry.shutdown()
    """

    def __init__(
        self,
        provider: TracerProvider,
        processors: list[SpanProcessor],
        memory_exporter: InMemorySpanExporter | None = None,
        span_file: Path | None = None,
    ) -> None:
        self.provider = provider
        self.memory_exporter = memory_exporter
        self.span_file = span_file
        self._processors = processors
        self._shutdown = False
        self._lock = threading.Lock()

    def tracer(self, name: str) -> trace.Tracer:
        """A tracer of this provider (not of the global one)."""
        return self.provider.get_tracer(name)

    def flush(self, timeout: float = OTLP_SHUTDOWN_SECONDS) -> None:
        """Export every ended span now; waits at most about ``timeout`` for slow exporters."""
        for processor in self._processors:
            _bounded(processor.force_flush, timeout)

    def shutdown(self, timeout: float = OTLP_SHUTDOWN_SECONDS) -> None:
        """Flush and close every exporter, once; later calls do nothing. Never raises."""
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
        SWITCH.deactivate(self.provider)
        atexit.unregister(self.shutdown)
        for processor in self._processors:
            _bounded(processor.shutdown, timeout)

    def install_sigterm_flush(self) -> bool:
        """On SIGTERM: flush, then the previous handler, else ``SystemExit(143)``.

        ``SystemExit`` lets ``finally`` blocks (and uvicorn's shutdown) run. Only the main
        thread can install signal handlers; elsewhere this returns ``False``.
        """
        if threading.current_thread() is not threading.main_thread():
            return False
        previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _sigterm_handler(self, previous))
        return True


def _sigterm_handler(telemetry: Telemetry, previous: Any) -> Callable[[int, Any], None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        telemetry.flush()
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            raise SystemExit(128 + signum)

    return handle


def _bounded(call: Callable[[], object], timeout: float) -> None:
    """Run ``call`` in a daemon thread, waiting at most ``timeout`` seconds.

    The SDK's force_flush ignores its timeout and an unreachable OTLP endpoint holds an
    export for its whole timeout; this caps what shutdown and SIGTERM wait for.
    """
    thread = threading.Thread(target=_logged(call), name="nanogrid-telemetry-flush", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        logger.warning("telemetry flush still running after %.1fs, not waiting", timeout)


def _logged(call: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            call()
        except Exception:  # a side channel: log and carry on
            logger.exception("telemetry flush failed")

    return run


def setup_telemetry(
    service_name: str,
    telemetry_dir: Path | None = None,
    otlp_endpoint: str | None = None,
    in_memory: bool = False,
    *,
    set_global: bool = True,
    resource_attributes: Mapping[str, str] | None = None,
) -> Telemetry:
    """Build the tracing of one process (or one test).

    - ``telemetry_dir``: spans as OTLP JSON lines in ``{dir}/{service}-{pid}.jsonl``, each
      written as it ends, long steps also as they start (:mod:`.crashsafe`).
    - ``otlp_endpoint``: OTLP/HTTP base URL (``OTEL_EXPORTER_OTLP_ENDPOINT`` semantics:
      ``/v1/traces`` is appended), exported in the background with short timeouts.
    - ``in_memory``: keep finished spans in ``Telemetry.memory_exporter`` (tests).
    - ``set_global``: route the process-wide provider (``trace.get_tracer``, the
      instrumentations) to this one, replacing any previous ``Telemetry``.
    """
    resource = Resource.create({SERVICE_NAME: service_name, **(resource_attributes or {})})
    provider = TracerProvider(
        sampler=ALWAYS_ON,
        resource=resource,
        id_generator=RequestIdGenerator(),
        shutdown_on_exit=False,
    )
    provider.add_span_processor(RequestAttributesProcessor())
    processors, memory, span_file = _exporting_processors(
        service_name, telemetry_dir, otlp_endpoint, in_memory
    )
    for processor in processors:
        provider.add_span_processor(processor)
    telemetry = Telemetry(provider, processors, memory, span_file)
    atexit.register(telemetry.shutdown)
    if set_global:
        SWITCH.activate(provider)
    return telemetry


def _exporting_processors(
    service_name: str, telemetry_dir: Path | None, otlp_endpoint: str | None, in_memory: bool
) -> tuple[list[SpanProcessor], InMemorySpanExporter | None, Path | None]:
    # Order matters at shutdown: the local file first, the network last.
    processors: list[SpanProcessor] = []
    memory = InMemorySpanExporter() if in_memory else None
    if memory is not None:
        processors.append(SimpleSpanProcessor(memory))
    span_file = None
    if telemetry_dir is not None:
        span_file = Path(telemetry_dir) / f"{service_name}-{os.getpid()}.jsonl"
        processors.append(CrashSafeSpanProcessor(OtlpJsonFileExporter(span_file)))
    if otlp_endpoint:
        processors.append(_otlp_processor(otlp_endpoint))
    return processors, memory, span_file


def _otlp_processor(endpoint: str) -> SpanProcessor:
    exporter = OTLPSpanExporter(endpoint=traces_url(endpoint), timeout=OTLP_TIMEOUT_SECONDS)
    return BatchSpanProcessor(
        exporter,
        schedule_delay_millis=OTLP_SCHEDULE_MILLIS,
        export_timeout_millis=OTLP_TIMEOUT_SECONDS * 1000,
    )


def traces_url(endpoint: str) -> str:
    """``OTEL_EXPORTER_OTLP_ENDPOINT`` is a base URL: the traces path is ``/v1/traces``."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def setup_telemetry_from_env(
    service_name: str, env: Mapping[str, str] | None = None, **overrides: Any
) -> Telemetry:
    """:func:`setup_telemetry` from ``NANOGRID_TELEMETRY_DIR`` and ``OTEL_EXPORTER_OTLP_ENDPOINT``.

    For process entry points; ``overrides`` (keyword arguments of :func:`setup_telemetry`)
    win over the environment.
    """
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        # The standard switch: no exporter, and the process keeps no-op tracers.
        return setup_telemetry(service_name, set_global=False)
    options: dict[str, Any] = {
        "telemetry_dir": Path(env["NANOGRID_TELEMETRY_DIR"])
        if env.get("NANOGRID_TELEMETRY_DIR")
        else None,
        "otlp_endpoint": env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
    }
    options.update(overrides)
    return setup_telemetry(service_name, **options)
