"""The self-contained HTML report: opens offline, no external asset, font, script or link.

Per variant: the memo's four steps, the verdicts (``id="vN-verdict-CODE"``, each evidence
item linking to its timeline row and each row linking back to the verdicts citing it), the
memo's hypotheses, one swimlane per component (fault intervals shaded, from the ledger's
``fault_added``/``fault_active`` to ``fault_removed``/``fault_expired``), the span waterfall
and the full timeline. The summary carries one ``id="verdict-CODE"`` anchor per code.
"""

# ruff: noqa: E501 - the template constant's lines are HTML / Markdown, not Python

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jinja2

from harness.analysis import FAULT_CODES, HEALTHY, RequestTimeline, Timeline, clock
from harness.report import i18n
from harness.report.context import ControlView, VariantView

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;
vertical-align:top;text-align:left}pre{background:#f6f6f6;padding:.6em;overflow:auto}
.status-confirmed{color:#b00020;font-weight:bold}.status-ruled_out{color:#2e7d32}
.status-unknown{color:#8a6d00}.verdict{border-left:4px solid #ccc;padding:.2em .8em;margin:.6em 0}
.verdict.status-confirmed{border-color:#b00020}.step-unknown{color:#8a6d00}
.step-failed{color:#b00020}.lanes{border:1px solid #ddd;margin:.5em 0}
.lane{display:flex;border-top:1px solid #eee;height:22px}.lane-name{width:11em;
font-size:12px;padding:2px 4px;overflow:hidden;white-space:nowrap}.track{position:relative;flex:1}
.fault-interval{position:absolute;top:0;bottom:0;background:rgba(229,57,53,.22)}
.fault-shadow{background:rgba(229,57,53,.10)}.bar{position:absolute;top:5px;height:12px;
background:#90caf9;min-width:1px}.bar.error{background:#ef9a9a}.bar.open,.wf-bar.open{background:repeating-linear-gradient(90deg,#90caf9 0 6px,#fff 6px 9px)}.mark{position:absolute;top:3px;
width:3px;height:16px;background:#455a64}.mark.error{background:#c62828}
.mark.unknown{background:#f9a825}.wf-row{display:flex;font-size:12px;height:16px}
.wf-name{width:22em;overflow:hidden;white-space:nowrap}.wf-track{position:relative;flex:1}
.wf-bar{position:absolute;top:3px;height:10px;background:#64b5f6;min-width:1px}
.wf-bar.error{background:#e57373}tr.status-unknown td{background:#fff8e1}
tr.status-error td{background:#ffebee}tr.kind-idle td{color:#888;font-style:italic}
tr:target td{outline:2px solid #1565c0}
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<title>{{ t("ui.title", scenario=scenario) }}</title><style>{{ style | safe }}</style></head><body>
<h1>{{ t("ui.title", scenario=scenario) }}</h1>
<section id="summary"><h2>{{ t("ui.summary") }}</h2>
<table><tr><th>{{ t("ui.variant") }}</th><th>{{ t("ui.client_status") }}</th><th>{{ t("ui.confirmed") }}</th></tr>
{% for v in variants %}<tr><td><a href="#{{ v.prefix }}">{{ v.name }}</a></td><td>{{ v.client_status }}</td><td>
{% for p in v.confirmed %}<a href="#{{ v.prefix }}-verdict-{{ p.code }}">{{ p.code }}</a> {% else %}-{% endfor %}</td></tr>
{% endfor %}</table>
<ul class="codes">{% for code, title, links in codes %}<li id="verdict-{{ code }}">{{ code }}: {{ title }}
{% for prefix, status in links %}<a class="status-{{ status }}" href="#{{ prefix }}-verdict-{{ code }}">{{ prefix }}</a> {% endfor %}</li>
{% endfor %}</ul></section>
{% for v in variants %}<section class="variant" id="{{ v.prefix }}">
<h2>{{ t("ui.variant") }}: {{ v.name }} ({{ v.client_status }})</h2>
<h3>{{ t("ui.memo_steps") }}</h3><ol class="memo-steps">
{% for s in v.steps %}<li class="step-{{ s.status }}">{{ s.ts }} - {{ s.text }}</li>{% endfor %}</ol>
<h3>{{ t("ui.cause") }}</h3>
{% for vd in v.verdicts %}<div class="verdict status-{{ vd.status }}" id="{{ v.prefix }}-verdict-{{ vd.code }}">
<h4><a href="#verdict-{{ vd.code }}">{{ vd.code }}</a> {{ vd.title }}: <span class="status-{{ vd.status }}">{{ vd.status_text }}</span></h4>
<p>{{ vd.explanation }}</p>{% if vd.status == "confirmed" %}<p><b>{{ t("ui.fix") }}:</b> {{ vd.fix }}</p>{% endif %}
{% if vd.evidence %}<ul class="evidence">{% for e in vd.evidence %}<li>{% if e.ref in anchors[v.index] %}<a href="#{{ v.prefix }}-{{ e.ref }}">{{ e.ts }}</a>{% else %}{{ e.ts }}{% endif %} {{ e.component }} ({{ e.kind }}): {{ e.text }}</li>{% endfor %}</ul>{% endif %}
</div>{% endfor %}
{% if v.hypotheses %}<h3>{{ t("ui.hypotheses") }}</h3><table><tr><th>{{ t("ui.hypothesis") }}</th><th>{{ t("ui.memo_guess") }}</th><th>{{ t("ui.verdict") }}</th><th>{{ t("ui.explanation") }}</th></tr>
{% for h in v.hypotheses %}<tr><td>{{ h.id }} {{ h.title }} (<a href="#{{ v.prefix }}-verdict-{{ h.code }}">{{ h.code }}</a>)</td><td>{{ h.likelihood }}</td><td class="status-{{ h.status }}">{{ h.status_text }}</td><td>{{ h.explanation }}</td></tr>{% endfor %}</table>{% endif %}
{% if v.divergence %}<h3>{{ t("ui.divergence") }}</h3><p>{{ v.divergence }}</p>{% endif %}
{% for r in lanes[v.index] %}<h3>{{ t("ui.swimlanes") }}: {{ t("ui.request") }} {{ r.request_id }}</h3><div class="lanes">
{% for lane in r.lanes %}<div class="lane" data-component="{{ lane.name }}"><span class="lane-name">{{ lane.name }}</span><div class="track">
{% for f in lane.faults %}<div class="{{ f.css }}" style="left:{{ f.left }}%;width:{{ f.width }}%" title="{{ f.title }}"></div>{% endfor %}
{% for b in lane.bars %}<div class="bar{{ b.css }}" style="left:{{ b.left }}%;width:{{ b.width }}%" title="{{ b.title }}"></div>{% endfor %}
{% for m in lane.marks %}<a class="mark {{ m.css }}" style="left:{{ m.left }}%" href="#{{ v.prefix }}-{{ m.ref }}" title="{{ m.title }}"></a>{% endfor %}
</div></div>{% endfor %}</div>
<h3>{{ t("ui.waterfall") }}</h3><div class="waterfall">
{% for b in r.waterfall %}<div class="wf-row"><span class="wf-name">{{ b.title }}</span><div class="wf-track"><div class="wf-bar{{ b.css }}" style="left:{{ b.left }}%;width:{{ b.width }}%"></div></div></div>{% endfor %}</div>
<h3>{{ t("ui.timeline") }}</h3><table class="timeline"><tr><th>{{ t("ui.time") }}</th><th>{{ t("ui.offset") }}</th><th>{{ t("ui.component") }}</th><th>{{ t("ui.event") }}</th><th>{{ t("ui.kind") }}</th><th>{{ t("ui.verdict") }}</th></tr>
{% for row in r.rows %}<tr{% if row.ref %} id="{{ v.prefix }}-{{ row.ref }}"{% endif %} class="kind-{{ row.kind }} status-{{ row.status }}"><td>{{ row.ts }}</td><td>{{ row.offset }}</td><td>{{ row.component }}</td><td>{{ row.event }} {{ row.evidence }}</td><td>{{ row.kind }}</td><td>{% for code in row.codes %}<a href="#{{ v.prefix }}-verdict-{{ code }}">{{ code }}</a> {% endfor %}</td></tr>
{% endfor %}</table>{% endfor %}
<h3>{{ t("ui.published") }}</h3>{% if v.published %}<pre>{{ v.published }}</pre>{% else %}<p>{{ t("ui.not_published") }}</p>{% endif %}
<h3>{{ t("ui.fixes") }}</h3><ul>{% for p in v.confirmed %}<li><a href="#{{ v.prefix }}-verdict-{{ p.code }}">{{ p.title }}</a>: {{ p.fix }}</li>{% else %}<li>{{ t("verdict.HEALTHY.fix") }}</li>{% endfor %}</ul>
</section>{% endfor %}
<section id="expected"><h2>{{ t("ui.expected") }}</h2>{% if control %}<pre>{{ control.log_excerpt | join("\\n") }}</pre><pre>{{ control.response }}</pre>{% else %}<p>{{ t("ui.no_control") }}</p>{% endif %}</section>
<section id="observations"><h2>{{ t("ui.observations") }}</h2><table><tr><th>{{ t("ui.observation") }}</th><th>{{ t("ui.tells") }}</th>{% for v in variants %}<th>{{ v.name }}</th>{% endfor %}</tr>
{% for o in observations %}<tr><td>{{ o.label }}</td><td>{{ o.tells }}</td>{% for value in o["values"] %}<td>{{ value }}</td>{% endfor %}</tr>{% endfor %}</table></section>
</body></html>
"""


@dataclass(frozen=True)
class Box:
    left: float
    width: float
    title: str
    css: str = ""
    ref: str = ""


@dataclass
class Lane:
    name: str
    faults: list[Box]
    bars: list[Box]
    marks: list[Box]


class Scale:
    """Maps epoch nanoseconds onto 0..100 % of a request's window."""

    def __init__(self, start: int, end: int) -> None:
        self.start, self.span = start, max(end - start, 1)

    def at(self, ts: int) -> float:
        return round(min(max((ts - self.start) / self.span * 100, 0.0), 100.0), 3)

    def box(self, start: int, end: int, title: str, css: str = "") -> Box:
        left = self.at(start)
        return Box(left, max(round(self.at(end) - left, 3), 0.05), title, css)


def request_lanes(req: RequestTimeline, timeline: Timeline) -> dict[str, Any]:
    """Lanes, waterfall and rows of one request, positioned for the template."""
    scale = Scale(req.start_ns, req.end_ns)
    lanes = {name: Lane(name, [], [], []) for name in req.components if name}
    for fault in timeline.faults:
        end = fault.end_ns or req.end_ns
        if end < req.start_ns or fault.start_ns > req.end_ns:
            continue
        title = f"{fault.fault} {fault.kind} {fault.direction} {clock(fault.start_ns)}-{clock(end)}"
        lanes.setdefault(fault.proxy, Lane(fault.proxy, [], [], [])).faults.append(
            scale.box(fault.start_ns, end, title, "fault-interval")
        )
        source = fault.proxy.split("->")[0]
        if source in lanes and source != fault.proxy:
            lanes[source].faults.append(
                scale.box(fault.start_ns, end, title, "fault-interval fault-shadow")
            )
    waterfall = []
    for span in req.spans:
        comp = req.span_components.get(span.span_id, span.service)
        css = " error" if span.is_error else ("" if span.ended else " open")
        took = f"{span.duration_ns / 1e6:.1f} ms" if span.ended else "started, never finished"
        title = f"{span.name} [{comp}] {took}"
        box = scale.box(span.start_ns, span.end_ns if span.ended else req.end_ns, title, css)
        lanes.setdefault(comp, Lane(comp, [], [], [])).bars.append(box)
        waterfall.append(box)
    for row in req.rows:
        marked = ("log", "fault", "call", "unknown", "component", "wire")
        if row.kind in marked and row.component in lanes:
            mark = Box(
                scale.at(row.ts_ns),
                0,
                f"{clock(row.ts_ns)} {row.event} {row.evidence}"[:300],
                row.status,
                row.ref,
            )
            lanes[row.component].marks.append(mark)
    return {"request_id": req.request_id, "lanes": list(lanes.values()), "waterfall": waterfall}


def _rows(view: VariantView, req: RequestTimeline) -> list[dict[str, Any]]:
    return [
        {
            "ts": clock(row.ts_ns),
            "offset": f"{row.offset_ms:+.1f} ms",
            "component": row.component,
            "event": row.event,
            "evidence": row.evidence,
            "kind": row.kind,
            "status": row.status,
            "ref": row.ref,
            "codes": view.cited.get(row.ref, []) if row.ref else [],
        }
        for row in req.rows
    ]


def _codes(lang: str, variants: list[VariantView]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    out = []
    for code in (HEALTHY, *FAULT_CODES):
        links = [(v.prefix, vd.status) for v in variants for vd in v.verdicts if vd.code == code]
        out.append((code, i18n.t(lang, f"verdict.{code}.title"), links))
    return out


_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEMPLATE = _ENV.from_string(TEMPLATE)


def render_html(
    scenario: str,
    variants: list[VariantView],
    observations: list[dict[str, Any]],
    control: ControlView | None,
    lang: str = "en",
) -> str:
    lanes = {
        v.index: [
            {**request_lanes(r, v.timeline), "rows": _rows(v, r)} for r in v.timeline.requests
        ]
        for v in variants
    }
    anchors = {
        v.index: {row["ref"] for r in lanes[v.index] for row in r["rows"] if row["ref"]}
        for v in variants
    }
    return _TEMPLATE.render(
        lang=lang,
        anchors=anchors,
        scenario=scenario,
        style=STYLE,
        variants=variants,
        lanes=lanes,
        codes=_codes(lang, variants),
        observations=observations,
        control=control,
        t=lambda key, **params: i18n.t(lang, key, **params),
    )
