"""Reports of a scenario's runs: ``report.md``, ``report.html`` and ``verdict.json``.

::

    paths = write_report(out_dir, "incident-2025-12-02",
                         [("failed-ignored", evidence.load(run_a)), ...],
                         control=evidence.load(fixed_run), lang="ko")

Each variant is one run directory's :class:`~harness.evidence.Evidence`. The control run
(the fixed system) is the healthy baseline for the divergence and gives the expected result
after the fix. Renderers: :mod:`harness.report.markdown`, :mod:`harness.report.html`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from harness.analysis import Diagnosis
from harness.evidence import Evidence
from harness.report import i18n
from harness.report.context import VariantView, control_view, observations, variant_view
from harness.report.html import render_html
from harness.report.markdown import render_markdown
from harness.report.verdict import write_verdict_json

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
VERDICT_JSON = "verdict.json"


def write_report(
    out_dir: Path,
    scenario_name: str,
    variants: list[tuple[str, Evidence]],
    control: Evidence | None = None,
    lang: str = "en",
    baseline: Evidence | None = None,
    diagnoses: Mapping[str, Diagnosis] | None = None,
) -> dict[str, Path]:
    """Write the three files from each variant's diagnosis; returns them by name.

    ``diagnoses`` (by variant name) are the runs' own diagnoses; a variant without one is
    diagnosed here, with ``baseline`` (a healthy run, default ``control``), which sharpens
    the latency rule and names each variant's first divergence from it.
    """
    i18n.check_lang(lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = baseline if baseline is not None else control
    given = diagnoses or {}
    views = [
        variant_view(lang, n, name, ev, base, given.get(name))
        for n, (name, ev) in enumerate(variants, 1)
    ]
    _beside(lang, views, base, control)
    table = observations(lang, views)
    ctl = control_view(control)
    md = out_dir / REPORT_MD
    md.write_text(render_markdown(scenario_name, views, table, ctl, lang), encoding="utf-8")
    html = out_dir / REPORT_HTML
    html.write_text(render_html(scenario_name, views, table, ctl, lang), encoding="utf-8")
    diagnosed = [(v.name, v.diagnosis) for v in views]
    verdict = write_verdict_json(out_dir / VERDICT_JSON, scenario_name, diagnosed)
    return {REPORT_MD: md, REPORT_HTML: html, VERDICT_JSON: verdict}


def _beside(
    lang: str, views: list[VariantView], base: Evidence | None, control: Evidence | None
) -> None:
    """Give every variant but the baseline itself the baseline to be drawn beside."""
    if base is None:
        return
    found = next((v for v in views if v.evidence is base), None)
    name = "control" if base is control else "baseline"
    view = found or variant_view(lang, 0, name, base, None)
    for each in views:
        if each is not found:
            each.baseline = view.as_baseline(control=base is control)


__all__ = ["REPORT_HTML", "REPORT_MD", "VERDICT_JSON", "write_report"]
