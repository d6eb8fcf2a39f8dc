"""The Markdown report, in the incident memo's layout.

Summary of problems found; per variant: each problem, the evidence log excerpt, the cause
analysis (verdicts and the memo's hypotheses, cited evidence numbered), the memo's four
timeline steps, the sequence of messages as a text diagram (:mod:`harness.report.textchart`,
the numbers of the cited evidence on its rows) and the full timeline, the result JSON actually published, a checklist of fixes, the expected result
after the fix (from a control run); and last, the table of observations that tell the
hypotheses apart in production logs.
"""

# ruff: noqa: E501 - the template constant's lines are HTML / Markdown, not Python

from __future__ import annotations

from typing import Any

import jinja2

from harness.report import i18n
from harness.report.context import ControlView, VariantView
from harness.report.sequence import Panel
from harness.report.textchart import text_chart

#: Rows of the full timeline shown per request; the HTML report shows them all.
MAX_TIMELINE_ROWS = 300

TEMPLATE = """\
# {{ t("ui.title", scenario=scenario) }}

## {{ t("ui.summary") }}

| {{ t("ui.variant") }} | {{ t("ui.client_status") }} | {{ t("ui.confirmed") }} |
|---|---|---|
{% for v in variants -%}
| {{ v.name | cell }} | {{ v.client_status }} | {{ v.confirmed | map(attribute="code") | join(", ") or "-" }} |
{% endfor %}
{% for emulator in variants | map(attribute="emulator") | select | unique %}
{{ t("ui.emulator") }}: {{ emulator }}
{% endfor %}
{% for v in variants %}
---

## {{ t("ui.variant") }}: {{ v.name }}

{% for p in v.confirmed -%}
### {{ t("ui.problem") }} {{ loop.index }}: {{ p.title }} (`{{ p.code }}`)

{{ p.explanation }}

{% else -%}
{{ t("ui.no_problem") }}

{% endfor -%}
### {{ t("ui.evidence_log") }}

```
{% for line in v.log_excerpt -%}
{{ line }}
{% endfor -%}
```

### {{ t("ui.cause") }}

| {{ t("ui.code") }} | {{ t("ui.status") }} | {{ t("ui.explanation") }} |
|---|---|---|
{% for vd in v.verdicts -%}
| `{{ vd.code }}` {{ vd.title | cell }} | **{{ vd.status_text }}** | {{ vd.explanation | cell }} |
{% endfor %}
{% for vd in v.verdicts if vd.status == "confirmed" and vd.evidence -%}
`{{ vd.code }}`:
{% for e in vd.evidence -%}
- {% if e.ref in v.citations %}[{{ v.citations[e.ref].number }}] {% endif %}{{ e.ts }} {{ e.component }} ({{ e.kind }}): {{ e.text | oneline }}
{% endfor %}
{% endfor -%}
{% if v.hypotheses -%}
### {{ t("ui.hypotheses") }}

| {{ t("ui.hypothesis") }} | {{ t("ui.memo_guess") }} | {{ t("ui.verdict") }} | {{ t("ui.explanation") }} |
|---|---|---|---|
{% for h in v.hypotheses -%}
| {{ h.id }} {{ h.title | cell }} (`{{ h.code }}`) | {{ h.likelihood }} | **{{ h.status_text }}** | {{ h.explanation | cell }} |
{% endfor %}
{% endif -%}
{% if v.divergence -%}
### {{ t("ui.divergence") }}

{{ v.divergence }}

{% endif -%}
### {{ t("ui.memo_steps") }}

```
{% for s in v.steps -%}
{{ s.ts }} - {{ s.text }}{% if s.status == "unknown" %} [{{ t("status.unknown") }}]{% endif %}
{% endfor -%}
```

{% for chart in charts[v.index] -%}
### {{ t("ui.sequence") }}: {{ t("ui.request") }} {{ chart.request }}

```text
{{ chart.text }}
```

{% endfor -%}
{% for r in v.timeline.requests -%}
### {{ t("ui.timeline") }}: {{ t("ui.request") }} {{ r.request_id }}

| {{ t("ui.time") }} | {{ t("ui.offset") }} | {{ t("ui.component") }} | {{ t("ui.event") }} | {{ t("ui.kind") }} |
|---|---|---|---|---|
{% for row in r.rows[:max_rows] -%}
| {{ clock(row.ts_ns) }} | {{ "%+.1f" | format(row.offset_ms) }} ms | {{ row.component | cell }} | {{ row.event | cell }}{% if row.evidence %}: {{ row.evidence | cell }}{% endif %}{% if row.status == "unknown" %} **{{ t("status.unknown") }}**{% endif %} | {{ row.kind }} |
{% endfor %}
{% if r.rows | length > max_rows %}_{{ t("ui.rows_omitted", n=(r.rows | length) - max_rows) }}_
{% endif %}
{% endfor -%}
### {{ t("ui.published") }}

{% if v.published -%}
```json
{{ v.published }}
```
{% else -%}
{{ t("ui.not_published") }}
{% endif %}
### {{ t("ui.fixes") }}

{% for p in v.confirmed -%}
- [ ] **{{ p.title }}** (`{{ p.code }}`): {{ p.fix }}
{% else -%}
- [x] {{ t("verdict.HEALTHY.fix") }}
{% endfor %}
### {{ t("ui.expected") }}

{% if control -%}
```
{% for line in control.log_excerpt -%}
{{ line }}
{% endfor -%}
```

```json
{{ control.response }}
```
{% else -%}
{{ t("ui.no_control") }}
{% endif %}
{% endfor %}
---

## {{ t("ui.observations") }}

| {{ t("ui.observation") }} | {{ t("ui.tells") }} |{% for v in variants %} {{ v.name | cell }} |{% endfor %}
|---|---|{% for v in variants %}---|{% endfor %}
{% for o in observations -%}
| {{ o.label | cell }} | {{ o.tells | cell }} |{% for value in o["values"] %} {{ value | cell }} |{% endfor %}
{% endfor %}
"""


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _oneline(value: Any, limit: int = 300) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        autoescape=False, keep_trailing_newline=True, undefined=jinja2.StrictUndefined
    )
    env.filters["cell"] = _cell
    env.filters["oneline"] = _oneline
    return env


_TEMPLATE = _environment().from_string(TEMPLATE)


def render_markdown(
    scenario: str,
    variants: list[VariantView],
    observations: list[dict[str, Any]],
    control: ControlView | None,
    lang: str = "en",
) -> str:
    from harness.analysis import clock

    charts = {
        v.index: [
            {
                "request": sequence.request_id,
                "text": text_chart(Panel(sequence, "", v.timeline.faults, v.citations), lang),
            }
            for sequence in v.sequences
        ]
        for v in variants
    }
    return _TEMPLATE.render(
        scenario=scenario,
        variants=variants,
        charts=charts,
        observations=observations,
        control=control,
        max_rows=MAX_TIMELINE_ROWS,
        clock=clock,
        t=lambda key, **params: i18n.t(lang, key, **params),
    )
