"""What each backend says serves AWS: the emulator, its version and image."""

from __future__ import annotations

import importlib.metadata

import pytest

from harness.env.base import Backend
from harness.env.containers import ContainersBackend
from harness.env.embedded import EmbeddedBackend
from harness.env.emulator import Emulator, EmulatorKind, describe, probe
from harness.env.external import ExternalBackend
from harness.env.localstack import LocalStackBackend
from harness.procs import free_port

BACKENDS = [EmbeddedBackend, ContainersBackend, ExternalBackend, LocalStackBackend]
#: The protocol's members (``typing.get_protocol_members`` arrives in Python 3.13).
MEMBERS = [
    "name",
    "start",
    "endpoints",
    "stop",
    "restart_redis",
    "reset_aws",
    "emulator",
    "__enter__",
    "__exit__",
]


@pytest.mark.parametrize("cls", BACKENDS, ids=lambda c: c.__name__)
def test_every_backend_has_every_member_of_the_protocol(cls):
    assert [m for m in MEMBERS if not hasattr(cls, m)] == []
    assert set(MEMBERS) >= {m for m in Backend.__dict__ if not m.startswith("_")}


def test_embedded_names_moto_and_the_installed_version(backend):
    assert describe(backend) == {
        "emulator": "moto",
        "version": importlib.metadata.version("moto"),
        "image": None,
        "deviations": [],
    }


def test_probe_tells_moto_from_nothing_and_from_real_aws(backend):
    assert probe(backend.endpoints.aws_endpoint_url).kind is EmulatorKind.moto
    assert probe(f"http://127.0.0.1:{free_port()}").kind is EmulatorKind.unknown
    assert probe(None) == Emulator(EmulatorKind.aws, None, None)


def test_an_external_backend_probes_its_endpoint(backend):
    assert ExternalBackend(backend.endpoints).emulator().kind is EmulatorKind.moto


def test_the_summary_is_one_line_for_people():
    image = "nanogrid/localstack:local"
    assert Emulator(EmulatorKind.localstack, "4.14.0", image).summary() == (
        "LocalStack 4.14.0 (image nanogrid/localstack:local)"
    )
    assert Emulator(EmulatorKind.moto, None, None).summary() == "moto (version unknown)"
    assert Emulator(EmulatorKind.aws, None, None).summary() == "real AWS"
