"""Every adapter against the one protocol, and the choice between them."""

from __future__ import annotations

import pytest

from harness.ingest.adapters import ADAPTERS, FALLBACK, Adapter, choose
from harness.ingest.source import Source


@pytest.mark.parametrize("adapter", [*ADAPTERS, FALLBACK], ids=lambda a: a.name)
def test_each_adapter_implements_the_protocol(adapter):
    assert isinstance(adapter, Adapter)
    assert isinstance(adapter.name, str)
    assert adapter.name
    assert isinstance(adapter.formats, str)
    assert adapter.formats


def test_adapter_names_are_unique():
    names = [a.name for a in (*ADAPTERS, FALLBACK)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ('{"ts": "2025-12-02T07:40:19Z", "level": "INFO", "message": "m"}\n', "json-log"),
        ("07:40:19.996 [INFO] m\n", "text-log"),
        ('{"resourceSpans": []}\n', "otlp-json"),
        ('{\n "data": [{"traceID": "a", "spans": []}]\n}\n', "jaeger-json"),
        ('{"status": "TIMEOUT", "message": "Execution timed out"}', "result-json"),
        ("hello\n", "unrecognised"),
        ("", "unrecognised"),
    ],
)
def test_the_adapter_recognising_the_head_is_chosen(write, content, kind):
    assert choose(Source(write("f", content))).name == kind


def test_most_lines_recognised_wins(write):
    text = '{"ts": "2025-12-02T07:40:19Z", "level": "INFO", "message": "m"}\n' * 2
    text += "07:40:19.996 [INFO] m\n"
    assert choose(Source(write("f", text))).name == "json-log"
    text = "07:40:19.996 [INFO] m\n" * 3 + '{"ts": "2025-12-02T07:40:19Z", "message": "m"}\n'
    assert choose(Source(write("g", text))).name == "text-log"
