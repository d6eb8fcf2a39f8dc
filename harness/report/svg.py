"""A laid-out sequence diagram (:class:`~harness.report.sequence.Picture`) as inline SVG.

No script and no external reference: the page's stylesheet styles it by class (``msg`` and
its kind ``call``/``answer``/``push``/``note`` and outcome ``ok``/``error``/``unknown``,
``cited``, ``fault``, ``idle``, ``divergence``). Nothing is told by colour alone: an
answer is dashed, an unknown outcome dotted and marked ``?``, a failure thick and marked
``✕``, an injected fault hatched and labelled, cited evidence numbered. Each cited message
is wrapped in elements whose ids are the answer's evidence links (``v1-seq-log-17``), and
links back to the verdict citing it.
"""

from __future__ import annotations

from html import escape

from harness.analysis.sequence import Kind, Outcome
from harness.report.sequence import (
    CHAR_PX,
    GUTTER_PX,
    HEAD_PX,
    LANE_PX,
    SERVICES,
    Arrow,
    Band,
    Picture,
)


def render_svg(picture: Picture, uid: str, prefix: str = "") -> str:
    """The SVG of ``picture``; ``uid`` makes its markers' ids unique in the page and
    ``prefix`` (``v1``) is the variant whose verdicts a cited message links to."""
    w, h = picture.width, picture.height
    out = [
        f'<svg class="seq" viewBox="0 0 {w:.0f} {h:.0f}" width="{w:.0f}" height="{h:.0f}" '
        f'role="img" aria-label="{escape(picture.caption)}"><title>{escape(picture.caption)}'
        f"</title>{_defs(uid)}"
    ]
    out += [_band(b, uid) for b in picture.bands]
    out += _lifelines(picture)
    out += [
        f'<text class="tick" x="4" y="{y + 3:.1f}">{escape(t)}</text>' for y, t in picture.ticks
    ]
    out += [_arrow(a, uid, w, prefix) for a in picture.arrows]
    for y, text, title in picture.marks:
        out.append(
            f'<g class="divergence"><title>{escape(title)}</title><line x1="{GUTTER_PX - 4}" '
            f'x2="{w - 4:.0f}" y1="{y:.1f}" y2="{y:.1f}"/><text x="{w - 6:.0f}" y="{y - 3:.1f}" '
            f'text-anchor="end">{escape(text)}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


def _defs(uid: str) -> str:
    head = "M0,0 L10,5 L0,10 z"
    return (
        "<defs>"
        f'<marker id="{uid}-call" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path class="head" d="{head}"/></marker>'
        f'<marker id="{uid}-open" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
        f'markerHeight="9" orient="auto-start-reverse"><path class="open" d="M0,0 L10,5 L0,10"/>'
        "</marker>"
        f'<marker id="{uid}-lost" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="10" '
        f'markerHeight="10"><path class="lost" d="M1,1 L9,9 M9,1 L1,9"/></marker>'
        f'<pattern id="{uid}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect class="hatch" width="2.5" height="6"/></pattern>'
        "</defs>"
    )


def _band(band: Band, uid: str) -> str:
    box = f'x="{band.x:.1f}" y="{band.y:.1f}" width="{band.width:.1f}" height="{band.height:.1f}"'
    if band.css == "idle":
        mid = band.y + band.height / 2 + 4
        return (
            f'<g class="idle"><rect {box}/><text x="{band.x + band.width / 2:.0f}" y="{mid:.1f}" '
            f'text-anchor="middle">≈ {escape(band.text)} ≈</text></g>'
        )
    label = (
        f'<text class="fault-text" x="{band.x + band.width + 3:.1f}" y="{band.y + 10:.1f}">'
        f"{escape(band.text)}</text>"
        if band.text
        else ""
    )
    return (
        f'<g class="fault"><title>{escape(band.text)}</title><rect {box} '
        f'fill="url(#{uid}-hatch)"/>{label}</g>'
    )


def _lifelines(picture: Picture) -> list[str]:
    out = []
    for name, shown, x in picture.lifelines:
        css = "svc" if name in SERVICES else "comp"
        out.append(
            f'<line class="life" data-lifeline="{escape(name)}" x1="{x:.1f}" x2="{x:.1f}" '
            f'y1="{HEAD_PX - 6}" y2="{picture.bottom:.1f}"/>'
        )
        for top in (6.0, picture.bottom):
            out.append(
                f'<g class="head {css}"><rect x="{x - LANE_PX / 2 + 5:.1f}" y="{top:.1f}" '
                f'width="{LANE_PX - 10}" height="{HEAD_PX - 12}" rx="4"/><text x="{x:.1f}" '
                f'y="{top + 18:.1f}" text-anchor="middle">{escape(shown)}</text></g>'
            )
    return out


def _arrow(arrow: Arrow, uid: str, width: float, prefix: str) -> str:
    m = arrow.message
    text_px = len(arrow.text) * CHAR_PX * (1.12 if m.outcome is Outcome.ERROR else 1.0)  # bold
    body = (
        _note(arrow, width, text_px) if m.kind is Kind.NOTE else _line(arrow, uid, width, text_px)
    )
    if arrow.badges:
        body += _badges(arrow, width, text_px)
    out = f'<g class="{arrow.css}"><title>{escape(arrow.title)}</title>{body}</g>'
    if arrow.codes and prefix:
        out = f'<a href="#{prefix}-verdict-{arrow.codes[0]}">{out}</a>'
    for anchor in arrow.ids:
        out = f'<g id="{escape(anchor)}">{out}</g>'
    return out


def _line(arrow: Arrow, uid: str, width: float, text_px: float) -> str:
    m, y = arrow.message, arrow.y
    lost = m.outcome is Outcome.ERROR and m.kind is Kind.CALL and bool(m.word)
    marker = "lost" if lost else ("call" if m.kind is Kind.CALL else "open")
    line = f'x1="{arrow.x1:.1f}" x2="{arrow.x2:.1f}" y1="{y:.1f}" y2="{y:.1f}"'
    halo = f'<line class="halo" {line}/>' if arrow.badges else ""
    mid = min(max(arrow.label_x, GUTTER_PX + text_px / 2), width - 4 - text_px / 2)
    return (
        f'{halo}<line class="line" {line} marker-end="url(#{uid}-{marker})"/>'
        f'<text x="{mid:.1f}" y="{y - 5:.1f}" text-anchor="middle">{escape(arrow.text)}</text>'
    )


def _note(arrow: Arrow, width: float, text_px: float) -> str:
    x, y = arrow.x1, arrow.y
    left = x + 10 + text_px > width - 4
    tx, anchor = (x - 10, "end") if left else (x + 10, "start")
    halo = f'<rect class="halo" x="{x - 8:.1f}" y="{y - 8:.1f}" width="16" height="16"/>'
    return (
        f'{halo if arrow.badges else ""}<rect class="dot" x="{x - 5:.1f}" y="{y - 5:.1f}" '
        f'width="10" height="10"/><text x="{tx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}">'
        f"{escape(arrow.text)}</text>"
    )


def _badges(arrow: Arrow, width: float, text_px: float) -> str:
    """The cited evidence's numbers, after the message's words (before them when the words
    of a note on a right-hand lifeline run leftwards)."""
    step = 18.0
    if arrow.message.kind is Kind.NOTE:
        cy = arrow.y
        leftwards = arrow.x1 + 10 + text_px > width - 4
        x = arrow.x1 - 10 - text_px - 12 if leftwards else arrow.x1 + 10 + text_px + 12
        step = -step if leftwards else step
    else:
        cy = arrow.y - 9
        mid = min(max(arrow.label_x, GUTTER_PX + text_px / 2), width - 4 - text_px / 2)
        x = min(mid + text_px / 2 + 12, width - 10 - step * (len(arrow.badges) - 1))
    out = []
    for n, number in enumerate(arrow.badges):
        cx = x + step * n
        out.append(
            f'<g class="badge"><circle cx="{cx:.1f}" cy="{cy:.1f}" r="8.5"/>'
            f'<text x="{cx:.1f}" y="{cy + 3.5:.1f}" text-anchor="middle">{number}</text></g>'
        )
    return "".join(out)
