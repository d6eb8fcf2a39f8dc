"""The process-wide tracer provider: installed once, switched between ``Telemetry`` objects.

The global tracer provider can be set only once per process, yet tests (and an embedded
stack running a Controller and Workers in one process) build several. So the global
provider is a :class:`SwitchProvider`, installed once, that forwards to the most recently
activated SDK provider; instrumentations and ``trace.get_tracer`` users follow it, and get
no-op spans while none is active.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from opentelemetry import trace
from opentelemetry.util._decorator import _agnosticcontextmanager

logger = logging.getLogger(__name__)


class _SwitchTracer(trace.Tracer):
    """A tracer that asks the switch for the active provider's tracer on every span."""

    def __init__(self, switch: SwitchProvider, name: str, version: str | None) -> None:
        self._switch = switch
        self._name = name
        self._version = version
        self._cached: tuple[trace.TracerProvider | None, trace.Tracer] | None = None

    def _tracer(self) -> trace.Tracer:
        target = self._switch.target
        cached = self._cached
        if cached is None or cached[0] is not target:
            tracer = target.get_tracer(self._name, self._version) if target else trace.NoOpTracer()
            cached = self._cached = (target, tracer)
        return cached[1]

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return self._tracer().start_span(*args, **kwargs)

    @_agnosticcontextmanager
    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Iterator[trace.Span]:
        with self._tracer().start_as_current_span(*args, **kwargs) as span:
            yield span


class SwitchProvider(trace.TracerProvider):
    """The process's global provider, forwarding to the active ``Telemetry``'s."""

    def __init__(self) -> None:
        self.target: trace.TracerProvider | None = None
        self._installed = False
        self._lock = threading.Lock()

    def get_tracer(self, instrumenting_module_name: str, *args: Any, **kwargs: Any) -> trace.Tracer:
        version = args[0] if args else kwargs.get("instrumenting_library_version")
        return _SwitchTracer(self, instrumenting_module_name, version)

    def activate(self, provider: trace.TracerProvider) -> None:
        with self._lock:
            self.target = provider
            if not self._installed:
                trace.set_tracer_provider(self)
                self._installed = True
                if trace.get_tracer_provider() is not self:
                    logger.warning("another global tracer provider is set; NanoGrid's is not")

    def deactivate(self, provider: trace.TracerProvider) -> None:
        with self._lock:
            if self.target is provider:
                self.target = None


SWITCH = SwitchProvider()
