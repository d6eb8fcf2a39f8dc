"""Benchmark: diagnose and render a report for a synthetic run of 10,000 spans.

Run: ``.venv/bin/python bench/report_render.py [--spans N]``. Prints the time taken by the
analysis (diagnosis + timeline) and by the Markdown and HTML renderers; the goal is under
1 s for rendering 10,000 spans.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from harness.evidence import CallRecord, Evidence
from harness.report import context
from harness.report.html import render_html
from harness.report.markdown import render_markdown
from harness.traces import EventRecord, SpanRecord
from nanogrid.telemetry import semconv

T0 = 1_764_661_219_000_000_000
MS = 1_000_000
GOAL_S = 1.0


def _resource(service: str, instance: str) -> dict[str, object]:
    return {
        "attributes": [
            {"key": "service.name", "value": {"stringValue": service}},
            {"key": "service.instance.id", "value": {"stringValue": instance}},
        ]
    }


def synthetic_run(n_spans: int) -> Evidence:
    """One /run request whose trace holds ``n_spans`` spans over two services, with logs."""
    rid = str(uuid.uuid4())
    trace_id = semconv.trace_id_of(rid)
    spans, logs = [], []
    for i in range(n_spans):
        worker = i % 2 == 1
        service = "nanogrid-worker" if worker else "nanogrid-controller"
        start = T0 + i * MS // 4
        span = SpanRecord(
            trace_id=trace_id,
            span_id=f"{i:016x}",
            parent_span_id="",
            name="S3.GetObject" if worker else "GET",
            kind=3,
            service=service,
            start_ns=start,
            end_ns=start + 2 * MS,
            attributes={"rpc.system": "aws-api", "rpc.service": "S3", "rpc.method": "GetObject"}
            if worker
            else {"db.system": "redis", "db.statement": "GET ?"},
            events=(EventRecord("retry", start + MS, {"n": 1}),) if i % 50 == 0 else (),
            raw_resource=_resource(service, "w1" if worker else "c1"),
        )
        spans.append(span)
        if i % 10 == 0:
            logs.append(
                {
                    "ts": "2025-12-02T07:40:19.000Z",
                    "level": "INFO",
                    "component": "worker-1" if worker else "controller",
                    "message": f"step {i}",
                    "requestId": rid,
                    "span_id": span.span_id,
                }
            )
    end = T0 + n_spans * MS // 4 + 5 * MS
    body = {"requestId": rid, "status": "SUCCESS", "exitCode": 0}
    calls = [CallRecord("run", "fn", rid, 200, body, T0 - MS, end)]
    return Evidence(Path("synthetic"), {"name": "bench"}, calls, [], spans, logs)


@dataclass
class RenderTimes:
    """Seconds spent analysing and rendering one synthetic run, and the outputs' sizes."""

    spans: int
    rows: int
    analysis: float
    markdown: float
    html: float
    markdown_bytes: int
    html_bytes: int

    @property
    def render(self) -> float:
        return self.markdown + self.html


def measure(n_spans: int) -> RenderTimes:
    """Diagnose, then render Markdown and HTML for a synthetic run of ``n_spans`` spans."""
    evidence = synthetic_run(n_spans)
    started = time.perf_counter()
    views = [context.variant_view("en", 1, "synthetic", evidence, None)]
    table = context.observations("en", views)
    analysed = time.perf_counter()
    md = render_markdown("bench", views, table, None)
    rendered_md = time.perf_counter()
    html = render_html("bench", views, table, None)
    rendered = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "report.md").write_text(md, encoding="utf-8")
        (Path(tmp) / "report.html").write_text(html, encoding="utf-8")
    return RenderTimes(
        n_spans,
        len(views[0].timeline.requests[0].rows),
        analysed - started,
        rendered_md - analysed,
        rendered - rendered_md,
        len(md),
        len(html),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spans", type=int, default=10_000)
    args = parser.parse_args()
    t = measure(args.spans)
    print(f"spans: {t.spans}  timeline rows: {t.rows}")
    print(f"analysis (diagnosis, timeline, sequences): {t.analysis:.3f} s")
    print(f"markdown: {t.markdown:.3f} s ({t.markdown_bytes / 1e6:.1f} MB)")
    print(f"html: {t.html:.3f} s ({t.html_bytes / 1e6:.1f} MB)")
    verdict = "OK" if t.render < GOAL_S else "over the goal"
    print(f"render total: {t.render:.3f} s (goal < {GOAL_S:.0f} s: {verdict})")
    print(f"end to end: {t.analysis + t.render:.3f} s")


if __name__ == "__main__":
    main()
