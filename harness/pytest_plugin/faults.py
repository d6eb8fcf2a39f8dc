"""Faults on the session stack's network paths, for one test.

The injector passes :class:`~harness.faults.Fault` values through to the fault proxy of
the named path, whatever their kind (byte-level or protocol-aware); it knows no kind.
Every fault it injected is off when the test ends. Example::

    faults.on("controller->redis", Fault("sg", FaultKind.CONNECT_TIMEOUT), fresh_connections=True)
    with faults.on("worker->s3", Fault("slow-s3", FaultKind.LATENCY, latency_ms=300)):
        ...  # the latency holds inside the block only
"""

from __future__ import annotations

from types import TracebackType

from harness.faults import Fault
from harness.scenario.model import FaultSpec, expand
from harness.scenario.network import ProxiedNetwork


class Injection:
    """One fault on one path, until :meth:`remove` (a ``with`` block removes it on exit)."""

    def __init__(self, network: ProxiedNetwork, spec: FaultSpec) -> None:
        self.network = network
        self.spec = spec
        self.active = True

    def remove(self) -> None:
        """Take the fault off its path (or paths: ``worker->aws`` is four); idempotent."""
        if not self.active:
            return
        self.active = False
        for path in expand(self.spec.path):
            self.network.proxies[path].remove(self.spec.fault.name)

    def __enter__(self) -> Injection:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    def __repr__(self) -> str:
        state = "active" if self.active else "removed"
        return f"<Injection {self.spec.fault.name!r} on {self.spec.path} ({state})>"


class FaultInjector:
    """The ``faults`` fixture: :meth:`on` injects, everything is cleared at the test's end."""

    def __init__(self, network: ProxiedNetwork) -> None:
        self.network = network
        self.injected: list[Injection] = []

    def on(self, path: str, fault: Fault, *, fresh_connections: bool = False) -> Injection:
        """Inject ``fault`` on ``path`` (``controller->redis``, ``worker->aws``, ...) now.

        ``fresh_connections`` closes the clients' open connections on the path first, as a
        client host that connects afresh would: a connect fault only hits new connections.
        """
        spec = FaultSpec(path, fault)  # an unknown path fails here, naming the valid ones
        self.network.add(spec)
        injection = Injection(self.network, spec)
        self.injected.append(injection)
        if fresh_connections:
            self.close_connections(path)
        return injection

    def close_connections(self, path: str) -> None:
        """Close every open connection on ``path``: the next request connects again."""
        self.network.close_connections(path, "client reconnects (fresh_connections)")

    @property
    def active(self) -> list[FaultSpec]:
        """What is injected now, in the order injected."""
        return [i.spec for i in self.injected if i.active]

    def touched(self, component: str) -> bool:
        """Whether any fault was injected on one of ``component``'s paths in this test."""
        return any(i.spec.path.startswith(f"{component}->") for i in self.injected)

    def clear(self) -> None:
        """Take every fault off every path (those of other injectors too)."""
        for injection in self.injected:
            injection.active = False
        self.network.clear()
