"""The span file gets each process's share of a trace in one piece, when its local root ends."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

from nanogrid.telemetry.grouping import TraceGroupingProcessor


class CountingExporter(InMemorySpanExporter):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def export(self, spans):
        self.batches.append([s.name for s in spans])
        return super().export(spans)


def provider_with(exporter, **kwargs) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(TraceGroupingProcessor(exporter, **kwargs))
    return provider


def test_children_wait_for_their_local_root():
    exporter = CountingExporter()
    tracer = provider_with(exporter).get_tracer("t")
    with tracer.start_as_current_span("root"):
        with tracer.start_as_current_span("child"):
            with tracer.start_as_current_span("grandchild"):
                pass
        assert exporter.batches == []
    assert exporter.batches == [["grandchild", "child", "root"]]


def test_a_span_under_a_remote_parent_is_a_local_root():
    exporter = CountingExporter()
    tracer = provider_with(exporter).get_tracer("t")
    remote = SpanContext(trace_id=7, span_id=9, is_remote=True, trace_flags=TraceFlags(1))
    with tracer.start_as_current_span(
        "process", context=set_span_in_context(NonRecordingSpan(remote))
    ):
        with tracer.start_as_current_span("execute"):
            pass
    assert exporter.batches == [["execute", "process"]]


def test_traces_are_grouped_apart_and_flush_exports_the_unfinished():
    exporter = CountingExporter()
    provider = provider_with(exporter)
    tracer = provider.get_tracer("t")
    first = tracer.start_span("first-root")
    with tracer.start_as_current_span("second-root"):
        pass
    child = tracer.start_span("orphan-child", context=set_span_in_context(first))
    child.end()
    assert exporter.batches == [["second-root"]]
    provider.force_flush()
    assert exporter.batches == [["second-root"], ["orphan-child"]]
    first.end()


def test_over_the_cap_spans_go_out_alone():
    exporter = CountingExporter()
    tracer = provider_with(exporter, max_pending=1).get_tracer("t")
    with tracer.start_as_current_span("root"):
        for name in ("a", "b"):
            with tracer.start_as_current_span(name):
                pass
    assert exporter.batches == [["a", "b"], ["root"]]


def test_a_failing_exporter_never_raises_into_the_caller():
    class Broken(InMemorySpanExporter):
        def export(self, spans):
            raise OSError("disk full")

    tracer = provider_with(Broken()).get_tracer("t")
    with tracer.start_as_current_span("root"):
        pass
