"""Fault proxies on every path the harness controls, and the environment that routes them.

::

    with ProxiedNetwork(backend.endpoints) as net:
        config = StackConfig(controller_env=net.env_for("controller"))
        net.add(FaultSpec("controller->redis", Fault("sg", FaultKind.CONNECT_TIMEOUT)))
"""

from __future__ import annotations

from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

from harness.env.base import Endpoints
from harness.faults import FaultLedger, FaultProxy
from harness.scenario.model import PATHS, FaultSpec


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"{url!r} has no host:port")
    return parts.hostname, parts.port


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))


class ProxiedNetwork:
    """One :class:`FaultProxy` per path, all writing to one ledger."""

    def __init__(self, endpoints: Endpoints) -> None:
        if endpoints.aws_endpoint_url is None:
            raise ValueError("the fault proxies need an AWS endpoint URL (an emulator)")
        self.endpoints = endpoints
        self.ledger = FaultLedger()
        upstream = {
            "redis": _host_port(endpoints.redis_url),
            "aws": _host_port(endpoints.aws_endpoint_url),
        }
        self.proxies = {
            path: FaultProxy(path, *upstream[path.split("->")[1]], self.ledger) for path in PATHS
        }

    def start(self) -> ProxiedNetwork:
        try:
            for proxy in self.proxies.values():
                proxy.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()

    def __enter__(self) -> ProxiedNetwork:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def env_for(self, component: str) -> dict[str, str]:
        """``REDIS_URL`` and ``AWS_ENDPOINT_URL`` of ``component`` (controller or worker)."""
        redis = self.proxies[f"{component}->redis"].listen_port
        aws = self.proxies[f"{component}->aws"].listen_port
        assert self.endpoints.aws_endpoint_url is not None
        return {
            "REDIS_URL": _with_port(self.endpoints.redis_url, redis),
            "AWS_ENDPOINT_URL": _with_port(self.endpoints.aws_endpoint_url, aws),
        }

    def add(self, spec: FaultSpec) -> None:
        self.proxies[spec.path].add(spec.fault)

    def clear(self) -> None:
        for proxy in self.proxies.values():
            proxy.clear()
