"""The fault kinds as plug-ins: one file each, found by the registry, documented by the CLI."""

from __future__ import annotations

import json
import pkgutil
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import harness.faults.kinds as kinds
from harness.cli import app
from harness.faults import Fault, FaultProxy, InvalidFault
from harness.faults.kinds.base import FaultType, Layer
from tests.harness.faults.conftest import round_trip

ZERO_KIND = '''
"""``zero``: every byte of the stream becomes 0 (a test kind, in one file)."""

from harness.faults.kinds.base import Layer, Param


class Zero:
    name = "zero"
    layer = Layer.STREAM
    summary = "every byte replaced by 0"
    params = {"fill": Param(0, "the byte written instead", integer=True, maximum=255)}
    stage = 5

    def check(self, params):
        return None

    def on_connect(self, ctx):
        return None

    def shape(self, ctx, pieces):
        fill = bytes([ctx.armed.fault.params["fill"]])
        ctx.hit("zero", sum(len(p) for _, p in pieces))
        return [(pause, fill * len(piece)) for pause, piece in pieces]


KIND = Zero()
'''


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    kinds.registry.cache_clear()
    yield
    kinds.registry.cache_clear()


@pytest.fixture
def one_more_file(tmp_path: Path, fresh_registry: None) -> Iterator[None]:
    """The kinds package with one more module, as if a file were added to it."""
    (tmp_path / "zero.py").write_text(textwrap.dedent(ZERO_KIND))
    kinds.__path__.append(str(tmp_path))
    yield
    kinds.__path__.remove(str(tmp_path))


def test_every_module_of_the_package_is_a_documented_kind():
    modules = {m.name for m in pkgutil.iter_modules(kinds.__path__)} - {"base"}
    assert set(kinds.names()) == modules
    for name, kind in kinds.registry().items():
        assert isinstance(kind, FaultType)
        assert kind.summary, name
        assert all(param.doc for param in kind.params.values()), name
        Fault("f", name, **_required(kind))  # the defaults plus what is required validate


def _required(kind: FaultType) -> dict[str, object]:
    needs = {"latency_ms": 5, "rate_kb_s": 5, "slice_bytes": 1, "delay_ms": 5}
    return {k: v for k, v in needs.items() if k in kind.params}


def test_a_kind_added_in_one_file_is_found_validated_and_acts(one_more_file, echo, make_proxy):
    assert "zero" in kinds.names()
    with pytest.raises(InvalidFault, match="fill must be <= 255"):
        Fault("z", "zero", fill=300)
    proxy: FaultProxy = make_proxy(echo.port)
    proxy.add(Fault("z", "zero", "downstream", fill=7))
    with socket.create_connection(proxy.address, timeout=5) as sock:
        assert round_trip(sock, b"hello") == b"\x07" * 5


def test_kinds_from_other_packages_come_by_entry_point(monkeypatch, fresh_registry):
    class Point:
        name = "zero"

        def load(self) -> object:
            namespace: dict[str, object] = {}
            exec(textwrap.dedent(ZERO_KIND), namespace)
            return namespace["KIND"]

    monkeypatch.setattr(kinds, "entry_points", lambda group: [Point()] if group else [])
    assert kinds.kind_of("zero").layer is Layer.STREAM


def test_cli_lists_every_kind_with_its_parameters():
    result = CliRunner().invoke(app, ["fault-kinds", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["kind"]: row for row in json.loads(result.output)}
    assert set(rows) == set(kinds.names())
    assert rows["redis_delay"]["acts_on"] == "redis upstream messages"
    assert rows["redis_delay"]["params"]["key"]["default"] == "*"
    assert "latency_ms" in rows["latency"]["params"]
