"""Which AWS emulator a backend runs, in which version and image: what every report names.

A run's evidence depends on the emulator behind it (moto and LocalStack differ in latency and
in some behaviour, see the README), so reports and ``verdict.json`` carry
:func:`describe`'s answer::

    describe(backend)
    # {"emulator": "localstack", "version": "4.14.0", "image": "nanogrid/localstack:local",
    #  "deviations": ["dynamodb: ... moto backend ..., not DynamoDB Local ..."]}

LocalStack reports itself (``/_localstack/info``, and the provider loaded for each service in
``/_localstack/plugins``); moto's server does not, so its version comes from the package
(embedded) or from the image's ``nanogrid.emulator.version`` label (scripts/build-images.sh).
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.env.base import Backend

INFO_PATH = "/_localstack/info"
PLUGINS_PATH = "/_localstack/plugins"
MOTO_PATH = "/moto-api/data.json"
PROVIDER_NAMESPACE = "localstack.aws.provider"
#: The provider scripts/localstack-ext registers, and what it means for the evidence.
DYNAMODB_ON_MOTO = "dynamodb:moto"
DYNAMODB_DEVIATION = (
    "dynamodb: served by LocalStack's gateway with its bundled moto backend ({backend}; "
    "provider dynamodb:moto), not by DynamoDB Local: LocalStack downloads that Java jar and "
    "a JRE from outside any package index at first use, which cannot be fetched offline"
)
_PROBE_TIMEOUT = 2.0
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmulatorKind(StrEnum):
    localstack = "localstack"  # LocalStack: its /_localstack endpoints answer
    moto = "moto"  # moto's server
    aws = "aws"  # real AWS: the platform has no endpoint URL
    unknown = "unknown"  # an endpoint that answers as neither emulator


@dataclass(frozen=True)
class Emulator:
    """What serves S3 / SQS / DynamoDB / CloudWatch. ``None``: not known (or no image)."""

    kind: EmulatorKind
    version: str | None
    image: str | None
    deviations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "emulator": self.kind.value,
            "version": self.version,
            "image": self.image,
            "deviations": list(self.deviations),
        }

    def summary(self) -> str:
        """``LocalStack 4.14.0 (image nanogrid/localstack:local)``: one line for people."""
        name = {"localstack": "LocalStack", "aws": "real AWS"}.get(self.kind.value, self.kind.value)
        text = f"{name} {self.version or '(version unknown)'}" if self.kind != "aws" else name
        return text + (f" (image {self.image})" if self.image else "")


def describe(backend: Backend) -> dict[str, Any]:
    """``{"emulator", "version", "image", "deviations"}`` of a started backend."""
    return backend.emulator().to_dict()


def get_json(url: str, path: str, timeout: float = _PROBE_TIMEOUT) -> dict[str, Any]:
    """``GET url+path`` as a JSON object, never through a proxy; OSError / ValueError if not."""
    with _DIRECT.open(f"{url}{path}", timeout=timeout) as response:
        loaded = json.loads(response.read())
    if not isinstance(loaded, dict):
        raise ValueError(f"{url}{path} answered {type(loaded).__name__}, not an object")
    return loaded


def probe(url: str | None, image: str | None = None) -> Emulator:
    """Ask the endpoint what it is: LocalStack (with version and providers), moto, or unknown."""
    if url is None:
        return Emulator(EmulatorKind.aws, None, None)
    try:
        info = get_json(url, INFO_PATH)
    except (OSError, ValueError):
        return _probe_moto(url, image)
    version = info.get("version")
    return Emulator(
        EmulatorKind.localstack,
        str(version) if version else None,
        image,
        localstack_deviations(url),
    )


def loaded_providers(url: str) -> dict[str, str]:
    """``{api: provider}`` of the services LocalStack has loaded (``{"dynamodb": "moto"}``)."""
    try:
        plugins = get_json(url, PLUGINS_PATH).get(PROVIDER_NAMESPACE, [])
    except (OSError, ValueError):
        return {}
    loaded = [p.get("name", "") for p in plugins if isinstance(p, dict) and p.get("is_loaded")]
    return dict(name.split(":", 1) for name in loaded if ":" in name)


def localstack_deviations(url: str, dynamodb_backend: str = "moto-ext") -> tuple[str, ...]:
    """Where this LocalStack serves a service the platform uses other than stock LocalStack."""
    if loaded_providers(url).get("dynamodb") == DYNAMODB_ON_MOTO.split(":")[1]:
        return (DYNAMODB_DEVIATION.format(backend=dynamodb_backend),)
    return ()


def _probe_moto(url: str, image: str | None) -> Emulator:
    try:
        with _DIRECT.open(f"{url}{MOTO_PATH}", timeout=_PROBE_TIMEOUT) as response:
            kind = EmulatorKind.moto if int(response.status) == 200 else EmulatorKind.unknown
    except OSError:
        kind = EmulatorKind.unknown
    return Emulator(kind, None, image)
