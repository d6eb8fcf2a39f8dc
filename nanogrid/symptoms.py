"""How a dependency call failed, named from the exception the client library raised.

A component knows its own exception types; the name it logs (the ``symptom`` field of a
dependency-failure log event, and of a 503 body) tells a security group from a dead server:

==================  ==========================================================================
symptom             what the client saw
==================  ==========================================================================
``refused``         connection refused (RST on connect): nothing listens there
``connect_timeout`` the connect timed out: SYNs dropped (a security group, a wrong route)
``blackhole``       connected, then no answer before the read timeout
``reset``           the connection was reset or closed mid-stream
``throttled``       the service answered that it is throttling (SlowDown, Throttling)
``denied``          the service refused the credentials or the action (AccessDenied)
``server_error``    the service answered a 5xx error
``error``           any other failure
==================  ==========================================================================
"""

from __future__ import annotations

from enum import StrEnum

import redis
from botocore import exceptions as boto


class Symptom(StrEnum):
    REFUSED = "refused"
    CONNECT_TIMEOUT = "connect_timeout"
    BLACKHOLE = "blackhole"
    RESET = "reset"
    THROTTLED = "throttled"
    DENIED = "denied"
    SERVER_ERROR = "server_error"
    ERROR = "error"


_THROTTLING = {"Throttling", "ThrottlingException", "SlowDown", "RequestThrottled"}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnrecognizedClientException"}


def symptom_of(exc: BaseException) -> Symptom:
    """The symptom of a Redis, botocore or socket exception (causes are followed)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _direct(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return Symptom.ERROR


def _direct(exc: BaseException) -> Symptom | None:
    if isinstance(exc, boto.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _THROTTLING:
            return Symptom.THROTTLED
        if code in _DENIED or status == 403:
            return Symptom.DENIED
        return Symptom.SERVER_ERROR if status >= 500 else Symptom.ERROR
    if isinstance(exc, boto.ConnectTimeoutError):
        return Symptom.CONNECT_TIMEOUT
    if isinstance(exc, boto.ReadTimeoutError):
        return Symptom.BLACKHOLE
    if isinstance(exc, boto.ConnectionClosedError):
        return Symptom.RESET
    if isinstance(exc, ConnectionRefusedError):
        return Symptom.REFUSED
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return Symptom.RESET
    if isinstance(exc, redis.TimeoutError | TimeoutError):
        return _redis_timeout(exc)
    if isinstance(exc, boto.EndpointConnectionError):
        return None  # look at its cause: refused, or a timeout
    if isinstance(exc, redis.ConnectionError):
        return _redis_connection(exc)
    return None


def _redis_timeout(exc: BaseException) -> Symptom:
    # redis-py raises TimeoutError("Timeout connecting to server") for the connect and
    # TimeoutError("Timeout reading from socket") for a read.
    return Symptom.CONNECT_TIMEOUT if "connect" in str(exc).lower() else Symptom.BLACKHOLE


def _redis_connection(exc: BaseException) -> Symptom | None:
    # redis-py wraps socket errors into ConnectionError with the errno in its text only.
    text = str(exc).lower()
    if "refused" in text or "error 111" in text:
        return Symptom.REFUSED
    if "reset" in text or "closed by server" in text or "broken pipe" in text:
        return Symptom.RESET
    if "timed out" in text:
        return Symptom.CONNECT_TIMEOUT if "connect" in text else Symptom.BLACKHOLE
    return None


def failure_fields(dependency: str, exc: BaseException) -> dict[str, str]:
    """The fields of a dependency-failure log event (see :mod:`nanogrid.telemetry.semconv`)."""
    return {"dependency": dependency, "symptom": str(symptom_of(exc)), "error": str(exc)[:300]}
