"""Network failures told apart: DNS, refused, connect timeout, read timeout, reset.

The same classification serves Redis (redis-py), AWS (botocore) and the controller
(httpx): each library wraps the socket error, so :func:`classify` walks the exception chain
down to the ``OSError`` that says what the network did. :func:`explain` turns the kind into
the line and the fix a person can act on.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import botocore.exceptions
import httpx
import redis

_CONNECT_TIMEOUTS = (
    botocore.exceptions.ConnectTimeoutError,
    httpx.ConnectTimeout,
)
_READ_TIMEOUTS = (
    TimeoutError,
    redis.TimeoutError,
    botocore.exceptions.ReadTimeoutError,
    httpx.TimeoutException,
)
_RESETS = (
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
    botocore.exceptions.ConnectionClosedError,
    httpx.RemoteProtocolError,
)
_UNREACHABLE = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH})


class Trouble(StrEnum):
    """What the network did to a connection."""

    DNS = "dns"  # the host name does not resolve
    REFUSED = "refused"  # RST to the SYN: nothing listens on the port
    UNREACHABLE = "unreachable"  # no route to the host
    CONNECT_TIMEOUT = "connect_timeout"  # SYNs unanswered: dropped on the way
    READ_TIMEOUT = "read_timeout"  # connected, then no reply in time
    RESET = "reset"  # connected, then closed or reset by the other end
    OTHER = "other"  # anything else (TLS, protocol, authentication, ...)


@dataclass(frozen=True)
class Where:
    """What was being reached: a service, its address and the variable that sets it."""

    service: str  # "redis", "s3", "controller", ...
    host: str
    port: int | None
    variable: str  # e.g. REDIS_URL, AWS_ENDPOINT_URL_SQS

    @property
    def address(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"


def classify(exc: BaseException, connecting: bool = False) -> Trouble:
    """The kind of network failure ``exc`` (or an exception it wraps) reports.

    ``connecting``: ``exc`` came from a bare ``connect()``, so a plain timeout is a connect
    timeout (the libraries say which phase timed out themselves).
    """
    chain = list(_chain(exc))
    if connecting and isinstance(exc, TimeoutError):
        return Trouble.CONNECT_TIMEOUT
    for kind, found in (
        (Trouble.DNS, any(isinstance(e, socket.gaierror) for e in chain)),
        (Trouble.REFUSED, any(isinstance(e, ConnectionRefusedError) for e in chain)),
        (Trouble.UNREACHABLE, any(_errno(e) in _UNREACHABLE for e in chain)),
        (Trouble.CONNECT_TIMEOUT, any(_is_connect_timeout(e) for e in chain)),
        (Trouble.READ_TIMEOUT, any(isinstance(e, _READ_TIMEOUTS) for e in chain)),
        (Trouble.RESET, any(isinstance(e, _RESETS) for e in chain)),
    ):
        if found:
            return kind
    return Trouble.OTHER


def explain(
    exc: BaseException,
    where: Where,
    connect_timeout: float,
    read_timeout: float,
    connecting: bool = False,
) -> tuple[str, str]:
    """``(detail, fix)`` for a failure reaching ``where`` (``connecting``: see classify)."""
    kind = classify(exc, connecting)
    name, address, var = where.service, where.address, where.variable
    port = f"TCP {where.port}" if where.port is not None else "its port"
    if kind is Trouble.DNS:
        return (
            f"{name}: cannot resolve host {where.host!r} (DNS failure: {_root(exc)})",
            f"check the host name in {var}; from this host `getent hosts {where.host}` must "
            "print an address",
        )
    if kind is Trouble.REFUSED:
        return (
            f"{name}: connection refused at {address} (nothing listens: is {name} up, is the "
            "port right?)",
            f"start {name} on {address}, or point {var} at the host and port it listens on",
        )
    if kind is Trouble.UNREACHABLE:
        return (
            f"{name}: no route to {address} ({_root(exc)})",
            "check the routing between this host and it (subnet, VPC peering, VPN)",
        )
    if kind is Trouble.CONNECT_TIMEOUT:
        return (
            f"{name}: connect timed out after {connect_timeout:g} s (SYNs unanswered: a "
            "firewall/security group drops them)",
            f"allow inbound {port} from this host to {where.host} (security group, "
            f"firewall, network ACL), or correct {var}",
        )
    if kind is Trouble.READ_TIMEOUT:
        return (
            f"{name}: connected to {address}, but no reply within {read_timeout:g} s "
            "(something accepts connections and stays silent)",
            f"check what listens at {address}: a proxy or load balancer whose backend is down, "
            f"or an overloaded {name}",
        )
    if kind is Trouble.RESET:
        return (
            f"{name}: {address} closed the connection ({_root(exc)})",
            f"check that {var} speaks the right protocol (TLS or not) and that {name} accepts "
            "more clients",
        )
    return f"{name}: {type(exc).__name__}: {exc}", f"check {var} and {name} itself"


def tcp_connect(host: str, port: int, timeout: float) -> float:
    """Open and close a TCP connection; return the seconds it took, or raise the OSError."""
    started = time.perf_counter()
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    last: OSError | None = None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(address)
            except OSError as exc:
                last = exc
                continue
            return time.perf_counter() - started
    assert last is not None  # getaddrinfo returns at least one address or raises
    raise last


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _errno(exc: BaseException) -> int | None:
    return exc.errno if isinstance(exc, OSError) else None


def _is_connect_timeout(exc: BaseException) -> bool:
    if isinstance(exc, _CONNECT_TIMEOUTS):
        return True
    return isinstance(exc, redis.TimeoutError) and "connecting" in str(exc)


def _root(exc: BaseException) -> str:
    """The innermost error's text: what the operating system said."""
    return str(list(_chain(exc))[-1])
