"""Fault proxies on every path the harness controls, and the environment that routes them.

Each component reaches Redis and each AWS service through a proxy of its own
(``controller->redis``, ``worker->s3``, ...), routed by the standard per-service endpoint
variables (``AWS_ENDPOINT_URL_S3``, ...), so "DynamoDB unreachable for the controller" is one
line. Every proxy decodes its protocol and records what passed (:mod:`harness.wire`)::

    with ProxiedNetwork(backend.endpoints) as net:
        config = StackConfig(controller_env=net.env_for("controller"))
        net.add(FaultSpec("controller->dynamodb", Fault("sg", FaultKind.CONNECT_TIMEOUT)))
        net.wire.events   # decoded Redis commands and AWS operations, per connection
"""

from __future__ import annotations

from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

from harness.env.base import Endpoints
from harness.faults import FaultLedger, FaultProxy
from harness.scenario.model import AWS_SERVICES, PROXIED_PATHS, FaultSpec, expand
from harness.wire.model import PROTOCOL_HTTP, PROTOCOL_REDIS, WireRecorder


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"{url!r} has no host:port")
    return parts.hostname, parts.port


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))


class ProxiedNetwork:
    """One :class:`FaultProxy` per path, all writing to one ledger and one wire record.

    ``decode=False`` forwards bytes without decoding them (the wire record stays empty).
    """

    def __init__(self, endpoints: Endpoints, decode: bool = True) -> None:
        if endpoints.aws_endpoint_url is None:
            raise ValueError("the fault proxies need an AWS endpoint URL (an emulator)")
        self.endpoints = endpoints
        self.ledger = FaultLedger()
        self.wire = WireRecorder()
        redis = _host_port(endpoints.redis_url)
        aws = _host_port(endpoints.aws_endpoint_url)
        self.proxies: dict[str, FaultProxy] = {}
        for path in PROXIED_PATHS:
            is_redis = path.endswith("->redis")
            self.proxies[path] = FaultProxy(
                path,
                *(redis if is_redis else aws),
                self.ledger,
                protocol=PROTOCOL_REDIS if is_redis else PROTOCOL_HTTP,
                wire=self.wire,
                decode=decode,
            )

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
        """``REDIS_URL`` and the AWS endpoints of ``component`` (controller or worker): one
        per service, and ``AWS_ENDPOINT_URL`` for clients that know only that one."""
        aws_url = self.endpoints.aws_endpoint_url
        assert aws_url is not None
        redis = self.proxies[f"{component}->redis"].listen_port
        env = {"REDIS_URL": _with_port(self.endpoints.redis_url, redis)}
        for service in AWS_SERVICES:
            port = self.proxies[f"{component}->{service}"].listen_port
            env[f"AWS_ENDPOINT_URL_{service.upper()}"] = _with_port(aws_url, port)
        env["AWS_ENDPOINT_URL"] = env["AWS_ENDPOINT_URL_S3"]
        return env

    def add(self, spec: FaultSpec) -> None:
        for path in expand(spec.path):
            self.proxies[path].add(spec.fault)

    def close_connections(self, path: str, reason: str) -> None:
        for proxied in expand(path):
            self.proxies[proxied].close_connections(reason)

    def clear(self) -> None:
        for proxy in self.proxies.values():
            proxy.clear()
