"""The self-contained HTML report: opens offline, no external asset, font, script or link.

It opens with the answer: a summary of every variant's root causes and consequences, then
per variant the causal chain (each root cause with its fix and numbered evidence, the
consequences that follow from it), the sequence of messages of each request drawn as
inline SVG beside the baseline's on one scale (:mod:`harness.report.sequence`,
:mod:`harness.report.svg`) with the first divergence marked, the memo's four steps and
hypotheses; what was ruled out or stays unknown, the published result and the full
timeline are collapsed (``<details>``). Anchors: ``id="vN-verdict-CODE"`` per verdict,
``id="vN-seq-REF"`` on the arrow an evidence item refers to, ``id="vN-REF"`` on its
timeline row; the summary carries one ``id="verdict-CODE"`` per code. Readable without
colour (line styles, marks, hatching, labels), at a phone's width, and on paper.
"""

# ruff: noqa: E501 - the template constant's lines are HTML / CSS, not Python

from __future__ import annotations

from html import escape
from typing import Any

import jinja2

from harness.analysis import FAULT_CODES, HEALTHY, RequestTimeline, clock
from harness.report import i18n
from harness.report.context import ControlView, VariantView
from harness.report.sequence import Panel, Picture, layout
from harness.report.svg import render_svg

STYLE = """
:root{--ink:#1d2327;--muted:#5d6b74;--rule:#cfd8dc;--err:#b3261e;--ok:#1b5e20;--unk:#7a5c00;--hi:#ffca28;--cause:#b3261e;--effect:#6d4c41}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK KR","Apple SD Gothic Neo","Malgun Gothic",sans-serif;color:var(--ink);margin:0 auto;max-width:1500px;padding:1em 1.4em}
h1{font-size:1.55em;margin:.2em 0 .6em}h2{font-size:1.3em;border-bottom:2px solid var(--ink);padding-bottom:.15em;margin-top:1.8em}
h3{font-size:1.08em;margin:1.3em 0 .4em}h4{font-size:1em;margin:.2em 0}
code{font-size:.9em;background:#eceff1;padding:0 .25em;border-radius:3px}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid var(--rule);padding:3px 7px;vertical-align:top;text-align:left}
th{background:#f3f5f6}.wide{overflow-x:auto;max-width:100%}
pre{background:#f6f7f8;padding:.6em;overflow:auto;max-width:100%;font-size:.85em}
a{color:#0b57d0}details{margin:.6em 0;border:1px solid var(--rule);border-radius:4px;padding:.3em .7em}
details>summary{cursor:pointer;font-weight:600}
.status-confirmed{color:var(--err);font-weight:700}.status-ruled_out{color:var(--ok)}.status-unknown{color:var(--unk);font-style:italic}
.pill{display:inline-block;border:1.5px solid currentColor;border-radius:1em;padding:0 .6em;font-size:.8em;vertical-align:middle}
.pill.bad{color:var(--err)}.pill.good{color:var(--ok)}
.answer{border:2px solid var(--ink);border-radius:6px;padding:.4em 1em .7em;background:#fcfcfc}
.answer>h3{margin-top:.3em}
.link{border-left:6px solid var(--cause);padding:.35em .9em;margin:.7em 0;background:#fff}
.link.consequence{border-left:6px dashed var(--effect);margin-left:1.4em}
.role{display:inline-block;font-size:.72em;font-weight:700;letter-spacing:.05em;text-transform:uppercase;border:1.5px solid currentColor;border-radius:3px;padding:0 .35em;margin-right:.45em;color:var(--cause)}
.consequence .role{color:var(--effect)}.fix{margin:.3em 0}.fix b{font-weight:700}
.evidence{font-size:.88em;margin:.2em 0 .2em 1.1em;padding:0}.evidence li{margin:.1em 0;overflow-wrap:anywhere}
.ev{font-weight:700;text-decoration:none;border:1px solid currentColor;border-radius:3px;padding:0 .3em;margin-right:.3em}
.also{font-size:.9em;margin-left:1.4em}
figure{margin:1em 0}.pair{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.panel{flex:1 1 460px;min-width:0}.panel>p{margin:.2em 0;font-weight:600}
.panel.base>p{color:var(--muted)}
.legend{font-size:.82em;color:var(--muted);margin:.3em 0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:.2em 1.2em}
.divergence-note{font-weight:600;color:#6a1b9a}
svg.seq{width:100%;height:auto;display:block;font:13px system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK KR","Malgun Gothic",sans-serif;background:#fff}
svg.seq text{fill:var(--ink);paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.life{stroke:#90a4ae;stroke-width:1.2;stroke-dasharray:5 3}
.head rect{fill:#eceff1;stroke:#37474f;stroke-width:1.2}.head.svc rect{fill:#fff;stroke-dasharray:4 2}.head text{font-weight:700;font-size:11.5px}
.msg .line{stroke:#263238;stroke-width:1.4;fill:none}.msg.answer .line{stroke-dasharray:6 3}
.msg.error .line{stroke:var(--err);stroke-width:2.6}.msg.unknown .line{stroke:#78909c;stroke-dasharray:1.5 3.5;stroke-width:1.6}
svg.seq .msg.error text{fill:var(--err);font-weight:700}svg.seq .msg.unknown text{fill:#455a64;font-style:italic}
marker .head{fill:#263238}marker .open{fill:none;stroke:#263238;stroke-width:1.6}marker .lost{stroke:var(--err);stroke-width:2.2}
.halo{stroke:var(--hi);stroke-width:10;stroke-opacity:.75;fill:var(--hi);fill-opacity:.75}
.badge circle{fill:#263238}svg.seq .badge text{fill:#fff;stroke:none;font-weight:700;font-size:11px}
.dot{fill:#fff;stroke:#263238;stroke-width:1.4}.msg.error .dot{fill:var(--err);stroke:var(--err)}.msg.unknown .dot{stroke-dasharray:2 2}
.idle rect{fill:#eeeeee}svg.seq .idle text{fill:var(--muted);font-style:italic}
.fault rect{stroke:var(--err);stroke-width:1;stroke-dasharray:3 2}.hatch{fill:var(--err);fill-opacity:.5}
svg.seq .fault-text{fill:var(--err);font-size:10px;font-style:italic}
.divergence line{stroke:#6a1b9a;stroke-width:1.6;stroke-dasharray:10 3 2 3}svg.seq .divergence text{fill:#6a1b9a;font-weight:700}
svg.seq .tick{font-size:10.5px;fill:var(--muted)}
g:target .line{stroke-width:4.5}g:target .halo{stroke:#ff6f00;fill:#ff6f00;stroke-opacity:.9}
.key{display:inline-block;width:2.2em;height:0;border-top:2px solid var(--ink);vertical-align:middle;margin-right:.35em}
.key-answer{border-top-style:dashed}.key-unknown{border-top:2px dotted #78909c}.key-error{border-top:3.5px solid var(--err)}
.key-fault{height:.9em;border:1px dashed var(--err);background:repeating-linear-gradient(45deg,rgba(179,38,30,.5) 0 2px,transparent 2px 5px)}
.key-idle{height:.9em;border:0;background:#eeeeee}
tr.status-unknown td{background:#fff8e1}tr.status-error td{background:#ffebee}tr.kind-idle td{color:#888;font-style:italic}
tr:target td{outline:2px solid #0b57d0}
@media (max-width:700px){body{font-size:14px;padding:.5em .7em}.link.consequence{margin-left:.5em}td,th{padding:2px 4px}
.panel{overflow-x:auto}svg.seq{min-width:600px}}
@media print{body{max-width:none;padding:0;font-size:11pt}a{color:inherit;text-decoration:none}section.variant{break-before:page}
figure,.link,tr{break-inside:avoid}.pair{display:block}.panel{margin-bottom:1em}details{border:0;padding:0}}
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t("ui.title", scenario=scenario) }}</title><style>{{ style | safe }}</style></head><body>
<h1>{{ t("ui.title", scenario=scenario) }}</h1>
<section id="summary"><h2>{{ t("ui.summary") }}</h2><div class="wide">
<table><tr><th>{{ t("ui.variant") }}</th><th>{{ t("ui.client_status") }}</th><th>{{ t("ui.root_cause") }} → {{ t("ui.consequence") }}</th></tr>
{% for v in variants %}<tr><td><a href="#{{ v.prefix }}">{{ v.name }}</a></td><td>{{ v.client_status }}</td><td>
{% for link in v.chain %}<a href="#{{ v.prefix }}-verdict-{{ link.view.code }}">{{ link.view.code }}</a>{% for c in link.consequences %} → <a href="#{{ v.prefix }}-verdict-{{ c.view.code }}">{{ c.view.code }}</a>{% endfor %}{% if not loop.last %}; {% endif %}{% else %}-{% endfor %}</td></tr>
{% endfor %}</table></div>
{% for emulator in variants | map(attribute="emulator") | select | unique %}<p class="emulator">{{ t("ui.emulator") }}: {{ emulator }}</p>
{% endfor %}<details class="codes"><summary>{{ t("ui.codes") }}</summary><ul>{% for code, title, links in codes %}<li id="verdict-{{ code }}">{{ code }}: {{ title }}
{% for prefix, status, text in links %}<a class="status-{{ status }}" href="#{{ prefix }}-verdict-{{ code }}" title="{{ text }}">{{ prefix }}</a> {% endfor %}</li>
{% endfor %}</ul></details></section>
{% for v in variants %}<section class="variant" id="{{ v.prefix }}">
<h2>{{ t("ui.variant") }}: {{ v.name }} <span class="pill {{ 'good' if v.client_status == 'SUCCESS' else 'bad' }}">{{ v.client_status }}</span></h2>
<div class="answer"><h3>{{ t("ui.answer") }}</h3>
{% for link in v.chain %}{{ block(v, link, "cause") }}{% else %}<p>{{ healthy[v.index] }}</p>{% endfor %}</div>
{% for fig in figures[v.index] %}<figure class="sequence" id="{{ v.prefix }}-r{{ loop.index }}"><h3>{{ t("ui.sequence") }}: {{ t("ui.request") }} {{ fig.request }}</h3>
<div class="pair">{% for pic, svg, css in fig.panels %}<div class="panel {{ css }}"><p>{{ pic.caption }}</p>{{ svg | safe }}{% if pic.omitted %}<p class="omitted">{{ t("seq.omitted", n=pic.omitted) }}</p>{% endif %}</div>{% endfor %}</div>
{% if fig.divergence %}<p class="divergence-note">{{ t("ui.divergence") }}: {{ fig.divergence }}</p>{% endif %}
<ul class="legend"><li><span class="key"></span>{{ t("legend.call") }}</li><li><span class="key key-answer"></span>{{ t("legend.answer") }}</li><li>{{ t("legend.push") }}</li><li><span class="key key-error"></span>{{ t("legend.error") }}</li><li><span class="key key-unknown"></span>{{ t("legend.unknown") }}</li><li>{{ t("legend.cited") }}</li>{% if fig.faults %}<li><span class="key key-fault"></span>{{ t("legend.fault") }}</li>{% endif %}<li><span class="key key-idle"></span>{{ t("legend.idle") }}</li>{% if fig.divergence %}<li>{{ t("legend.divergence") }}</li>{% endif %}</ul></figure>
{% else %}<p>{{ t("ui.no_sequence") }}</p>{% endfor %}
{% if more[v.index] %}<p>{{ t("ui.more_requests", n=more[v.index]) }}</p>{% endif %}
<h3>{{ t("ui.memo_steps") }}</h3><ol class="memo-steps">
{% for s in v.steps %}<li class="step-{{ s.status }}">{{ s.ts }} - {{ s.text }}{% if s.status == "unknown" %} <span class="status-unknown">[{{ t("status.unknown") }}]</span>{% endif %}</li>{% endfor %}</ol>
{% if v.hypotheses %}<h3>{{ t("ui.hypotheses") }}</h3><div class="wide"><table><tr><th>{{ t("ui.hypothesis") }}</th><th>{{ t("ui.memo_guess") }}</th><th>{{ t("ui.verdict") }}</th><th>{{ t("ui.explanation") }}</th></tr>
{% for h in v.hypotheses %}<tr><td>{{ h.id }} {{ h.title }} (<a href="#{{ v.prefix }}-verdict-{{ h.code }}">{{ h.code }}</a>)</td><td>{{ h.likelihood }}</td><td class="status-{{ h.status }}">{{ h.status_text }}</td><td>{{ h.explanation }}</td></tr>{% endfor %}</table></div>{% endif %}
{% set n = v.counts() %}<details class="others"><summary>{{ t("ui.others", ruled_out=n.ruled_out, unknown=n.unknown) }}</summary><div class="wide"><table><tr><th>{{ t("ui.code") }}</th><th>{{ t("ui.verdict") }}</th><th>{{ t("ui.status") }}</th><th>{{ t("ui.decides") }}</th></tr>
{% for vd in v.others %}<tr id="{{ v.prefix }}-verdict-{{ vd.code }}" class="verdict status-{{ vd.status }}"><td><a href="#verdict-{{ vd.code }}">{{ vd.code }}</a></td><td>{{ vd.title }}</td><td class="status-{{ vd.status }}">{{ vd.status_text }}</td><td>{{ vd.explanation }}</td></tr>{% endfor %}</table></div></details>
<details><summary>{{ t("ui.published") }}</summary>{% if v.published %}<pre>{{ v.published }}</pre>{% else %}<p>{{ t("ui.not_published") }}</p>{% endif %}</details>
{% for r in v.timeline.requests %}<details class="timeline"><summary>{{ t("ui.timeline") }}: {{ t("ui.request") }} {{ r.request_id }} ({{ t("ui.rows", n=r.rows | length) }})</summary><div class="wide"><table class="timeline"><tr><th>{{ t("ui.time") }}</th><th>{{ t("ui.offset") }}</th><th>{{ t("ui.component") }}</th><th>{{ t("ui.event") }}</th><th>{{ t("ui.kind") }}</th><th>{{ t("ui.verdict") }}</th></tr>
{{ rows(v, r) | safe }}</table></div></details>{% endfor %}
</section>{% endfor %}
<section id="expected"><h2>{{ t("ui.expected") }}</h2>{% if control %}<pre>{{ control.log_excerpt | join("\\n") }}</pre><pre>{{ control.response }}</pre>{% else %}<p>{{ t("ui.no_control") }}</p>{% endif %}</section>
<section id="observations"><h2>{{ t("ui.observations") }}</h2><div class="wide"><table><tr><th>{{ t("ui.observation") }}</th><th>{{ t("ui.tells") }}</th>{% for v in variants %}<th>{{ v.name }}</th>{% endfor %}</tr>
{% for o in observations %}<tr><td>{{ o.label }}</td><td>{{ o.tells }}</td>{% for value in o["values"] %}<td>{{ value }}</td>{% endfor %}</tr>{% endfor %}</table></div></section>
</body></html>
"""

BLOCK = """{% macro block(v, link, role) %}<article class="link {{ role }}" id="{{ v.prefix }}-verdict-{{ link.view.code }}">
<h4><span class="role">{{ t("ui.root_cause" if role == "cause" else "ui.consequence") }}</span>{{ link.view.title }} <code>{{ link.view.code }}</code>{% if link.view.caused_by %} <small>({{ t("ui.follows_from", codes=link.view.caused_by | join(", ")) }})</small>{% endif %}</h4>
<p>{{ link.view.explanation }}</p><p class="fix"><b>{{ t("ui.fix") }}:</b> {{ link.view.fix }}</p>
{% if link.evidence %}<ul class="evidence">{% for number, e in link.evidence %}<li>{% set target = targets[v.index].get(e.ref) %}{% if target %}<a class="ev" href="#{{ target }}">{{ number }}</a>{% elif number %}<span class="ev">{{ number }}</span>{% endif %}{{ e.ts }} {{ e.component }} ({{ e.kind }}): {{ e.text }}</li>{% endfor %}</ul>{% endif %}
{% for c in link.consequences %}{% if c.repeated %}<p class="also">→ <a href="#{{ v.prefix }}-verdict-{{ c.view.code }}">{{ c.view.code }}</a></p>{% else %}{{ block(v, c, "consequence") }}{% endif %}{% endfor %}
</article>{% endmacro %}"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_TEMPLATE = _ENV.from_string(BLOCK + TEMPLATE)


def figures(lang: str, view: VariantView) -> list[dict[str, Any]]:
    """The sequence figures of a variant: each request, the first beside its baseline."""
    out = []
    for n, sequence in enumerate(view.sequences):
        status = _status(view, n)
        mine = Panel(
            sequence,
            i18n.t(lang, "ui.this_run", name=view.name, status=status),
            view.timeline.faults,
            view.citations,
            view.prefix,
        )
        panels, divergence = [mine], None
        base = view.baseline if n == 0 else None
        if base is not None and base.sequence is not None:
            key = "ui.control_run" if base.control else "ui.baseline_run"
            caption = i18n.t(lang, key, name=base.name, status=base.client_status)
            theirs = Panel(base.sequence, caption, base.faults)
            found = view.diagnosis.divergence
            if found is not None:
                divergence = found.describe()
                mine.mark_ns = found.failed.ts_ns if found.failed else 0
                theirs.mark_ns = found.baseline.ts_ns if found.baseline else 0
                mine.mark_title = theirs.mark_title = divergence
            panels.append(theirs)
        pictures = layout(panels, lang)
        drawn = [
            (pic, _svg(pic, f"{view.prefix}-r{n}-{k}", view.prefix if k == 0 else ""), css)
            for k, (pic, css) in enumerate(zip(pictures, ("", "base"), strict=False))
        ]
        out.append(
            {
                "request": sequence.request_id,
                "panels": drawn,
                "divergence": divergence,
                "faults": any(p.faults for p in panels),
            }
        )
    return out


def _status(view: VariantView, n: int) -> str:
    requests = view.diagnosis.facts.requests
    return str(requests[n].client_status) if n < len(requests) else view.client_status


def _svg(picture: Picture, uid: str, prefix: str) -> str:
    svg = render_svg(picture, uid, prefix)
    return svg.replace("<svg ", f'<svg style="max-width:{picture.width:.0f}px" ', 1)


def _targets(view: VariantView, figs: list[dict[str, Any]]) -> dict[str, str]:
    """Where each cited ref's link goes: its arrow when drawn, else its timeline row."""
    found: dict[str, str] = {}
    for fig in figs:
        for pic, _, _ in fig["panels"]:
            for arrow in pic.arrows:
                for anchor in arrow.ids:
                    found.setdefault(anchor.removeprefix(f"{view.prefix}-seq-"), anchor)
    for req in view.timeline.requests:
        for row in req.rows:
            if row.ref in view.citations:
                found.setdefault(row.ref, f"{view.prefix}-{row.ref}")
    return found


def timeline_rows(view: VariantView, req: RequestTimeline) -> str:
    """The rows of the full timeline (written directly: a run can have tens of thousands)."""
    out = []
    prefix = view.prefix
    for row in req.rows:
        anchor = f' id="{prefix}-{row.ref}"' if row.ref else ""
        codes = view.cited.get(row.ref, []) if row.ref else []
        links = " ".join(f'<a href="#{prefix}-verdict-{c}">{c}</a>' for c in codes)
        event = escape(f"{row.event} {row.evidence}")
        out.append(
            f'<tr{anchor} class="kind-{row.kind} status-{row.status}"><td>{clock(row.ts_ns)}</td>'
            f"<td>{row.offset_ms:+.1f} ms</td><td>{escape(row.component)}</td><td>{event}</td>"
            f"<td>{row.kind}</td><td>{links}</td></tr>\n"
        )
    return "".join(out)


def _codes(
    lang: str, variants: list[VariantView]
) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    out = []
    for code in (HEALTHY, *FAULT_CODES):
        links = [
            (v.prefix, vd.status, vd.status_text)
            for v in variants
            for vd in v.verdicts
            if vd.code == code
        ]
        out.append((code, i18n.t(lang, f"verdict.{code}.title"), links))
    return out


def _healthy(lang: str, view: VariantView) -> str:
    healthy = next((v for v in view.verdicts if v.code == HEALTHY), None)
    if healthy is not None and healthy.status == "confirmed":
        return f"{healthy.title}: {healthy.explanation}"
    return i18n.t(lang, "ui.no_cause")


def render_html(
    scenario: str,
    variants: list[VariantView],
    observations: list[dict[str, Any]],
    control: ControlView | None,
    lang: str = "en",
) -> str:
    figs = {v.index: figures(lang, v) for v in variants}
    return _TEMPLATE.render(
        lang=lang,
        scenario=scenario,
        style=STYLE,
        variants=variants,
        figures=figs,
        targets={v.index: _targets(v, figs[v.index]) for v in variants},
        more={v.index: max(len(v.timeline.requests) - len(v.sequences), 0) for v in variants},
        healthy={v.index: _healthy(lang, v) for v in variants},
        codes=_codes(lang, variants),
        observations=observations,
        control=control,
        rows=timeline_rows,
        t=lambda key, **params: i18n.t(lang, key, **params),
    )
