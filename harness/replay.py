"""Replaying scenarios into report bundles: evidence per variant, then the reports.

A bundle directory holds one evidence directory per variant (see :mod:`harness.evidence`)
and, beside them, ``report.md``, ``report.html``, ``verdict.json``, ``trace.jsonl`` (every
variant's spans, OTLP JSON) and ``trace.jaeger.json`` (the same, as Jaeger UI's JSON).
:func:`render_bundle` works on stored evidence alone, so ``nanogrid-harness report`` can
re-render a bundle long after the run.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from harness import traces
from harness.analysis import Diagnosis
from harness.env.base import Backend
from harness.env.embedded import EmbeddedBackend
from harness.evidence import SCENARIO_FILE, load
from harness.report import write_report
from harness.scenario.model import Scenario, Variant
from harness.scenario.play import Outcome, play
from harness.scenario.runner import ScenarioHarness

TRACE_JSONL = "trace.jsonl"
TRACE_JAEGER = "trace.jaeger.json"


def variant_dirs(bundle: Path) -> list[Path]:
    """The evidence directories of a bundle, in the scenario's variant order."""
    dirs = [p.parent for p in bundle.glob(f"*/{SCENARIO_FILE}")]
    order = _declared_order(dirs)
    return sorted(dirs, key=lambda d: order.get(d.name, len(order)))


def _declared_order(dirs: list[Path]) -> dict[str, int]:
    for directory in dirs:
        declared = json.loads((directory / SCENARIO_FILE).read_text()).get("variants", [])
        return {v["name"]: i for i, v in enumerate(declared)}
    return {}


def render_bundle(
    bundle: Path, lang: str = "en", diagnoses: Mapping[str, Diagnosis] | None = None
) -> dict[str, Path]:
    """Write the reports and trace files of a bundle from its stored evidence (and the
    runs' diagnoses, when given; otherwise each run is diagnosed from its evidence)."""
    dirs = variant_dirs(bundle)
    if not dirs:
        raise FileNotFoundError(f"{bundle} holds no run ({SCENARIO_FILE} in a subdirectory)")
    variants = [(d.name, load(d)) for d in dirs]
    scenario = variants[0][1].scenario
    control_name = scenario.get("control")
    control = next((ev for name, ev in variants if name == control_name), None)
    name = str(scenario.get("name", bundle.name))
    files = write_report(bundle, name, variants, control, lang, diagnoses=diagnoses)
    spans = [span for _, evidence in variants for span in evidence.spans]
    traces.write_otlp_jsonl(spans, bundle / TRACE_JSONL)
    (bundle / TRACE_JAEGER).write_text(json.dumps(traces.to_jaeger(spans)))
    return {**files, TRACE_JSONL: bundle / TRACE_JSONL, TRACE_JAEGER: bundle / TRACE_JAEGER}


def replay(
    scenarios: Iterable[Scenario],
    out_dir: Callable[[Scenario], Path],
    lang: str = "en",
    on_variant: Callable[[Scenario, Variant], None] | None = None,
    backend: Callable[[Path], Backend] = EmbeddedBackend,
    controller_command: str | None = None,
    worker_command: str | None = None,
) -> list[Outcome]:
    """Run each scenario on one proxied stack (embedded by default) and render its bundle;
    ``controller_command`` / ``worker_command`` put a component under test in place of the
    reference one (:mod:`harness.components`)."""
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="nanogrid-replay-") as tmp:
        with ScenarioHarness(
            Path(tmp),
            backend=backend,
            controller_command=controller_command,
            worker_command=worker_command,
        ) as harness:
            for scenario in scenarios:
                bundle = out_dir(scenario)
                hook = (lambda v, s=scenario: on_variant(s, v)) if on_variant else None
                played = play(harness, scenario, bundle, hook)
                render_bundle(bundle, lang, {o.variant: o.diagnosis for o in played})
                outcomes += played
    return outcomes
